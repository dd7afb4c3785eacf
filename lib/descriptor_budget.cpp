// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/descriptor_budget.hpp"

#include <sys/resource.h>

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>

#include "procfsd/sys.hpp"

namespace procfsd {

DescriptorBudget descriptor_budget_for(size_t limit) noexcept
{
    DescriptorBudget b;
    b.limit = limit;
    b.pidfds = std::max<size_t>(32, limit / 2);
    b.handles = std::max<size_t>(32, limit / 4);
    b.polls = std::max<size_t>(16, limit / 8);
    b.kept = std::min<size_t>(8192, std::max<size_t>(16, limit / 32));
    return b;
}

namespace {

std::atomic<size_t> known_limit{0}; // 0 until read

size_t read_limit() noexcept
{
    struct rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024;
    return static_cast<size_t>(rl.rlim_cur);
}

} // namespace

DescriptorBudget descriptor_budget() noexcept
{
    size_t limit = known_limit.load(std::memory_order_relaxed);
    if (limit == 0)
        known_limit.store(limit = read_limit(), std::memory_order_relaxed);
    return descriptor_budget_for(limit);
}

void raise_descriptor_limit()
{
    struct rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &rl) != 0)
            spdlog::warn("setrlimit RLIMIT_NOFILE: {}", sys::errno_name(errno));
    }
    known_limit.store(read_limit(), std::memory_order_relaxed);
}

} // namespace procfsd
