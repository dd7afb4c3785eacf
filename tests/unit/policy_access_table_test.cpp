// SPDX-License-Identifier: GPL-2.0-or-later
// The access table of tests/integration/access_test.cpp, as far as decide() decides it: for each
// entry kind and each kind of target process, what the daemon answers by itself (a refusal, or a
// failed mode check of the daemon's own fd/ and map_files/), and otherwise with whose
// credentials and which content the source is asked. The integration test compares the
// outcomes with /proc's; here the kernel's rules say what each plan must be.
#include <catch2/catch_test_macros.hpp>
#include <unistd.h>

#include <set>
#include <string>

#include "policy_fixtures.hpp"

using namespace procfsd;
using namespace procfsd::policy_test;

namespace {

struct Cell {
    const char* rel; // below /proc/<pid>/
    Intent intent;
    mode_t mode; // as the kernel makes it (fs/proc/base.c)
    const char* label;
};

// The cells of the integration test's table, in its order.
constexpr Cell cells[] = {
    {"environ", Intent::open_read, S_IFREG | 0400, "environ"},
    {"auxv", Intent::open_read, S_IFREG | 0400, "auxv"},
    {"mem", Intent::open_read, S_IFREG | 0600, "mem"},
    {"maps", Intent::open_read, S_IFREG | 0444, "maps"},
    {"smaps_rollup", Intent::open_read, S_IFREG | 0444, "smaps_rollup"},
    {"smaps", Intent::open_read, S_IFREG | 0444, "smaps"},
    {"pagemap", Intent::open_read, S_IFREG | 0400, "pagemap"},
    {"numa_maps", Intent::open_read, S_IFREG | 0444, "numa_maps"},
    {"io", Intent::open_read, S_IFREG | 0400, "io"},
    {"syscall", Intent::open_read, S_IFREG | 0400, "syscall"},
    {"personality", Intent::open_read, S_IFREG | 0400, "personality"},
    {"stack", Intent::open_read, S_IFREG | 0400, "stack"},
    {"wchan", Intent::open_read, S_IFREG | 0444, "wchan"},
    {"stat", Intent::open_read, S_IFREG | 0444, "stat"},
    {"status", Intent::open_read, S_IFREG | 0444, "status"},
    {"cmdline", Intent::open_read, S_IFREG | 0444, "cmdline"},
    {"limits", Intent::open_read, S_IFREG | 0444, "limits"},
    {"mountstats", Intent::open_read, S_IFREG | 0400, "mountstats"},
    {"timerslack_ns", Intent::open_read, S_IFREG | 0666, "timerslack_ns read"},
    {"exe", Intent::readlink, S_IFLNK | 0777, "exe"},
    {"cwd", Intent::readlink, S_IFLNK | 0777, "cwd"},
    {"root", Intent::readlink, S_IFLNK | 0777, "root"},
    {"fd/0", Intent::readlink, S_IFLNK | 0700, "fd/0 readlink"},
    {"ns/pid", Intent::readlink, S_IFLNK | 0777, "ns/pid"},
    {"ns/net", Intent::readlink, S_IFLNK | 0777, "ns/net"},
    {"fd", Intent::list, S_IFDIR | 0500, "fd list"},
    {"fdinfo", Intent::list, S_IFDIR | 0555, "fdinfo list"},
    {"map_files", Intent::list, S_IFDIR | 0500, "map_files list"},
    {"fd/0", Intent::stat, S_IFLNK | 0700, "fd/0 stat"},
    {"fdinfo/0", Intent::open_read, S_IFREG | 0444, "fdinfo/0"},
    {"task", Intent::list, S_IFDIR | 0555, "task list"},
    {"oom_score_adj", Intent::open_write, S_IFREG | 0644, "oom_score_adj write"},
    {"timerslack_ns", Intent::open_write, S_IFREG | 0666, "timerslack_ns write"},
    {"clear_refs", Intent::open_write, S_IFREG | 0200, "clear_refs write"},
};

// What one cell comes to before the source is asked.
struct Outcome {
    int refuse = 0; // the daemon's own answer: a refusal, or a mode check that failed
    bool as_caller = false;
    Content content = Content::source;
    uint64_t stand_in = 0;
};

// As a lookup, an open, a readlink or an opendir carry the plans out: a node below fd/ is
// looked up after a search of fd/; a mode check is made against the directory's attributes
// (owned by `owner`, as the kernel shows them).
Outcome outcome(const MountOptions& m, pid_t tgid, uid_t owner, const Cell& c, const Caller& who)
{
    auto t = task_of(tgid);
    std::string_view rel = c.rel;
    bool below_fd = rel.starts_with("fd/");
    if (below_fd) {
        auto fd = pid_entry(t, "fd", S_IFDIR | 0500);
        Plan s = decide(m, *fd, who, Intent::search);
        if (s.refuse != 0)
            return {s.refuse};
        if (s.mode_check && !directory_permits(who, dir_stat(owner, owner, 0500), s.mode_check))
            return {-EACCES};
    }
    auto n = pid_entry(t, rel, c.mode, below_fd);
    Plan p = decide(m, *n, who, c.intent);
    if (p.refuse != 0)
        return {p.refuse};
    if (p.mode_check &&
        !directory_permits(who, dir_stat(owner, owner, c.mode & 07777), p.mode_check))
        return {-EACCES};
    return {0, p.as_caller, p.content, p.stand_in};
}

// Read alike by everyone on a hidepid=off mount: no check at open or read, readable by all.
const std::set<std::string> read_as_daemon = {"status", "cmdline", "limits", "task list"};

// Every cell of the daemon's own process for `who`: the `refused` ones fail with EACCES, the
// `zeroed` ones are served unpermitted, the rest by the source. With `by_source_checks`, those
// the source refuses by mode or capability are asked as the caller (mountstats 0400, writes to
// root's files, timerslack_ns without CAP_SYS_NICE), with nothing stood in.
void check_daemon_cells(const Caller& who, const std::set<std::string>& refused,
                        const std::set<std::string>& zeroed, bool by_source_checks)
{
    for (const Cell& c : cells) {
        INFO(c.label);
        Outcome o = outcome(MountOptions{}, daemon_pid, 0, c, who);
        if (refused.contains(c.label)) {
            CHECK(o.refuse == -EACCES);
            continue;
        }
        CHECK(o.refuse == 0);
        CHECK(o.content == (zeroed.contains(c.label) ? Content::unpermitted : Content::source));
        if (!by_source_checks)
            continue;
        CHECK(o.as_caller == !read_as_daemon.contains(c.label));
        CHECK(o.stand_in == 0);
    }
}

} // namespace

