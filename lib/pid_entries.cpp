// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/pid_entries.hpp"

#include <array>

namespace procfsd
{

namespace
{

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
    PidEntry{.name = "fd",
             .kind = E,
             .access = K,
             .children = V,
             .own_process_enters = true,
             .ptrace_gated = true,
             .listed_by_mode = true},
    PidEntry{.name = "map_files",
             .kind = E,
             .access = K,
             .children = V,
             .own_process_enters = true,
             .ptrace_gated = true},
    PidEntry{.name = "fdinfo", .kind = E, .access = K, .children = V, .ptrace_gated = true},
    PidEntry{.name = "ns", .kind = E, .access = K, .children = P, .ptrace_gated = true},
    // net/: %pK socket addresses (unix, netlink, packet, tcp...) show per reader under
    // kptr_restrict=1, and some files are 0440.
    PidEntry{"net", E, K, S},
    PidEntry{.name = "environ", .kind = E, .access = K, .children = P, .ptrace_gated = true},
    PidEntry{.name = "auxv", .kind = E, .access = K, .children = P, .ptrace_gated = true},
    PidEntry{"status", E, A, P},
    PidEntry{.name = "personality", .kind = E, .access = K, .children = P, .ptrace_gated = true},
    PidEntry{"limits", E, A, P},
    PidEntry{"sched", E, A, P},
    PidEntry{"autogroup", E, A, P},
    PidEntry{"timens_offsets", E, A, P},
    PidEntry{"comm", E, A, P},
    PidEntry{.name = "syscall", .kind = E, .access = K, .children = P, .ptrace_gated = true},
    PidEntry{"cmdline", E, A, P},
    PidEntry{.name = "stat", .kind = E, .access = K, .children = P, .ptrace_zeroes = true},
    PidEntry{"statm", E, A, P},
    PidEntry{.name = "maps", .kind = E, .access = K, .children = P, .ptrace_gated = true},
    PidEntry{"children", E, A, P},
    PidEntry{.name = "numa_maps", .kind = E, .access = K, .children = P, .ptrace_gated = true},
    PidEntry{.name = "mem", .kind = E, .access = K, .children = P, .ptrace_gated = true},
    PidEntry{.name = "cwd", .kind = E, .access = K, .children = P, .ptrace_gated = true},
    PidEntry{.name = "root", .kind = E, .access = K, .children = P, .ptrace_gated = true},
    PidEntry{.name = "exe", .kind = E, .access = K, .children = P, .ptrace_gated = true},
    PidEntry{"mounts", E, A, P},
    PidEntry{"mountinfo", E, A, P},
    PidEntry{"mountstats", E, K, P},
    PidEntry{"clear_refs", E, K, P},
    PidEntry{.name = "smaps", .kind = E, .access = K, .children = P, .ptrace_gated = true},
    PidEntry{.name = "smaps_rollup", .kind = E, .access = K, .children = P, .ptrace_gated = true},
    PidEntry{.name = "pagemap", .kind = E, .access = K, .children = P, .ptrace_gated = true},
    PidEntry{"attr", E, K, P},
    PidEntry{.name = "wchan", .kind = E, .access = K, .children = P, .ptrace_zeroes = true},
    PidEntry{.name = "stack", .kind = E, .access = K, .children = P, .ptrace_gated = true},
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
    PidEntry{.name = "io", .kind = E, .access = K, .children = P, .ptrace_gated = true},
    PidEntry{"uid_map", E, A, P},
    PidEntry{"gid_map", E, A, P},
    PidEntry{"projid_map", E, A, P},
    PidEntry{"setgroups", E, A, P},
    PidEntry{.name = "timers", .kind = E, .access = K, .children = P, .ptrace_gated = true},
    PidEntry{.name = "timerslack_ns",
             .kind = E,
             .access = K,
             .children = P,
             .own_thread_may_nice = true},
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
