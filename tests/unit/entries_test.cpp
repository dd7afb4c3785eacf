// SPDX-License-Identifier: GPL-2.0-or-later
// The kernel's tree as rows (lib/entries.cpp) and the content hooks they carry
// (lib/entry_content.cpp), checked against the kernel's tables (the kernel's tgid_base_stuff,
// the checks of each entry) and do_task_stat().
#include <catch2/catch_test_macros.hpp>
#include <unistd.h>

#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "policy_fixtures.hpp"
#include "procfsd/entry_content.hpp"

using namespace procfsd;
using namespace procfsd::policy_test;

namespace {

const EntryTable& root_rows() { return kernel_tree().root; }
const EntryTable& pid_rows() { return kernel_tree().pid; }

bool is_row(const EntryTable& t, std::string_view name) { return &t.find(name) != &t.unknown; }

// A pipe holding `text`, its write end closed: what a content hook reads as its source file.
UniqueFd file_with(const std::string& text)
{
    int p[2];
    REQUIRE(::pipe(p) == 0);
    REQUIRE(::write(p[1], text.data(), text.size()) == static_cast<ssize_t>(text.size()));
    ::close(p[1]);
    return UniqueFd(p[0]);
}

// A stat line with fields 3..52 (state "S", then 1000 + the field's number) after `head`.
std::vector<std::string> stat_fields()
{
    std::vector<std::string> f{"S"};
    for (int i = 4; i <= 52; ++i)
        f.push_back(std::to_string(1000 + i));
    return f;
}

std::string stat_line(const std::string& head, const std::vector<std::string>& fields)
{
    std::string out = head;
    for (auto& x : fields)
        out += " " + x;
    return out + "\n";
}

} // namespace

TEST_CASE("the root table names self, thread-self and keys, and serves the alike top-level files",
          "[unit][entries]")
{
    const Entry& self = root_rows().find("self");
    CHECK(self.kind == NodeKind::self_link);
    CHECK(root_rows().find("thread-self").kind == NodeKind::thread_self);
    // keys: per reader (the opener's keyrings judge possession), cut by the daemon.
    const Entry& keys = root_rows().find("keys");
    CHECK(keys.kind == NodeKind::proc_entry);
    CHECK_FALSE(keys.has(alike));
    CHECK((keys.filter == &keys_for_caller));
    CHECK((keys.compute == nullptr));
    // The files tools read most, the same for every reader.
    for (const char* name : {"meminfo", "cpuinfo", "stat", "uptime", "loadavg", "version",
                             "filesystems", "diskstats", "vmstat", "swaps"}) {
        INFO(name);
        const Entry& e = root_rows().find(name);
        REQUIRE(is_row(root_rows(), name));
        CHECK(e.kind == NodeKind::proc_entry);
        CHECK(e.has(alike));
        CHECK(e.lifetime == Lifetime::short_);
        CHECK((e.filter == nullptr));
        CHECK((e.compute == nullptr));
    }
    // Nothing at the top is a pid node.
    for (const Entry& e : root_rows().rows)
        CHECK_FALSE(is_pid_node(e.kind));
}

TEST_CASE("top-level files the kernel answers per reader are not read alike", "[unit][entries]")
{
    // %pK addresses (kallsyms, modules, timer_list: CAP_SYSLOG), zeroed without CAP_SYS_ADMIN
    // (iomem, ioports), the reader's own keys (key-users), 0400 files (kcore, kmsg, slabinfo,
    // vmallocinfo, pagetypeinfo): the unknown row, checked by the kernel for each caller.
    for (const char* name : {"kallsyms", "modules", "timer_list", "key-users", "iomem", "ioports",
                             "kcore", "kmsg", "slabinfo", "vmallocinfo", "pagetypeinfo",
                             "sysrq-trigger", "sys", "net", "tty", "driver"}) {
        INFO(name);
        const Entry& e = root_rows().find(name);
        CHECK(&e == &root_rows().unknown);
        CHECK_FALSE(e.has(alike));
    }
}

