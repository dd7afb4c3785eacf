// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <mutex>
#include <unordered_map>

#include "procfsd/handle_quota.hpp"

namespace procfsd {

// The open files (or directories) of one mount, by FUSE handle id. A request holds a handle's
// object for as long as it runs, so that a RELEASE racing with an interrupted READ cannot free
// it under the reader; what is still open when the connection dies (no RELEASE comes then) is
// freed with clear(). Each is charged to its caller in the daemon's HandleQuota before its
// source is opened, so that a caller that opens without closing exhausts its own share (EMFILE),
// never the descriptors other callers need; the table keeps the charge until the handle goes.
template <typename T>
class HandleTable {
public:
    // Returns the new handle id.
    [[nodiscard]] uint64_t add(std::shared_ptr<T> object, HandleQuota::Charge charge)
    {
        std::lock_guard lock(mu_);
        uint64_t id = next_++;
        held_.emplace(id, Held{std::move(charge), std::move(object)});
        return id;
    }

    // A handle a previous server gave, opened again under its id.
    void add_as(uint64_t id, std::shared_ptr<T> object, HandleQuota::Charge charge)
    {
        std::lock_guard lock(mu_);
        held_.insert_or_assign(id, Held{std::move(charge), std::move(object)});
        next_ = std::max(next_, id + 1);
    }
    // New handles get ids above `id` (a previous server's, still open in the kernel).
    void reserve_past(uint64_t id)
    {
        std::lock_guard lock(mu_);
        next_ = std::max(next_, id + 1);
    }

    [[nodiscard]] std::shared_ptr<T> get(uint64_t id) const
    {
        std::lock_guard lock(mu_);
        auto it = held_.find(id);
        return it == held_.end() ? nullptr : it->second.object;
    }

    void remove(uint64_t id)
    {
        Held dropped; // destroyed outside the lock (closes a descriptor, then gives back its charge)
        std::lock_guard lock(mu_);
        auto it = held_.find(id);
        if (it == held_.end())
            return;
        dropped = std::move(it->second);
        held_.erase(it);
    }

    void clear()
    {
        std::unordered_map<uint64_t, Held> dropped;
        std::lock_guard lock(mu_);
        dropped.swap(held_);
    }

private:
    struct Held {
        HandleQuota::Charge charge; // given back after the object's descriptor is closed
        std::shared_ptr<T> object;
    };
    mutable std::mutex mu_; // guards held_ and next_
    std::unordered_map<uint64_t, Held> held_;
    uint64_t next_ = 1;
};

} // namespace procfsd
