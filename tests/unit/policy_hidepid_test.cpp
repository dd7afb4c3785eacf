// SPDX-License-Identifier: GPL-2.0-or-later
// hidepid= and gid= as the daemon applies them itself: to the processes its worker threads would
// pass the kernel's checks for (its own), for listings of the root (listed_pid), and how a
// listing of the root is planned. The rule is has_pid_permissions() (fs/proc/base.c):
// hidepid=ptraceable asks ptrace alone; otherwise below the level allowed, else gid= members,
// else ptrace. getattr hides from invisible up (ENOENT), entering is refused from noaccess up
// (EPERM, or ENOENT when invisible).
#include <catch2/catch_test_macros.hpp>

#include "policy_fixtures.hpp"

using namespace procfsd;
using namespace procfsd::policy_test;

namespace {

// decide()'s refusals for one caller on the daemon's own process: stat()ing /proc/<pid>,
// listing it, and stat()ing what lies inside (task/, task/<tid>, an entry).
struct Verdicts {
    int stat_dir = 0;
    int list_dir = 0;
    int stat_task_dir = 0;
    int list_task_dir = 0;
    int stat_tid_dir = 0;
    int stat_entry = 0;
};

Verdicts on_daemon(const MountOptions& m, const Caller& who)
{
    auto leader = task_of(daemon_pid);
    auto worker = task_of(daemon_pid, daemon_thread);
    auto dir = pid_dir(leader);
    auto tasks = task_dir(leader);
    auto tid = tid_dir(worker);
    auto status = pid_entry(leader, "status", S_IFREG | 0444);
    return {decide(m, *dir, who, Intent::stat).refuse,
            decide(m, *dir, who, Intent::list).refuse,
            decide(m, *tasks, who, Intent::stat).refuse,
            decide(m, *tasks, who, Intent::list).refuse,
            decide(m, *tid, who, Intent::stat).refuse,
            decide(m, *status, who, Intent::stat).refuse};
}

void check_all_allowed(const Verdicts& v)
{
    CHECK(v.stat_dir == 0);
    CHECK(v.list_dir == 0);
    CHECK(v.stat_task_dir == 0);
    CHECK(v.list_task_dir == 0);
    CHECK(v.stat_tid_dir == 0);
    CHECK(v.stat_entry == 0);
}

void check_all_hidden(const Verdicts& v)
{
    CHECK(v.stat_dir == -ENOENT);
    CHECK(v.list_dir == -ENOENT);
    CHECK(v.stat_task_dir == -ENOENT);
    CHECK(v.list_task_dir == -ENOENT);
    CHECK(v.stat_tid_dir == -ENOENT);
    CHECK(v.stat_entry == -ENOENT);
}

} // namespace

TEST_CASE("hidepid=off shows the daemon's process to every caller", "[unit][policy][hidepid]")
{
    for (const Caller& who : {unprivileged(), powerless_root(), container_root()}) {
        check_all_allowed(on_daemon(MountOptions{}, who));
        CHECK(listed_pid(MountOptions{}, who, daemon_pid) == Listed::yes);
    }
}

TEST_CASE("hidepid=noaccess lets a caller stat a process it may not ptrace but refuses entering it "
          "with EPERM",
          "[unit][policy][hidepid]")
{
    const MountOptions m = mount_with(Hidepid::noaccess);
    Verdicts v = on_daemon(m, unprivileged());
    // pid_getattr hides only from invisible up: /proc/<pid> itself may be stat()ed.
    CHECK(v.stat_dir == 0);
    // proc_pid_permission on /proc/<pid> and task/: every way in is EPERM.
    CHECK(v.list_dir == -EPERM);
    CHECK(v.stat_task_dir == -EPERM);
    CHECK(v.list_task_dir == -EPERM);
    CHECK(v.stat_tid_dir == -EPERM);
    CHECK(v.stat_entry == -EPERM);
    // And it is listed (proc_pid_readdir hides from invisible up).
    CHECK(listed_pid(m, unprivileged(), daemon_pid) == Listed::yes);
}