TEST_CASE("names no row has get the table's safe default: checked by the kernel for each caller",
          "[unit][entries]")
{
    const Entry& top = root_rows().find("a-newer-kernels-file");
    CHECK(&top == &root_rows().unknown);
    CHECK(top.kind == NodeKind::proc_entry);
    CHECK(top.flags == 0);
    CHECK((top.filter == nullptr));
    CHECK((top.compute == nullptr));
    CHECK((top.unpermitted == nullptr));
    const Entry& below = pid_rows().find("a_newer_kernels_entry");
    CHECK(&below == &pid_rows().unknown);
    CHECK(below.kind == NodeKind::pid_entry);
    CHECK(below.flags == 0);
    CHECK((below.compute == nullptr));
    // Matching is exact: no prefixes, no case folding, no empty name.
    for (const char* name : {"", "fd/", "FD", "std", "stat ", "environ\n", "statm2"})
        CHECK(&pid_rows().find(name) == &pid_rows().unknown);
    // Row names are unique, so a lookup finds the one row.
    for (const EntryTable* t : {&root_rows(), &pid_rows()}) {
        std::set<std::string_view> seen;
        for (const Entry& e : t->rows) {
            INFO(e.name);
            CHECK(seen.insert(e.name).second);
            CHECK(&t->find(e.name) == &e);
        }
    }
}

TEST_CASE(
    "pid rows the kernel checks with ptrace at open or readlink are ptrace_gated, never alike",
    "[unit][entries]")
{
    // mm_access / proc_mem_open (environ, auxv, maps, numa_maps, mem, smaps, smaps_rollup,
    // pagemap), READ_FSCREDS (io, links, fdinfo, ns, map_files), lock_trace (personality,
    // syscall, stack).
    for (const char* name : {"environ", "auxv", "maps", "numa_maps", "mem", "smaps", "smaps_rollup",
                             "pagemap", "io", "cwd", "root", "exe", "fd", "fdinfo", "map_files",
                             "ns", "personality", "syscall", "stack"}) {
        INFO(name);
        REQUIRE(is_row(pid_rows(), name));
        const Entry& e = pid_rows().find(name);
        CHECK(e.has(ptrace_gated));
        CHECK_FALSE(e.has(alike));
    }
    // Entries the kernel checks for each caller in other ways are not alike either.
    for (const char* name : {"stat", "wchan", "timerslack_ns", "net", "attr", "mountstats",
                             "clear_refs", "seccomp_cache", "fail-nth"}) {
        INFO(name);
        CHECK_FALSE(pid_rows().find(name).has(alike));
    }
    // No row claims both: alike means no check at all.
    for (const Entry& e : pid_rows().rows) {
        INFO(e.name);
        CHECK_FALSE((e.has(alike) && (e.has(ptrace_gated) || e.has(ptrace_zeroes))));
        CHECK(e.kind != NodeKind::proc_entry);
    }
}

TEST_CASE("fd, map_files and fdinfo: who enters them, who lists them, how long they live",
          "[unit][entries]")
{
    // fd/: its own process enters whatever the mode (proc_fd_permission); listed by mode alone;
    // links checked with ptrace. Its links come and go with every open and close.
    const Entry& fd = pid_rows().find("fd");
    CHECK(fd.has(own_process_enters));
    CHECK(fd.has(ptrace_gated));
    CHECK(fd.has(listed_by_mode));
    CHECK(fd.children == Lifetime::volatile_);
    // map_files/: entered as fd/, but listing wants ptrace access (proc_map_files_readdir).
    const Entry& map_files = pid_rows().find("map_files");
    CHECK(map_files.has(own_process_enters));
    CHECK(map_files.has(ptrace_gated));
    CHECK_FALSE(map_files.has(listed_by_mode));
    CHECK(map_files.children == Lifetime::volatile_);
    // fdinfo/: 0555, opening it or its files wants ptrace access.
    const Entry& fdinfo = pid_rows().find("fdinfo");
    CHECK_FALSE(fdinfo.has(own_process_enters));
    CHECK(fdinfo.has(ptrace_gated));
    CHECK_FALSE(fdinfo.has(listed_by_mode));
    CHECK(fdinfo.children == Lifetime::volatile_);
    // Only those two may be entered by their own process regardless of their mode; fd/ and
    // ns/ are listed by their mode alone (proc_readfd_common, proc_ns_dir_readdir).
    for (const Entry& e : pid_rows().rows) {
        INFO(e.name);
        if (e.name != "fd" && e.name != "map_files")
            CHECK_FALSE(e.has(own_process_enters));
        if (e.name != "fd" && e.name != "ns")
            CHECK_FALSE(e.has(listed_by_mode));
    }
}

