// SPDX-License-Identifier: GPL-2.0-or-later
// A caller from another user namespace (a container's root here): the worker stays in the
// daemon's namespace, where the kernel would judge it as a same-namespace task. For a process
// outside the caller's namespace the kernel wants CAP_SYS_PTRACE in the target's namespace,
// which the caller cannot hold there (cap_ptrace_access_check: its capabilities are relative to
// its own namespace), so every ptrace check fails; for a process inside, the source judges the
// worker as it would judge the caller.
#include <catch2/catch_test_macros.hpp>

#include "policy_fixtures.hpp"

using namespace procfsd;
using namespace procfsd::policy_test;

TEST_CASE("a caller from another user namespace counts none of its capabilities against the "
          "daemon's",
          "[unit][policy][userns]")
{
    const Caller c = container_root();
    CHECK_FALSE(c.in_daemon_user_ns());
    CHECK(c.capabilities() == 0);
    CHECK(c.capabilities_in_own_user_ns() == all_capabilities);
    CHECK_FALSE(c.as_privileged_as_daemon());
    CHECK(c.shares_user_ns_with(container_other));
    CHECK_FALSE(c.shares_user_ns_with(other_pid));
    // Its root is no root here: the daemon's own process is as closed to it as to nobody.
    auto environ = pid_entry(task_of(daemon_pid), "environ", S_IFREG | 0400);
    CHECK(decide(MountOptions{}, *environ, c, Intent::open_read).refuse == -EACCES);
    // And it gets the daemon's credentials for nothing: its root listing is judged per pid.
    auto root = root_node();
    CHECK(decide(mount_with(Hidepid::invisible), *root, c, Intent::list).judge_each_pid);
}

TEST_CASE(
    "processes outside a foreign caller's user namespace refuse it their ptrace-gated entries",
    "[unit][policy][userns]")
{
    const Caller c = container_root();
    auto outside = task_of(other_pid);
    struct Gated {
        const char* rel;
        Intent intent;
        mode_t mode;
    };
    for (const Gated& g : {Gated{"environ", Intent::open_read, S_IFREG | 0400},
                           Gated{"maps", Intent::open_read, S_IFREG | 0444},
                           Gated{"mem", Intent::open_read, S_IFREG | 0600},
                           Gated{"io", Intent::open_read, S_IFREG | 0400},
                           Gated{"exe", Intent::readlink, S_IFLNK | 0777},
                           Gated{"fd/0", Intent::readlink, S_IFLNK | 0700},
                           Gated{"ns/user", Intent::readlink, S_IFLNK | 0777},
                           Gated{"fdinfo", Intent::list, S_IFDIR | 0555},
                           Gated{"map_files", Intent::list, S_IFDIR | 0500}}) {
        INFO(g.rel);
        auto n = pid_entry(outside, g.rel, g.mode, std::string_view(g.rel).starts_with("fd/"));
        CHECK(decide(MountOptions{}, *n, c, g.intent).refuse == -EACCES);
    }
    // fd/ itself is listed by its mode alone (proc_readfd_common checks no ptrace access): the
    // source checks the caller's ids against it.
    auto fd = pid_entry(outside, "fd", S_IFDIR | 0500);
    Plan l = decide(MountOptions{}, *fd, c, Intent::list);
    CHECK(l.refuse == 0);
    CHECK(l.as_caller);
    CHECK(l.mode_check == 0);
    // What the kernel checks for no one is read as for anyone.
    auto status = pid_entry(outside, "status", S_IFREG | 0444);
    Plan s = decide(MountOptions{}, *status, c, Intent::open_read);
    CHECK(s.refuse == 0);
    CHECK_FALSE(s.as_caller);
    auto stat_node = pid_entry(outside, "stat", S_IFREG | 0444);
    CHECK(decide(MountOptions{}, *stat_node, c, Intent::stat).refuse == 0);
}

TEST_CASE("stat and wchan outside a foreign caller's user namespace are served unpermitted",
          "[unit][policy][userns]")
{
    const Caller c = container_root();
    for (pid_t pid : {other_pid, daemon_pid, pid_t{1}}) {
        for (const char* name : {"stat", "wchan"}) {
            INFO(pid << "/" << name);
            auto n = pid_entry(task_of(pid), name, S_IFREG | 0444);
            Plan p = decide(MountOptions{}, *n, c, Intent::open_read);
            CHECK(p.refuse == 0);
            CHECK(p.content == Content::unpermitted);
        }
    }
    // Inside its namespace the source zeroes what it must for the caller; its own thread reads
    // itself running.
    auto other = pid_entry(task_of(container_other), "stat", S_IFREG | 0444);
    CHECK(decide(MountOptions{}, *other, c, Intent::open_read).content == Content::source);
    auto own = pid_entry(task_of(container_pid), "stat", S_IFREG | 0444);
    CHECK(decide(MountOptions{}, *own, c, Intent::open_read).content == Content::by_itself);
}