TEST_CASE("hidepid=invisible hides a process the caller may not ptrace with ENOENT",
          "[unit][policy][hidepid]")
{
    const MountOptions m = mount_with(Hidepid::invisible);
    check_all_hidden(on_daemon(m, unprivileged()));
    CHECK(listed_pid(m, unprivileged(), daemon_pid) == Listed::no);
    // Root ids without the daemon's capabilities may not ptrace it either
    // (cap_ptrace_access_check: the target's permitted set within the caller's effective one).
    check_all_hidden(on_daemon(m, powerless_root()));
    CHECK(listed_pid(m, powerless_root(), daemon_pid) == Listed::no);
}

TEST_CASE("hidepid=ptraceable hides what the caller may not ptrace, gid= notwithstanding",
          "[unit][policy][hidepid]")
{
    // gid= is not consulted for hidepid=4 (has_pid_permissions returns ptrace_may_access first).
    const MountOptions m = mount_with(Hidepid::ptraceable, readers_gid);
    for (const Caller& who : {unprivileged(), unprivileged({readers_gid}),
                              host_caller(nobody, readers_gid), powerless_root()}) {
        Verdicts v = on_daemon(m, who);
        // proc_pid_lookup refuses the lookup of /proc/<pid> (ENOENT), so the caller never gets
        // as far as proc_pid_permission; getattr says ENOENT too.
        CHECK(v.stat_dir == -ENOENT);
        CHECK(v.list_dir == -ENOENT);
        CHECK(v.stat_entry == -ENOENT);
        CHECK(listed_pid(m, who, daemon_pid) == Listed::no);
    }
}

TEST_CASE("members of gid= see every process on noaccess and invisible mounts",
          "[unit][policy][hidepid]")
{
    for (Hidepid h : {Hidepid::noaccess, Hidepid::invisible}) {
        INFO("hidepid=" << hidepid_name(h));
        const MountOptions m = mount_with(h, readers_gid);
        // in_group_p(): the fsgid or a supplementary group.
        for (const Caller& member :
             {unprivileged({readers_gid}), host_caller(nobody, readers_gid)}) {
            check_all_allowed(on_daemon(m, member));
            CHECK(listed_pid(m, member, daemon_pid) == Listed::yes);
        }
        // Others are not helped by the option.
        Verdicts v = on_daemon(m, unprivileged({readers_gid + 1}));
        CHECK(v.stat_entry == (h == Hidepid::invisible ? -ENOENT : -EPERM));
        CHECK(listed_pid(m, unprivileged(), daemon_pid) ==
              (h == Hidepid::invisible ? Listed::no : Listed::yes));
    }
    // Without gid=, the group the option would name helps nobody.
    Verdicts v = on_daemon(mount_with(Hidepid::invisible), unprivileged({readers_gid}));
    CHECK(v.stat_dir == -ENOENT);
}

TEST_CASE("a caller that may ptrace the daemon sees its process on every hidepid mount",
          "[unit][policy][hidepid]")
{
    for (Hidepid h : {Hidepid::noaccess, Hidepid::invisible, Hidepid::ptraceable})
        for (const Caller& who : {ptracer(), full_root()}) {
            INFO("hidepid=" << hidepid_name(h) << " uid " << who.fsuid());
            const MountOptions m = mount_with(h, readers_gid);
            check_all_allowed(on_daemon(m, who));
            CHECK(listed_pid(m, who, daemon_pid) == Listed::yes);
        }
}