TEST_CASE("stat and wchan are readable by all and served zeroed without ptrace access",
          "[unit][entries]")
{
    for (const char* name : {"stat", "wchan"}) {
        INFO(name);
        const Entry& e = pid_rows().find(name);
        CHECK(e.has(ptrace_zeroes));
        CHECK_FALSE(e.has(ptrace_gated)); // no error: do_task_stat and proc_pid_wchan answer
        CHECK_FALSE(e.has(alike));
        CHECK((e.unpermitted != nullptr));
    }
    CHECK((pid_rows().find("stat").unpermitted == &stat_without_ptrace));
    CHECK((pid_rows().find("wchan").unpermitted == &wchan_without_ptrace));
    // Only they hide fields; the top-level stat is another file, the same for everyone.
    for (const Entry& e : pid_rows().rows)
        if (e.name != "stat" && e.name != "wchan") {
            INFO(e.name);
            CHECK_FALSE(e.has(ptrace_zeroes));
            CHECK((e.unpermitted == nullptr));
        }
    const Entry& top_stat = root_rows().find("stat");
    CHECK(top_stat.kind == NodeKind::proc_entry);
    CHECK(top_stat.has(alike));
    CHECK_FALSE(top_stat.has(ptrace_zeroes));
}

TEST_CASE("timerslack_ns may be set by its own thread; status, cmdline, task are alike",
          "[unit][entries]")
{
    const Entry& slack = pid_rows().find("timerslack_ns");
    CHECK(slack.has(own_thread_may_nice));
    CHECK_FALSE(slack.has(alike)); // other tasks need CAP_SYS_NICE, also to read it
    for (const Entry& e : pid_rows().rows)
        if (e.name != "timerslack_ns") {
            INFO(e.name);
            CHECK_FALSE(e.has(own_thread_may_nice)); // autogroup would lift the nice limits
        }
    // No check beyond the mode: the same for every reader.
    for (const char* name : {"status", "cmdline", "limits", "statm", "mounts", "mountinfo",
                             "oom_score", "cgroup", "sessionid", "loginuid"}) {
        INFO(name);
        CHECK(pid_rows().find(name).has(alike));
    }
    const Entry& task = pid_rows().find("task");
    CHECK(task.kind == NodeKind::task_dir);
    CHECK(task.has(alike));
    CHECK(task.lifetime == Lifetime::process);
    // net/: %pK addresses and 0440 files, per reader; its files are rows of other kernels'
    // subsystems, which may change at any time.
    const Entry& net = pid_rows().find("net");
    CHECK(net.kind == NodeKind::pid_entry);
    CHECK(net.flags == 0);
    CHECK(net.children == Lifetime::short_);
}

TEST_CASE("thread directories are served by the pid rows, and only directories have tables",
          "[unit][entries]")
{
    const Tree& tree = kernel_tree();
    CHECK(tree.table_below(NodeKind::root) == &tree.root);
    CHECK(tree.table_below(NodeKind::pid_dir) == &tree.pid);
    CHECK(tree.table_below(NodeKind::tid_dir) == &tree.tid);
    // task/ holds thread ids; fd/, net/ and the like carry their own row down.
    for (NodeKind k : {NodeKind::task_dir, NodeKind::pid_entry, NodeKind::proc_entry,
                       NodeKind::self_link, NodeKind::thread_self})
        CHECK(tree.table_below(k) == nullptr);
    // tid_base_stuff is tgid_base_stuff less a few; the source says which exist, the rows are
    // the same.
    for (const char* name : {"fd", "environ", "stat", "wchan", "status", "comm", "timerslack_ns"}) {
        INFO(name);
        const Entry& t = tree.tid.find(name);
        const Entry& p = tree.pid.find(name);
        CHECK(t.flags == p.flags);
        CHECK(t.kind == p.kind);
        CHECK(t.children == p.children);
    }
}