TEST_CASE("the access table: another process is left to the source, asked as the caller",
          "[unit][policy][access-table]")
{
    // (a) another user's, (b) a root process, (c) a non-dumpable one of the caller's uid: the
    // worker, with the caller's credentials and in neither's thread group, gets what the caller
    // would get. The daemon adds nothing.
    for (const Caller& who : {unprivileged(), ptracer()})
        for (auto [pid, owner] :
             {std::pair{other_pid, uid_t{4244}}, std::pair{other_pid + 1, uid_t{0}},
              std::pair{other_pid + 2, uid_t{0}}})
            for (const Cell& c : cells) {
                INFO(pid << "/" << c.label << " caps " << who.capabilities());
                Outcome o = outcome(MountOptions{}, pid, owner, c, who);
                CHECK(o.refuse == 0);
                CHECK(o.as_caller == !read_as_daemon.contains(c.label));
                CHECK(o.content == Content::source);
                CHECK(o.stand_in == 0);
            }
}

TEST_CASE("the access table: the daemon's process refuses an unprivileged caller what the kernel "
          "refuses a root process",
          "[unit][policy][access-table][daemon]")
{
    // EACCES: mm_access and proc_mem_open (environ, auxv, mem, maps, smaps*, pagemap,
    // numa_maps), the 0400 mode of io, syscall, personality and stack, the ptrace check of links
    // (exe, cwd, root, fd/N, ns/*), fdinfo/ and map_files/, and fd/'s 0500 mode (also to look up
    // fd/0 in it).
    const std::set<std::string> refused = {
        "environ",     "auxv",        "mem",   "maps", "smaps_rollup", "smaps",
        "pagemap",     "numa_maps",   "io",    "syscall", "personality", "stack",
        "exe",         "cwd",         "root",  "fd/0 readlink", "ns/pid", "ns/net",
        "fd list",     "fdinfo list", "map_files list", "fd/0 stat", "fdinfo/0"};
    check_daemon_cells(unprivileged(), refused, {"stat", "wchan"}, true);
}

