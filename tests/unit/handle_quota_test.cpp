// SPDX-License-Identifier: GPL-2.0-or-later
#include <catch2/catch_test_macros.hpp>

#include <vector>

#include "procfsd/descriptor_budget.hpp"
#include "procfsd/handle_quota.hpp"

using procfsd::HandleQuota;

namespace {

// Takes charges for `uid` until refused; returns them (they are held while the vector lives).
std::vector<HandleQuota::Charge> take_all(HandleQuota& q, uid_t uid)
{
    std::vector<HandleQuota::Charge> held;
    for (;;) {
        auto c = q.charge(uid);
        if (!c.ok())
            return held;
        held.push_back(std::move(c));
    }
}

} // namespace

TEST_CASE("one uid holds at most its share of the daemon's handles", "[quota]")
{
    HandleQuota q([] { return size_t{1000}; });
    auto greedy = take_all(q, 1000);
    CHECK(greedy.size() == HandleQuota::limits_for(1000).per_uid);
    CHECK(q.held_by(1000) == greedy.size());
    // Others are not affected.
    auto other = q.charge(2000);
    CHECK(other.ok());
    CHECK(q.held() == greedy.size() + 1);
}

TEST_CASE("a full daemon refuses the greedy and keeps a reserve for callers that hold few",
          "[quota]")
{
    HandleQuota q([] { return size_t{1000}; });
    auto l = HandleQuota::limits_for(1000);
    std::vector<std::vector<HandleQuota::Charge>> greedy;
    for (uid_t uid = 100; q.held() < l.shared; ++uid)
        greedy.push_back(take_all(q, uid));
    CHECK(q.held() <= l.shared + l.few);
    // Every greedy uid is refused now, however little it holds...
    for (uid_t uid = 100; uid < 100 + greedy.size(); ++uid)
        CHECK_FALSE(q.charge(uid).ok());
    // ...while a caller holding nothing still gets `few` handles from the reserve.
    auto light = take_all(q, 5000);
    CHECK(light.size() == l.few);
    CHECK(q.held() <= l.capacity);
}

TEST_CASE("charges are given back when they go, also those of refused opens", "[quota]")
{
    HandleQuota q([] { return size_t{64}; });
    {
        auto held = take_all(q, 1);
        CHECK(q.held() == held.size());
        HandleQuota::Charge moved = std::move(held.front());
        CHECK(q.held() == held.size());
    }
    CHECK(q.held() == 0);
    CHECK(q.held_by(1) == 0);
    auto c = q.charge(1);
    c.reset();
    c.reset();
    CHECK(q.held() == 0);
}

TEST_CASE("the descriptor shares leave the daemon a part of its own", "[quota]")
{
    for (size_t limit : {1024u, 20000u, 1u << 20}) {
        auto b = procfsd::descriptor_budget_for(limit);
        CHECK(b.pidfds + b.handles + b.polls <= limit - limit / 8);
        CHECK(b.handles >= limit / 4);
    }
}