TEST_CASE("the kernel's tree computes nothing", "[unit][entries][computed]")
{
    // Every file of it is the source's, mirrored or cut (keys): computed content is for trees
    // that ask for it (tests/integration/computed_test.cpp).
    CHECK_FALSE(kernel_tree().root.has_computed());
    CHECK_FALSE(kernel_tree().pid.has_computed());
    CHECK_FALSE(kernel_tree().tid.has_computed());
}

TEST_CASE("the content hooks cut what they read from the source file", "[unit][entries][hooks]")
{
    const Caller who = host_caller(1000, 1000);
    auto keys_node = top_node("keys", S_IFREG | 0444);
    // A key only its possessor may view, and one its owner may view.
    const std::string possessed =
        "13519729 I--Q---     2 perm 1f000000     0     0 keyring   _uid.0: empty\n";
    const std::string owned =
        "2a1b3c4d I------     1 perm 3f010000  1000  1000 user      mine: 5\n";
    auto keys_file = file_with(possessed + owned);
    auto keys = keys_for_caller(ContentRequest{who, *keys_node, keys_file.get()});
    CHECK(keys.ok());
    CHECK(keys.value == owned);

    auto stat_node = pid_entry(task_of(daemon_pid), "stat", S_IFREG | 0444);
    std::string head = "100 (procfsd)";
    auto fields = stat_fields();
    auto stat_file = file_with(stat_line(head, fields));
    auto stat = stat_without_ptrace(ContentRequest{who, *stat_node, stat_file.get()});
    CHECK(stat.ok());
    CHECK(stat.value == zero_unpermitted_stat(stat_line(head, fields)));
    CHECK(stat.value != stat_line(head, fields));

    // proc_pid_wchan prints "0" to a reader without ptrace access (no newline).
    auto wchan_node = pid_entry(task_of(daemon_pid), "wchan", S_IFREG | 0444);
    auto wchan = wchan_without_ptrace(ContentRequest{who, *wchan_node, -1});
    CHECK(wchan.ok());
    CHECK(wchan.value == "0");
}

TEST_CASE("zero_unpermitted_stat hides what do_task_stat hides from a reader without ptrace access",
          "[unit][entries][stat]")
{
    const std::string head = "4242 (sleep)";
    auto fields = stat_fields(); // index i is field i + 3
    auto field = [&](std::vector<std::string>& f, int n) -> std::string& { return f[n - 3]; };
    std::vector<std::string> want = fields;
    // startcode, endcode: 1 while the task has an mm; startstack, kstkesp, kstkeip, the wchan
    // flag: 0; start_data .. env_end and exit_code: 0.
    field(want, 26) = "1";
    field(want, 27) = "1";
    for (int n : {28, 29, 30, 35, 45, 46, 47, 48, 49, 50, 51, 52})
        field(want, n) = "0";
    CHECK(zero_unpermitted_stat(stat_line(head, fields)) == stat_line(head, want));
    // Everything else as it was: vsize (23), rss (24), signals (31-34), exit_signal (38), ...
    std::istringstream out(zero_unpermitted_stat(stat_line(head, fields)));
    std::string pid, comm, f;
    out >> pid >> comm;
    CHECK(pid == "4242");
    CHECK(comm == "(sleep)");
    // Zeroing twice changes nothing more.
    auto once = zero_unpermitted_stat(stat_line(head, fields));
    CHECK(zero_unpermitted_stat(once) == once);
}

