// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/handle_quota.hpp"

#include <algorithm>

namespace procfsd {

HandleQuota::HandleQuota(std::function<size_t()> capacity) : capacity_(std::move(capacity)) {}

HandleQuota::Limits HandleQuota::limits_for(size_t capacity) noexcept
{
    Limits l{};
    l.capacity = capacity;
    l.per_uid = std::max<size_t>(1, capacity / 4);
    l.shared = capacity - capacity / 8;
    l.few = std::clamp<size_t>(capacity / 256, 4, 64);
    return l;
}

HandleQuota::Charge HandleQuota::charge(uid_t uid)
{
    return take(uid) ? Charge(this, uid) : Charge();
}

bool HandleQuota::take(uid_t uid)
{
    Limits l = limits_for(capacity_());
    std::lock_guard lock(mu_);
    size_t& mine = by_uid_[uid];
    bool room = mine < l.per_uid && (held_ < l.shared || (mine < l.few && held_ < l.capacity));
    if (!room) {
        if (mine == 0)
            by_uid_.erase(uid);
        return false;
    }
    ++mine;
    ++held_;
    return true;
}

void HandleQuota::give_back(uid_t uid) noexcept
{
    std::lock_guard lock(mu_);
    auto it = by_uid_.find(uid);
    if (it == by_uid_.end())
        return;
    --held_;
    if (--it->second == 0)
        by_uid_.erase(it);
}

size_t HandleQuota::held() const
{
    std::lock_guard lock(mu_);
    return held_;
}

size_t HandleQuota::held_by(uid_t uid) const
{
    std::lock_guard lock(mu_);
    auto it = by_uid_.find(uid);
    return it == by_uid_.end() ? 0 : it->second;
}

} // namespace procfsd