TEST_CASE("processes inside a foreign caller's user namespace are left to the source",
          "[unit][policy][userns]")
{
    const Caller c = container_root();
    auto inside = task_of(container_other);
    for (auto [rel, intent] :
         {std::pair{"environ", Intent::open_read}, std::pair{"maps", Intent::open_read},
          std::pair{"exe", Intent::readlink}, std::pair{"fdinfo", Intent::list}}) {
        INFO(rel);
        auto n = pid_entry(inside, rel, S_IFREG | 0400);
        Plan p = decide(MountOptions{}, *n, c, intent);
        CHECK(p.refuse == 0);
        CHECK(p.as_caller);
        CHECK(p.stand_in == 0);
    }
    // Its own process: the kernel's own-process rule, stood in.
    auto own = pid_entry(task_of(container_pid), "environ", S_IFREG | 0400);
    Plan p = decide(MountOptions{}, *own, c, Intent::open_read);
    CHECK(p.refuse == 0);
    CHECK(p.as_caller);
    CHECK(p.stand_in == cap(CAP_SYS_PTRACE));
    // hidepid= inside is the source's too.
    auto dir = pid_dir(inside);
    Plan h = decide(mount_with(Hidepid::invisible), *dir, c, Intent::stat);
    CHECK(h.refuse == 0);
    CHECK(h.as_caller);
}

TEST_CASE("hidepid hides processes outside a foreign caller's user namespace as ones it may not "
          "ptrace",
          "[unit][policy][userns][hidepid]")
{
    auto outside = task_of(other_pid);
    auto dir = pid_dir(outside);
    auto status = pid_entry(outside, "status", S_IFREG | 0444);
    const Caller c = container_root();
    // noaccess: stat()able, not enterable.
    const MountOptions noaccess = mount_with(Hidepid::noaccess);
    CHECK(decide(noaccess, *dir, c, Intent::stat).refuse == 0);
    CHECK(decide(noaccess, *dir, c, Intent::list).refuse == -EPERM);
    CHECK(decide(noaccess, *status, c, Intent::stat).refuse == -EPERM);
    // invisible and ptraceable: gone.
    for (Hidepid h : {Hidepid::invisible, Hidepid::ptraceable}) {
        const MountOptions m = mount_with(h);
        CHECK(decide(m, *dir, c, Intent::stat).refuse == -ENOENT);
        CHECK(decide(m, *dir, c, Intent::list).refuse == -ENOENT);
        CHECK(decide(m, *status, c, Intent::stat).refuse == -ENOENT);
    }
    // gid= lets its members see them, except under ptraceable.
    const Caller member = container_root({readers_gid});
    CHECK(decide(mount_with(Hidepid::invisible, readers_gid), *dir, member, Intent::list).refuse ==
          0);
    CHECK(decide(mount_with(Hidepid::ptraceable, readers_gid), *dir, member, Intent::stat).refuse ==
          -ENOENT);
    // hidepid=off hides nothing.
    CHECK(decide(MountOptions{}, *dir, c, Intent::list).refuse == 0);
}

TEST_CASE("listed_pid for a caller from another user namespace: outside hidden by hidepid, inside "
          "the source's",
          "[unit][policy][userns][readdir]")
{
    const Caller c = container_root();
    const Caller member = container_root({readers_gid});
    // Listed by proc_pid_readdir unless hidden from invisible up.
    for (Hidepid h : {Hidepid::off, Hidepid::noaccess}) {
        const MountOptions m = mount_with(h);
        CHECK(listed_pid(m, c, other_pid) == Listed::ask_source);
        CHECK(listed_pid(m, c, daemon_pid) == Listed::yes);
    }
    for (Hidepid h : {Hidepid::invisible, Hidepid::ptraceable}) {
        INFO("hidepid=" << hidepid_name(h));
        const MountOptions m = mount_with(h, readers_gid);
        CHECK(listed_pid(m, c, other_pid) == Listed::no);
        CHECK(listed_pid(m, c, pid_t{1}) == Listed::no);
        CHECK(listed_pid(m, c, daemon_pid) == Listed::no);
        CHECK(listed_pid(m, c, container_other) == Listed::ask_source);
        CHECK(listed_pid(m, c, container_pid) == Listed::yes);
        // gid= members see them on invisible mounts, not on ptraceable ones.
        Listed want = h == Hidepid::invisible ? Listed::ask_source : Listed::no;
        CHECK(listed_pid(m, member, other_pid) == want);
        CHECK(listed_pid(m, member, daemon_pid) ==
              (h == Hidepid::invisible ? Listed::yes : Listed::no));
    }
    // A caller of the daemon's namespace leaves them all to the source.
    CHECK(listed_pid(mount_with(Hidepid::invisible), unprivileged(), other_pid) ==
          Listed::ask_source);
    CHECK(listed_pid(mount_with(Hidepid::invisible), unprivileged(), container_other) ==
          Listed::ask_source);
}
