// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/proc_files.hpp"

#include <algorithm>
#include <array>

namespace procfsd {

namespace {

// The files tools read most (free, top, uptime, vmstat, ps, lscpu, iostat). Left out on purpose,
// since the kernel answers them per reader: kallsyms, modules and timer_list (%pK addresses
// depend on the reader's CAP_SYSLOG), keys and key-users (the reader's keyrings), iomem and
// ioports (zeroed without CAP_SYS_ADMIN), kcore, kmsg, slabinfo, vmallocinfo, pagetypeinfo
// (0400), and anything this list does not know. Namespaced content (uptime's time namespace,
// version's UTS namespace, swaps' paths) is the daemon's view either way: credentials do not
// carry namespaces.
constexpr std::array alike_for_everyone = {
    std::string_view{"buddyinfo"}, std::string_view{"cgroups"},    std::string_view{"cmdline"},
    std::string_view{"consoles"},  std::string_view{"cpuinfo"},    std::string_view{"crypto"},
    std::string_view{"devices"},   std::string_view{"diskstats"},  std::string_view{"execdomains"},
    std::string_view{"filesystems"}, std::string_view{"interrupts"}, std::string_view{"loadavg"},
    std::string_view{"meminfo"},   std::string_view{"misc"},       std::string_view{"partitions"},
    std::string_view{"schedstat"}, std::string_view{"softirqs"},   std::string_view{"stat"},
    std::string_view{"swaps"},     std::string_view{"uptime"},     std::string_view{"version"},
    std::string_view{"vmstat"},    std::string_view{"zoneinfo"},
};

static_assert(std::is_sorted(alike_for_everyone.begin(), alike_for_everyone.end()));

} // namespace

bool read_alike_by_everyone(std::string_view name) noexcept
{
    return std::binary_search(alike_for_everyone.begin(), alike_for_everyone.end(), name);
}

} // namespace procfsd