TEST_CASE("the access table: a CAP_SYS_PTRACE caller gets the daemon's process as any root "
          "process's",
          "[unit][policy][access-table][daemon]")
{
    // CAP_SYS_PTRACE passes every ptrace check but no mode bits: fd/ and map_files/ (0500 root)
    // stay closed to it (proc_fd_permission), so does looking up fd/0.
    const std::set<std::string> refused = {"fd list", "map_files list", "fd/0 readlink",
                                           "fd/0 stat"};
    check_daemon_cells(ptracer(), refused, {}, true); // stat and wchan in full
}

TEST_CASE("the access table: root without capabilities passes the daemon's modes but not its "
          "ptrace checks",
          "[unit][policy][access-table][daemon]")
{
    // Its ids are the daemon's, so the owner's bits let it list fd/ and look up fd/0; ptrace
    // wants the daemon's capabilities too (cap_ptrace_access_check).
    const Caller who = powerless_root();
    const std::set<std::string> refused = {
        "environ", "auxv", "mem",     "maps",        "smaps_rollup", "smaps",
        "pagemap", "numa_maps", "io", "syscall",     "personality",  "stack",
        "exe",     "cwd",  "root",    "fd/0 readlink", "ns/pid",     "ns/net",
        "fdinfo list", "map_files list", "fdinfo/0"};
    check_daemon_cells(who, refused, {"stat", "wchan"}, false);
}

TEST_CASE("the access table: the caller's own process is read with the kernel's own-process "
          "rights stood in",
          "[unit][policy][access-table][own]")
{
    // (d) its own process: every ptrace check passes (same_thread_group), fd/ and map_files/
    // open whatever their mode (proc_fd_permission), timerslack_ns of its own thread needs no
    // CAP_SYS_NICE.
    const std::set<std::string> entered = {"fd list", "map_files list", "fd/0 readlink",
                                           "fd/0 stat"};
    const std::set<std::string> niced = {"timerslack_ns read", "timerslack_ns write"};
    for (const Caller& who : {unprivileged(), ptracer()})
        for (const Cell& c : cells) {
            INFO(c.label << " caps " << who.capabilities());
            Outcome o = outcome(MountOptions{}, caller_pid, nobody, c, who);
            CHECK(o.refuse == 0);
            // stat and wchan in full; the caller's own thread reads itself running.
            std::string_view label = c.label;
            bool itself = label == "stat" || label == "wchan" || label == "status";
            CHECK(o.content == (itself ? Content::by_itself : Content::source));
            if (read_as_daemon.contains(c.label)) {
                CHECK_FALSE(o.as_caller);
                CHECK(o.stand_in == 0);
                continue;
            }
            CHECK(o.as_caller);
            uint64_t want = cap(CAP_SYS_PTRACE);
            if (entered.contains(c.label))
                want |= cap(CAP_DAC_READ_SEARCH);
            if (niced.contains(c.label))
                want |= cap(CAP_SYS_NICE);
            CHECK(o.stand_in == want);
        }
}