TEST_CASE("other processes of the caller's user namespace are left to the source on hidepid mounts",
          "[unit][policy][hidepid]")
{
    auto other = task_of(other_pid);
    auto dir = pid_dir(other);
    auto status = pid_entry(other, "status", S_IFREG | 0444);
    for (Hidepid h : {Hidepid::noaccess, Hidepid::invisible, Hidepid::ptraceable}) {
        const MountOptions m = mount_with(h, readers_gid);
        // A worker with the caller's credentials is judged by the source's hidepid= as the
        // caller would be: the daemon adds nothing.
        for (const Node* n : {dir.get(), status.get()}) {
            Plan p = decide(m, *n, unprivileged(), Intent::stat);
            CHECK(p.refuse == 0);
            CHECK(p.as_caller);
        }
        Plan l = decide(m, *dir, unprivileged(), Intent::list);
        CHECK(l.refuse == 0);
        CHECK(l.as_caller);
        CHECK(listed_pid(m, unprivileged(), other_pid) == Listed::ask_source);
    }
}

TEST_CASE("the caller's own process is listed on every mount", "[unit][policy][hidepid]")
{
    // same_thread_group() passes every ptrace check, also of a non-dumpable process, which the
    // source, asked with the caller's credentials by another thread, would not list.
    for (Hidepid h : {Hidepid::off, Hidepid::noaccess, Hidepid::invisible, Hidepid::ptraceable}) {
        const MountOptions m = mount_with(h);
        CHECK(listed_pid(m, unprivileged(), caller_pid) == Listed::yes);
        CHECK(listed_pid(m, unprivileged_in_thread(), caller_pid) == Listed::yes);
        CHECK(listed_pid(m, container_root(), container_pid) == Listed::yes);
    }
    // And its own directory is never refused by the daemon.
    auto own = pid_dir(task_of(caller_pid));
    for (Hidepid h : {Hidepid::noaccess, Hidepid::invisible, Hidepid::ptraceable}) {
        Plan p = decide(mount_with(h), *own, unprivileged(), Intent::list);
        CHECK(p.refuse == 0);
        CHECK(p.stand_in == cap(CAP_SYS_PTRACE)); // for the source's hidepid= check
    }
}

TEST_CASE("a listing of the root of a hidepid mount judges each pid for the caller",
          "[unit][policy][hidepid][readdir]")
{
    auto root = root_node();
    for (Hidepid h : {Hidepid::noaccess, Hidepid::invisible, Hidepid::ptraceable}) {
        INFO("hidepid=" << hidepid_name(h));
        const MountOptions m = mount_with(h, readers_gid);
        for (const Caller& who : {unprivileged(), ptracer(), powerless_root(), container_root()}) {
            Plan p = decide(m, *root, who, Intent::list);
            CHECK(p.refuse == 0);
            CHECK(p.as_caller);
            CHECK(p.judge_each_pid);
            // Answers differ per caller: no entries handed out for all.
            CHECK_FALSE(p.pids_with_entries);
        }
        // The daemon's credentials give root with all of them nothing more: its listing is
        // the source's, asked as root, with nothing to judge.
        Plan p = decide(m, *root, full_root(), Intent::list);
        CHECK_FALSE(p.judge_each_pid);
        CHECK_FALSE(p.pids_with_entries);
    }
}

TEST_CASE("a listing of the root of a hidepid=off mount is the same for everyone and carries its "
          "processes' entries",
          "[unit][policy][readdir]")
{
    auto root = root_node();
    for (const Caller& who : {unprivileged(), full_root(), container_root()}) {
        Plan p = decide(MountOptions{}, *root, who, Intent::list);
        CHECK(p.refuse == 0);
        CHECK_FALSE(p.as_caller);
        CHECK_FALSE(p.judge_each_pid);
        CHECK(p.pids_with_entries);
    }
    // Only the root's listing is planned so: a pid directory's holds no processes.
    auto dir = pid_dir(task_of(other_pid));
    Plan p = decide(MountOptions{}, *dir, unprivileged(), Intent::list);
    CHECK_FALSE(p.judge_each_pid);
    CHECK_FALSE(p.pids_with_entries);
    auto tasks = task_dir(task_of(other_pid));
    CHECK_FALSE(decide(MountOptions{}, *tasks, unprivileged(), Intent::list).pids_with_entries);
}