TEST_CASE("zero_unpermitted_stat finds the fields after a comm holding spaces and parentheses",
          "[unit][entries][stat]")
{
    // comm is the task's to choose (prctl PR_SET_NAME): ") 1 2 3 (" must not shift the fields.
    const std::string head = "77 (a) b (c) d)";
    auto fields = stat_fields();
    std::vector<std::string> want = fields;
    want[26 - 3] = want[27 - 3] = "1";
    for (int n : {28, 29, 30, 35, 45, 46, 47, 48, 49, 50, 51, 52})
        want[static_cast<size_t>(n - 3)] = "0";
    CHECK(zero_unpermitted_stat(stat_line(head, fields)) == stat_line(head, want));
}

TEST_CASE("zero_unpermitted_stat leaves text without a comm as it is, and short lines whole",
          "[unit][entries][stat]")
{
    CHECK(zero_unpermitted_stat("") == "");
    CHECK(zero_unpermitted_stat("garbage without parenthesis\n") ==
          "garbage without parenthesis\n");
    // An older kernel's shorter line: what it has is zeroed, nothing is invented.
    std::vector<std::string> fields = stat_fields();
    fields.resize(44 - 2); // fields 3..44
    std::vector<std::string> want = fields;
    want[26 - 3] = want[27 - 3] = "1";
    for (int n : {28, 29, 30, 35})
        want[static_cast<size_t>(n - 3)] = "0";
    CHECK(zero_unpermitted_stat(stat_line("9 (old)", fields)) == stat_line("9 (old)", want));
}

// timers (fs/proc/base.c: REG 0444, no check): proc_timers_open and timers_start take the
// task and its signal lock, nothing else; whoever may read the file (everyone) gets its timers.
// So the daemon answers too, where a ptrace gate would refuse EACCES: the daemon's own timers
// to a caller that may not ptrace it, a host process's to a container's caller.
TEST_CASE("timers carries no ptrace check, as in the kernel", "[unit][entries]")
{
    const Entry& timers = pid_rows().find("timers");
    REQUIRE(is_row(pid_rows(), "timers"));
    CHECK_FALSE(timers.has(ptrace_gated));
    auto n = pid_entry(task_of(daemon_pid), "timers", S_IFREG | 0444);
    CHECK(decide(MountOptions{}, *n, unprivileged(), Intent::open_read).refuse == 0);
}

// do_task_stat() prints startcode and endcode as `mm ? (permitted ? mm->start_code : 1) : 0`: a
// task without an mm (a kernel thread, a zombie) shows 0 to every reader, also to a reader
// without ptrace access (a container's root reading the host's kthreadd, pid 2, whose stat is
// served unpermitted).
TEST_CASE("zero_unpermitted_stat keeps startcode and endcode 0 for a task without an mm",
          "[unit][entries][stat]")
{
    // kthreadd as the daemon reads it: no mm, so vsize, rss, the code range and stack are 0.
    std::vector<std::string> fields = stat_fields();
    for (int n : {23, 24, 26, 27, 28, 45, 46, 47, 48, 49, 50, 51})
        fields[static_cast<size_t>(n - 3)] = "0";
    std::vector<std::string> want = fields;
    for (int n : {29, 30, 35, 52})
        want[static_cast<size_t>(n - 3)] = "0";
    CHECK(zero_unpermitted_stat(stat_line("2 (kthreadd)", fields)) ==
          stat_line("2 (kthreadd)", want));
}

TEST_CASE("a task reading itself reads as running: stat's state and wchan flag, status's State",
          "[unit][entries][stat]")
{
    const std::string head = "4242 (a (b) c)";
    auto fields = stat_fields();
    fields[0] = "S";
    fields[35 - 3] = "1";
    auto want = fields;
    want[0] = "R";
    want[35 - 3] = "0";
    CHECK(running_stat(stat_line(head, fields)) == stat_line(head, want));
    CHECK(running_status("Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t42\n") ==
          "Name:\tsleep\nUmask:\t0022\nState:\tR (running)\nTgid:\t42\n");
    CHECK(running_status("State:\tD (disk sleep)\nTgid:\t1\n") == "State:\tR (running)\nTgid:\t1\n");
    CHECK(running_status("Name:\tx\n") == "Name:\tx\n");
}
