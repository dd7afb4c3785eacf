// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <utility>

namespace procfsd {

// Who holds the daemon's open handles (files and directories, one source descriptor each),
// across all of its mounts: the one owner of that count, so that no caller can take the
// descriptors other callers need.
//
// Each caller (by uid: the kernel's fsuid of the request) may hold at most a quarter of the
// handles. The last eighth is a reserve that only callers holding few handles may draw on: once
// the shared part is full, the greedy are refused (EMFILE) and everyone else still opens. A uid
// is the unit because it is what the kernel itself accounts by (RLIMIT_NPROC, inotify, keys);
// a user with many uids (a subordinate range) may fill the shared part, never the reserve.
class HandleQuota {
public:
    // `capacity`: how many handles the daemon may hold, asked on every take() (cheap: the
    // descriptor budget reads its limit once).
    explicit HandleQuota(std::function<size_t()> capacity);

    class Charge;
    // One handle for `uid`, before its descriptor is opened; check Charge::ok() (false: EMFILE,
    // it may not hold more).
    [[nodiscard]] Charge charge(uid_t uid);

    struct Limits {
        size_t capacity;  // all handles
        size_t per_uid;   // what one uid may hold
        size_t shared;    // what may be held before the reserve
        size_t few;       // a uid holding less may draw on the reserve
    };
    [[nodiscard]] static Limits limits_for(size_t capacity) noexcept;

    [[nodiscard]] size_t held() const;
    [[nodiscard]] size_t held_by(uid_t uid) const;

private:
    bool take(uid_t uid);
    void give_back(uid_t uid) noexcept;

    std::function<size_t()> capacity_;
    mutable std::mutex mu_; // guards held_ and by_uid_
    size_t held_ = 0;
    std::unordered_map<uid_t, size_t> by_uid_;
};

// One handle charged to a uid, given back when this goes: kept by the handle table for as long
// as the handle is open, or dropped on the error path that opened nothing.
class HandleQuota::Charge {
public:
    Charge() = default;
    Charge(Charge&& other) noexcept : quota_(std::exchange(other.quota_, nullptr)), uid_(other.uid_) {}
    Charge& operator=(Charge&& other) noexcept
    {
        if (this != &other) {
            reset();
            quota_ = std::exchange(other.quota_, nullptr);
            uid_ = other.uid_;
        }
        return *this;
    }
    Charge(const Charge&) = delete;
    Charge& operator=(const Charge&) = delete;
    ~Charge() { reset(); }

    [[nodiscard]] bool ok() const noexcept { return quota_ != nullptr; }
    void reset() noexcept
    {
        if (quota_)
            std::exchange(quota_, nullptr)->give_back(uid_);
    }

private:
    friend class HandleQuota;
    Charge(HandleQuota* quota, uid_t uid) noexcept : quota_(quota), uid_(uid) {}

    HandleQuota* quota_ = nullptr;
    uid_t uid_ = 0;
};

} // namespace procfsd
