// SPDX-License-Identifier: GPL-2.0-or-later
// The kernel's tree as rows (procfsd/entry.hpp says what a row holds).
#include <algorithm>
#include <array>
#include <iterator>

#include "procfsd/entry.hpp"
#include "procfsd/entry_content.hpp"
#include "procfsd/resource_content.hpp"

namespace procfsd {

namespace {

using enum Lifetime;

// A file at the top of /proc that tools read most (free, top, uptime, vmstat, ps, lscpu,
// iostat) and that the kernel serves alike to every reader. Left out on purpose, since the
// kernel answers them per reader: kallsyms, modules and timer_list (%pK addresses depend on the
// reader's CAP_SYSLOG), key-users, iomem and ioports (zeroed without CAP_SYS_ADMIN), kcore,
// kmsg, slabinfo, vmallocinfo, pagetypeinfo (0400), and anything this table does not know.
// Namespaced content (uptime's time namespace, version's UTS namespace, swaps' paths) is the
// daemon's view either way: credentials do not carry namespaces.
constexpr Entry top_file(std::string_view name)
{
    return {.name = name, .kind = NodeKind::proc_entry, .flags = alike, .lifetime = short_,
            .children = short_};
}

constexpr std::array root_rows{
    Entry{.name = "self", .kind = NodeKind::self_link},
    Entry{.name = "thread-self", .kind = NodeKind::thread_self},
    // The kernel judges possession by the opener's keyrings, which are the daemon's.
    Entry{.name = "keys", .kind = NodeKind::proc_entry, .lifetime = short_, .children = short_,
          .filter = keys_for_caller},
    top_file("buddyinfo"),   top_file("cgroups"),    top_file("cmdline"),
    top_file("consoles"),    top_file("cpuinfo"),    top_file("crypto"),
    top_file("devices"),     top_file("diskstats"),  top_file("execdomains"),
    top_file("filesystems"), top_file("interrupts"), top_file("loadavg"),
    top_file("meminfo"),     top_file("misc"),       top_file("partitions"),
    top_file("schedstat"),   top_file("softirqs"),   top_file("stat"),
    top_file("swaps"),       top_file("uptime"),     top_file("version"),
    top_file("vmstat"),      top_file("zoneinfo"),
    // Its files take triggers (writes, then poll), checked by the kernel for each caller.
    Entry{.name = "pressure", .kind = NodeKind::proc_entry, .lifetime = short_, .children = short_},
};

// In tgid_base_stuff order. `alike` only for world-readable files whose content the kernel
// gives every reader alike (fs/proc/base.c, array.c); stat, wchan, io and the like hide fields
// or refuse without ptrace access, so the kernel checks them for each caller.
constexpr std::array pid_rows{
    Entry{.name = "task", .kind = NodeKind::task_dir, .flags = alike},
    Entry{.name = "fd",
          .flags = own_process_enters | ptrace_gated | listed_by_mode | resolves_link_texts,
          .children = volatile_},
    Entry{.name = "map_files", .flags = own_process_enters | ptrace_gated, .children = volatile_},
    Entry{.name = "fdinfo", .flags = ptrace_gated | searched_by_ptrace, .children = volatile_},
    // Listed by its mode (proc_ns_dir_readdir); its links are ptrace-gated (proc_ns_get_link).
    Entry{.name = "ns", .flags = ptrace_gated | listed_by_mode | resolves_link_texts},
    // net/: %pK socket addresses (unix, netlink, packet, tcp...) show per reader under
    // kptr_restrict=1, and some files are 0440.
    Entry{.name = "net", .children = short_},
    Entry{.name = "environ", .flags = ptrace_gated},
    Entry{.name = "auxv", .flags = ptrace_gated},
    Entry{.name = "status", .flags = alike, .by_itself = status_read_by_itself},
    Entry{.name = "personality", .flags = ptrace_gated},
    Entry{.name = "limits", .flags = alike},
    Entry{.name = "sched", .flags = alike},
    Entry{.name = "autogroup", .flags = alike},
    Entry{.name = "timens_offsets", .flags = alike},
    Entry{.name = "comm", .flags = alike | group_writes},
    Entry{.name = "syscall", .flags = ptrace_gated},
    Entry{.name = "cmdline", .flags = alike},
    Entry{.name = "stat", .flags = ptrace_zeroes, .unpermitted = stat_without_ptrace,
          .by_itself = stat_read_by_itself},
    Entry{.name = "statm", .flags = alike},
    Entry{.name = "maps", .flags = ptrace_gated},
    Entry{.name = "children", .flags = alike},
    Entry{.name = "numa_maps", .flags = ptrace_gated},
    Entry{.name = "mem", .flags = ptrace_gated},
    Entry{.name = "cwd", .flags = ptrace_gated},
    Entry{.name = "root", .flags = ptrace_gated},
    Entry{.name = "exe", .flags = ptrace_gated},
    Entry{.name = "mounts", .flags = alike},
    Entry{.name = "mountinfo", .flags = alike},
    Entry{.name = "mountstats"},
    Entry{.name = "clear_refs"},
    Entry{.name = "smaps", .flags = ptrace_gated},
    Entry{.name = "smaps_rollup", .flags = ptrace_gated},
    Entry{.name = "pagemap", .flags = ptrace_gated},
    Entry{.name = "attr"},
    Entry{.name = "wchan", .flags = ptrace_zeroes, .unpermitted = wchan_without_ptrace,
          .by_itself = wchan_read_by_itself},
    Entry{.name = "stack", .flags = ptrace_gated},
    Entry{.name = "schedstat", .flags = alike},
    Entry{.name = "latency", .flags = alike},
    Entry{.name = "cpuset", .flags = alike},
    Entry{.name = "cgroup", .flags = alike},
    Entry{.name = "cpu_resctrl_groups", .flags = alike},
    Entry{.name = "oom_score", .flags = alike},
    Entry{.name = "oom_adj", .flags = alike},
    Entry{.name = "oom_score_adj", .flags = alike},
    Entry{.name = "loginuid", .flags = alike},
    Entry{.name = "sessionid", .flags = alike},
    Entry{.name = "make-it-fail", .flags = alike},
    Entry{.name = "fail-nth"},
    Entry{.name = "coredump_filter", .flags = alike},
    Entry{.name = "io", .flags = ptrace_gated},
    Entry{.name = "uid_map", .flags = alike},
    Entry{.name = "gid_map", .flags = alike},
    Entry{.name = "projid_map", .flags = alike},
    Entry{.name = "setgroups", .flags = alike},
    Entry{.name = "timers"},
    Entry{.name = "timerslack_ns", .flags = own_thread_may_nice},
    Entry{.name = "patch_state"},
    Entry{.name = "stack_depth", .flags = alike},
    Entry{.name = "arch_status", .flags = alike},
    Entry{.name = "seccomp_cache"},
    Entry{.name = "ksm_merging_pages"},
    Entry{.name = "ksm_stat"},
};

constexpr EntryTable root_table{
    root_rows,
    {.name = "", .kind = NodeKind::proc_entry, .lifetime = short_, .children = short_},
};
// tid_base_stuff lacks a few of these (task, mountstats...); the source decides what exists.
constexpr EntryTable pid_table{pid_rows, {.name = ""}};

const Tree kernel{root_table, pid_table, pid_table};

// resources=cgroup: the same rows, the resource files rendered for the reader's container.
constexpr auto with_container_resources(std::array<Entry, root_rows.size()> rows)
{
    struct Rendered {
        std::string_view name;
        ContentFn fn;
        uint16_t flags = 0;
    };
    constexpr Rendered rendered[] = {
        {"meminfo", meminfo_for_container},
        {"swaps", swaps_for_container},
        {"cpuinfo", cpuinfo_for_container},
        {"stat", stat_for_container},
        {"uptime", uptime_for_container},
        {"loadavg", loadavg_for_container},
        {"diskstats", diskstats_for_container},
        {"pressure", pressure_for_container, computes_below}, // pressure/cpu, memory, io
    };
    for (Entry& e : rows)
        for (const Rendered& x : rendered)
            if (e.name == x.name) {
                e.compute = x.fn;
                e.flags |= x.flags;
            }
    return rows;
}
constexpr auto container_root_rows = with_container_resources(root_rows);
constexpr EntryTable container_root_table{container_root_rows, root_table.unknown};
const Tree container{container_root_table, pid_table, pid_table};

// Below the sys row, which serves them otherwise as the rest of sys/.
constexpr std::string_view writers_pidns_files[] = {"sys/kernel/ns_last_pid", "sys/kernel/pid_max"};

} // namespace

const Entry& EntryTable::find(std::string_view name) const noexcept
{
    auto it = std::find_if(rows.begin(), rows.end(), [&](const Entry& e) { return e.name == name; });
    return it == rows.end() ? unknown : *it;
}

const Tree& kernel_tree() noexcept { return kernel; }

const Tree& container_tree() noexcept { return container; }

bool written_for_writers_pidns(std::string_view path) noexcept
{
    return std::find(std::begin(writers_pidns_files), std::end(writers_pidns_files), path) !=
           std::end(writers_pidns_files);
}

} // namespace procfsd
