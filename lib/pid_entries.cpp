// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/pid_entries.hpp"

#include <array>

namespace procfsd {

namespace {

constexpr auto A = Access::anyone;
constexpr auto K = Access::kernel;
constexpr auto P = Lifetime::process;
constexpr auto V = Lifetime::volatile_;
constexpr auto S = Lifetime::short_;
constexpr auto E = NodeKind::pid_entry;

// In tgid_base_stuff order. "anyone" only for world-readable files whose content the kernel
// gives every reader alike (fs/proc/base.c, array.c); stat, wchan, io and the like hide fields
// or refuse without ptrace access, so they are "kernel".
constexpr std::array pid_entries{
    PidEntry{"task", NodeKind::task_dir, A, P},
    PidEntry{"fd", E, K, V, true, true},
    PidEntry{"map_files", E, K, V, true, true},
    PidEntry{"fdinfo", E, K, V, false, true},
    PidEntry{"ns", E, K, P, false, true},
    // net/: %pK socket addresses (unix, netlink, packet, tcp...) show per reader under
    // kptr_restrict=1, and some files are 0440.
    PidEntry{"net", E, K, S},
    PidEntry{"environ", E, K, P, false, true},
    PidEntry{"auxv", E, K, P, false, true},
    PidEntry{"status", E, A, P},
    PidEntry{"personality", E, K, P, false, true},
    PidEntry{"limits", E, A, P},
    PidEntry{"sched", E, A, P},
    PidEntry{"autogroup", E, A, P},
    PidEntry{"timens_offsets", E, A, P},
    PidEntry{"comm", E, A, P},
    PidEntry{"syscall", E, K, P, false, true},
    PidEntry{"cmdline", E, A, P},
    PidEntry{"stat", E, K, P, false, false, true},
    PidEntry{"statm", E, A, P},
    PidEntry{"maps", E, K, P, false, true},
    PidEntry{"children", E, A, P},
    PidEntry{"numa_maps", E, K, P, false, true},
    PidEntry{"mem", E, K, P, false, true},
    PidEntry{"cwd", E, K, P, false, true},
    PidEntry{"root", E, K, P, false, true},
    PidEntry{"exe", E, K, P, false, true},
    PidEntry{"mounts", E, A, P},
    PidEntry{"mountinfo", E, A, P},
    PidEntry{"mountstats", E, K, P},
    PidEntry{"clear_refs", E, K, P},
    PidEntry{"smaps", E, K, P, false, true},
    PidEntry{"smaps_rollup", E, K, P, false, true},
    PidEntry{"pagemap", E, K, P, false, true},
    PidEntry{"attr", E, K, P},
    PidEntry{"wchan", E, K, P, false, false, true},
    PidEntry{"stack", E, K, P, false, true},
    PidEntry{"schedstat", E, A, P},
    PidEntry{"latency", E, A, P},
    PidEntry{"cpuset", E, A, P},
    PidEntry{"cgroup", E, A, P},
    PidEntry{"cpu_resctrl_groups", E, A, P},
    PidEntry{"oom_score", E, A, P},
    PidEntry{"oom_adj", E, A, P},
    PidEntry{"oom_score_adj", E, A, P},
    PidEntry{"loginuid", E, A, P},
    PidEntry{"sessionid", E, A, P},
    PidEntry{"make-it-fail", E, A, P},
    PidEntry{"fail-nth", E, K, P},
    PidEntry{"coredump_filter", E, A, P},
    PidEntry{"io", E, K, P, false, true},
    PidEntry{"uid_map", E, A, P},
    PidEntry{"gid_map", E, A, P},
    PidEntry{"projid_map", E, A, P},
    PidEntry{"setgroups", E, A, P},
    PidEntry{"timers", E, K, P, false, true},
    PidEntry{"timerslack_ns", E, K, P, false, false, false, true},
    PidEntry{"patch_state", E, K, P},
    PidEntry{"stack_depth", E, A, P},
    PidEntry{"arch_status", E, A, P},
    PidEntry{"seccomp_cache", E, K, P},
    PidEntry{"ksm_merging_pages", E, K, P},
    PidEntry{"ksm_stat", E, K, P},
};

constexpr PidEntry unknown_entry{"", E, K, P};

} // namespace

const PidEntry& find_pid_entry(std::string_view name) noexcept
{
    for (auto& e : pid_entries)
        if (e.name == name)
            return e;
    return unknown_entry;
}

} // namespace procfsd
