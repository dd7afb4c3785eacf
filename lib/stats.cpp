// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/stats.hpp"

#include <bit>

namespace procfsd {

std::string_view op_name(Op op) noexcept
{
    static constexpr std::array<std::string_view, static_cast<size_t>(Op::count_)> names{
        "init",  "lookup",     "forget",  "getattr", "setattr", "readlink", "open",   "read",  "write",
        "release", "opendir", "readdir", "readdirplus", "releasedir", "statfs", "access", "other"};
    return names[static_cast<size_t>(op)];
}

void Stats::record_reap_latency(std::chrono::steady_clock::duration d) noexcept
{
    auto us = static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(d).count());
    size_t bucket = us == 0 ? 0 : static_cast<size_t>(std::bit_width(us));
    if (bucket >= reap_latency_us.size())
        bucket = reap_latency_us.size() - 1;
    reap_latency_us[bucket].fetch_add(1, std::memory_order_relaxed);
    reap_latency_sum_us.fetch_add(us, std::memory_order_relaxed);
}

} // namespace procfsd
