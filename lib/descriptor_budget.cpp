// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/descriptor_budget.hpp"

#include <sys/resource.h>

#include <algorithm>

namespace procfsd {

DescriptorBudget descriptor_budget_for(size_t limit) noexcept
{
    DescriptorBudget b;
    b.limit = limit;
    b.pidfds = std::max<size_t>(32, limit / 2);
    b.handles = std::max<size_t>(32, limit / 4);
    b.polls = std::max<size_t>(16, limit / 8);
    return b;
}

DescriptorBudget descriptor_budget() noexcept
{
    struct rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) != 0)
        rl.rlim_cur = 1024;
    return descriptor_budget_for(static_cast<size_t>(rl.rlim_cur));
}

} // namespace procfsd
