// SPDX-License-Identifier: GPL-2.0-or-later
// The processes where a worker thread is not like the caller: the daemon's own, whose thread
// group the workers are in (judged as the kernel judges any root process), and the caller's own,
// whose thread group they are not in (the worker stands in with the capability that passes the
// kernel's own-process check). Kernel rules: __ptrace_may_access, proc_fd_permission,
// do_task_stat, proc_pid_wchan, timerslack_ns_write (fs/proc/base.c, array.c).
#include <catch2/catch_test_macros.hpp>
#include <unistd.h>

#include "policy_fixtures.hpp"

using namespace procfsd;
using namespace procfsd::policy_test;

namespace {

// The daemon's entries the kernel refuses (EACCES) without ptrace access: at open (mm_access,
// proc_mem_open), at readlink (proc_fd_access_allowed, proc_ns_get_link), at opendir (fdinfo,
// map_files).
struct Gated {
    const char* rel;
    Intent intent;
    mode_t mode;
};
constexpr Gated daemon_gated[] = {
    {"environ", Intent::open_read, S_IFREG | 0400}, {"maps", Intent::open_read, S_IFREG | 0444},
    {"mem", Intent::open_read, S_IFREG | 0600},     {"smaps", Intent::open_read, S_IFREG | 0444},
    {"auxv", Intent::open_read, S_IFREG | 0400},    {"io", Intent::open_read, S_IFREG | 0400},
    {"exe", Intent::readlink, S_IFLNK | 0777},      {"cwd", Intent::readlink, S_IFLNK | 0777},
    {"root", Intent::readlink, S_IFLNK | 0777},     {"fd/0", Intent::readlink, S_IFLNK | 0700},
    {"ns/pid", Intent::readlink, S_IFLNK | 0777},   {"fdinfo", Intent::list, S_IFDIR | 0555},
    {"fdinfo/0", Intent::open_read, S_IFREG | 0444}, {"map_files", Intent::list, S_IFDIR | 0500},
};

std::unique_ptr<Node> daemon_entry(const Gated& g)
{
    return pid_entry(task_of(daemon_pid), g.rel, g.mode,
                     std::string_view(g.rel).starts_with("fd/"));
}

// decide() serves `n` to `who` on a default mount from `content`, refusing nothing.
void check_served(const Node& n, const Caller& who, Content content)
{
    Plan p = decide(MountOptions{}, n, who, Intent::open_read);
    CHECK(p.refuse == 0);
    CHECK(p.content == content);
}

} // namespace

TEST_CASE("the daemon's ptrace-gated entries refuse an unprivileged caller with EACCES",
          "[unit][policy][daemon]")
{
    // Its uids and gids are 0 and it holds every capability: a caller with neither the same ids
    // and capabilities nor CAP_SYS_PTRACE may not ptrace it; the worker, in its thread group,
    // would pass.
    for (const MountOptions& m : {MountOptions{}, mount_with(Hidepid::invisible, readers_gid)})
        for (const Caller& who : {unprivileged(), unprivileged({readers_gid}), powerless_root(),
                                  host_caller(0, 1000, all_capabilities & ~cap(CAP_SYS_PTRACE))})
            for (const Gated& g : daemon_gated) {
                INFO(g.rel << " uid " << who.fsuid() << " gid " << who.fsgid());
                auto n = daemon_entry(g);
                CHECK(decide(m, *n, who, g.intent).refuse == -EACCES);
            }
    // Also in the daemon's threads (task/<tid>) and its lookup-only /proc/<tid>.
    auto in_thread = pid_entry(task_of(daemon_pid, daemon_thread), "environ", S_IFREG | 0400);
    CHECK(decide(MountOptions{}, *in_thread, unprivileged(), Intent::open_read).refuse == -EACCES);
}

TEST_CASE("a CAP_SYS_PTRACE caller reads the daemon's ptrace-gated entries as itself",
          "[unit][policy][daemon]")
{
    for (const Caller& who : {ptracer(), full_root()})
        for (const Gated& g : daemon_gated) {
            INFO(g.rel << " uid " << who.fsuid());
            auto n = daemon_entry(g);
            Plan p = decide(MountOptions{}, *n, who, g.intent);
            CHECK(p.refuse == 0);
            CHECK(p.as_caller); // the source checks its mode bits for it (environ is 0400)
            CHECK(p.stand_in == 0);
            CHECK(p.content == Content::source);
        }
}

TEST_CASE("the daemon's stat and wchan are served unpermitted to a caller that may not ptrace it",
          "[unit][policy][daemon]")
{
    auto daemon = task_of(daemon_pid);
    auto stat = pid_entry(daemon, "stat", S_IFREG | 0444);
    auto wchan = pid_entry(daemon, "wchan", S_IFREG | 0444);
    auto thread_stat = pid_entry(task_of(daemon_pid, daemon_thread), "stat", S_IFREG | 0444);
    for (const Node* n : {stat.get(), wchan.get(), thread_stat.get()}) {
        // Readable by all, with fields zeroed (do_task_stat) or "0" (proc_pid_wchan) for a
        // reader without ptrace access: no refusal.
        for (const Caller& who : {unprivileged(), powerless_root(), container_root()})
            check_served(*n, who, Content::unpermitted);
        for (const Caller& who : {ptracer(), full_root()})
            check_served(*n, who, Content::source);
    }
    // Another root process's stat is the source's to zero for the caller.
    auto other = pid_entry(task_of(other_pid), "stat", S_IFREG | 0444);
    CHECK(decide(MountOptions{}, *other, unprivileged(), Intent::open_read).content ==
          Content::source);
    // Entries the kernel gives everyone alike stay the source's.
    auto status = pid_entry(daemon, "status", S_IFREG | 0444);
    check_served(*status, unprivileged(), Content::source);
}

TEST_CASE("the daemon's fd/ and map_files/ are entered by their mode, which the daemon checks",
          "[unit][policy][daemon]")
{
    auto daemon = task_of(daemon_pid);
    auto fd = pid_entry(daemon, "fd", S_IFDIR | 0500);
    auto map_files = pid_entry(daemon, "map_files", S_IFDIR | 0500);
    const struct stat root_0500 = dir_stat(0, 0, 0500);
    // proc_fd_permission: the mode bits, or the same thread group, which the worker is in.
    for (const Caller& who : {unprivileged(), ptracer(), powerless_root(), full_root()}) {
        for (const Node* n : {fd.get(), map_files.get()}) {
            CHECK(decide(MountOptions{}, *n, who, Intent::search).mode_check == X_OK);
            CHECK(decide(MountOptions{}, *n, who, Intent::access, R_OK | X_OK).mode_check ==
                  (R_OK | X_OK));
        }
        // fd/ is listed by its mode alone: proc_readfd_common checks no ptrace access.
        Plan l = decide(MountOptions{}, *fd, who, Intent::list);
        CHECK(l.refuse == 0);
        CHECK(l.mode_check == R_OK);
    }
    // The checks' answers: 0500 root lets root ids in, CAP_SYS_PTRACE is no file capability.
    CHECK_FALSE(directory_permits(unprivileged(), root_0500, X_OK));
    CHECK_FALSE(directory_permits(ptracer(), root_0500, R_OK));
    CHECK(directory_permits(powerless_root(), root_0500, R_OK | X_OK));
    CHECK(directory_permits(full_root(), root_0500, R_OK | X_OK));
    // map_files/ also wants ptrace access to be listed (proc_map_files_readdir).
    CHECK(decide(MountOptions{}, *map_files, unprivileged(), Intent::list).refuse == -EACCES);
    CHECK(decide(MountOptions{}, *map_files, powerless_root(), Intent::list).refuse == -EACCES);
    Plan pm = decide(MountOptions{}, *map_files, ptracer(), Intent::list);
    CHECK(pm.refuse == 0);
    CHECK(pm.mode_check == R_OK);

    // Only the directories themselves, and only the daemon's: another process's are the
    // source's to judge, as the caller.
    auto fd0 = pid_entry(daemon, "fd/0", S_IFLNK | 0700, true);
    CHECK(decide(MountOptions{}, *fd0, full_root(), Intent::access, R_OK).mode_check == 0);
    auto other_fd = pid_entry(task_of(other_pid), "fd", S_IFDIR | 0500);
    CHECK(decide(MountOptions{}, *other_fd, unprivileged(), Intent::search).mode_check == 0);
    CHECK(decide(MountOptions{}, *other_fd, unprivileged(), Intent::list).mode_check == 0);
    auto fdinfo = pid_entry(daemon, "fdinfo", S_IFDIR | 0555);
    CHECK(decide(MountOptions{}, *fdinfo, ptracer(), Intent::search).mode_check == 0);
}

TEST_CASE("the caller's own process is asked with CAP_SYS_PTRACE stood in", "[unit][policy][own]")
{
    // same_thread_group() passes __ptrace_may_access; the worker is not in the caller's group,
    // so it passes the same check with CAP_SYS_PTRACE.
    auto own = task_of(caller_pid);
    auto environ = pid_entry(own, "environ", S_IFREG | 0400);
    auto exe = pid_entry(own, "exe", S_IFLNK | 0777);
    auto fdinfo = pid_entry(own, "fdinfo", S_IFDIR | 0555);
    auto autogroup = pid_entry(own, "autogroup", S_IFREG | 0644);
    for (const Caller& who : {unprivileged(), unprivileged_in_thread()}) {
        Plan p = decide(MountOptions{}, *environ, who, Intent::open_read);
        CHECK(p.refuse == 0);
        CHECK(p.as_caller);
        CHECK(p.stand_in == cap(CAP_SYS_PTRACE));
        CHECK(decide(MountOptions{}, *exe, who, Intent::readlink).stand_in == cap(CAP_SYS_PTRACE));
        CHECK(decide(MountOptions{}, *fdinfo, who, Intent::list).stand_in == cap(CAP_SYS_PTRACE));
        // Not CAP_SYS_NICE, which would lift the nice limits there.
        CHECK(decide(MountOptions{}, *autogroup, who, Intent::open_write).stand_in ==
              cap(CAP_SYS_PTRACE));
    }
    // Another process of the same uid passes on ids alone, if at all: nothing stood in.
    auto same_uid = pid_entry(task_of(other_pid), "environ", S_IFREG | 0400);
    CHECK(decide(MountOptions{}, *same_uid, unprivileged(), Intent::open_read).stand_in == 0);
    // A daemon read stands in for nothing.
    auto status = pid_entry(own, "status", S_IFREG | 0444);
    Plan s = decide(MountOptions{}, *status, unprivileged(), Intent::open_read);
    CHECK_FALSE(s.as_caller);
    CHECK(s.stand_in == 0);
    // What a file opened as the caller is read with, from any thread (stand_in_capabilities).
    CHECK(stand_in_capabilities(*status, unprivileged()) == cap(CAP_SYS_PTRACE));
    CHECK(stand_in_capabilities(*same_uid, unprivileged()) == 0);
    auto untracked = pid_entry(nullptr, "environ", S_IFREG | 0400);
    CHECK(stand_in_capabilities(*untracked, unprivileged()) == 0);
}

TEST_CASE("CAP_DAC_READ_SEARCH is stood in only for the caller's own fd/ and map_files/",
          "[unit][policy][own]")
{
    // proc_fd_permission lets a process into its own fd/ and map_files/ whatever their mode
    // (0500 root for a non-dumpable one).
    auto own = task_of(caller_pid);
    constexpr uint64_t enters = cap(CAP_SYS_PTRACE) | cap(CAP_DAC_READ_SEARCH);
    auto fd = pid_entry(own, "fd", S_IFDIR | 0500);
    auto map_files = pid_entry(own, "map_files", S_IFDIR | 0500);
    auto fd0 = pid_entry(own, "fd/0", S_IFLNK | 0700, true);
    for (const Node* n : {fd.get(), map_files.get()}) {
        Plan l = decide(MountOptions{}, *n, unprivileged(), Intent::list);
        CHECK(l.refuse == 0);
        CHECK(l.stand_in == enters);
        CHECK(l.mode_check == 0); // the source checks, with the stand-in
        CHECK(decide(MountOptions{}, *n, unprivileged(), Intent::access, R_OK).stand_in == enters);
    }
    // What lies below them is reached through them.
    CHECK(decide(MountOptions{}, *fd0, unprivileged(), Intent::readlink).stand_in == enters);
    CHECK(decide(MountOptions{}, *fd0, unprivileged(), Intent::stat).stand_in == enters);
    // Nowhere else: fdinfo/ and ns/ are searchable by all, the rest is no directory of the kind.
    for (auto [rel, mode] :
         {std::pair{"fdinfo", S_IFDIR | 0555}, std::pair{"ns", S_IFDIR | 0511},
          std::pair{"environ", S_IFREG | 0400}, std::pair{"net", S_IFDIR | 0555}}) {
        INFO(rel);
        auto n = pid_entry(own, rel, static_cast<mode_t>(mode));
        CHECK((stand_in_capabilities(*n, unprivileged()) & cap(CAP_DAC_READ_SEARCH)) == 0);
    }
    // Nor for another process's fd/.
    auto other_fd = pid_entry(task_of(other_pid), "fd", S_IFDIR | 0500);
    CHECK(decide(MountOptions{}, *other_fd, unprivileged(), Intent::list).stand_in == 0);
}

TEST_CASE("CAP_SYS_NICE is stood in only for timerslack_ns of the caller's own thread",
          "[unit][policy][own]")
{
    // timerslack_ns_write/show: p == current needs nothing, any other task CAP_SYS_NICE.
    constexpr uint64_t own_thread = cap(CAP_SYS_PTRACE) | cap(CAP_SYS_NICE);
    auto leader = pid_entry(task_of(caller_pid), "timerslack_ns", S_IFREG | 0666);
    Plan w = decide(MountOptions{}, *leader, unprivileged(), Intent::open_write);
    CHECK(w.refuse == 0);
    CHECK(w.as_caller);
    CHECK(w.stand_in == own_thread);
    CHECK(decide(MountOptions{}, *leader, unprivileged(), Intent::open_read).stand_in ==
          own_thread);
    // /proc/2000/timerslack_ns is the leader's: another thread of the process is not p.
    CHECK(decide(MountOptions{}, *leader, unprivileged_in_thread(), Intent::open_write).stand_in ==
          cap(CAP_SYS_PTRACE));
    // The lookup-only /proc/2001 is thread 2001's, which that thread may set.
    auto thread = pid_entry(task_of(caller_pid, caller_thread), "timerslack_ns", S_IFREG | 0666);
    thread->path = "2001/timerslack_ns";
    CHECK(decide(MountOptions{}, *thread, unprivileged_in_thread(), Intent::open_write).stand_in ==
          own_thread);
    CHECK(decide(MountOptions{}, *thread, unprivileged(), Intent::open_write).stand_in ==
          cap(CAP_SYS_PTRACE));
    // Another process's: the caller's own capabilities decide.
    auto other = pid_entry(task_of(other_pid), "timerslack_ns", S_IFREG | 0666);
    CHECK(decide(MountOptions{}, *other, unprivileged(), Intent::open_write).stand_in == 0);
    // Not for the thread's directories, only for the entry.
    auto dir = pid_dir(task_of(caller_pid));
    CHECK((stand_in_capabilities(*dir, unprivileged()) & cap(CAP_SYS_NICE)) == 0);
}

// proc_tid_comm_permission() lets the members of a thread group read and write
// /proc/<pid>/task/<tid>/comm whatever its mode, and generic_permission() decides for everyone
// else: nobody may not write a root thread's comm (0644 root: EACCES), and comm_write() refuses
// every writer outside the group (EINVAL). The worker threads are in the daemon's group, so the
// source would let them write the daemon's thread names: the daemon checks the mode itself and
// refuses the writes.
TEST_CASE("the daemon's thread comm refuses an unprivileged writer",
          "[unit][policy][daemon]")
{
    auto comm = pid_entry(task_of(daemon_pid, daemon_thread), "comm", S_IFREG | 0644);
    REQUIRE(comm->path == "100/task/101/comm");
    Plan p = decide(MountOptions{}, *comm, unprivileged(), Intent::open_write);
    // Either refused outright or checked against the mode by the daemon.
    CHECK((p.refuse == -EACCES || (p.mode_check & W_OK) != 0));
    CHECK(p.write_refusal == -EINVAL);
}

// When the daemon has no pidfd to spare, lookups serve processes untracked (node.task null,
// fuse/lookup.cpp track()). The daemon's own process must still be recognised (by the node's
// tgid, which the lookup knows without a task): else its ptrace-gated entries would be asked of
// the source as the caller, where a worker passes same_thread_group().
TEST_CASE("the daemon's process is judged as the daemon's also when it is served untracked",
          "[unit][policy][daemon]")
{
    auto maps = pid_entry(nullptr, "maps", S_IFREG | 0444);
    maps->path = "100/maps";
    maps->tgid = maps->tid = daemon_pid; // what the lookup knows without a task
    CHECK(decide(MountOptions{}, *maps, unprivileged(), Intent::open_read).refuse == -EACCES);
    auto dir = pid_dir(task_of(daemon_pid));
    dir->task = nullptr;
    CHECK(decide(mount_with(Hidepid::invisible), *dir, unprivileged(), Intent::stat).refuse ==
          -ENOENT);
}

// proc_fdinfo_permission() checks ptrace access for every access to fdinfo/, searching it
// included (PTRACE_MODE_READ_FSCREDS): nobody may not even
// stat() /proc/<root process>/fdinfo/0. A worker would pass the check (same thread group), so
// the daemon refuses the search of its own fdinfo/ itself: else any caller would learn which
// descriptors the daemon has open.
TEST_CASE("looking up a name in the daemon's fdinfo/ is refused to a caller that may not ptrace it",
          "[unit][policy][daemon]")
{
    auto daemon = task_of(daemon_pid);
    auto fdinfo = pid_entry(daemon, "fdinfo", S_IFDIR | 0555);
    auto fdinfo0 = pid_entry(daemon, "fdinfo/0", S_IFREG | 0444);
    for (const Caller& who : {unprivileged(), powerless_root()}) {
        Plan search = decide(MountOptions{}, *fdinfo, who, Intent::search);
        Plan stat = decide(MountOptions{}, *fdinfo0, who, Intent::stat);
        CHECK((search.refuse == -EACCES || stat.refuse == -EACCES));
    }
}

// proc_ns_dir_readdir() checks no ptrace access: ns/ (0511) is listed by its mode alone, as
// fd/ is; only its links are ptrace-gated (proc_ns_get_link). The ns row is ptrace_gated without
// listed_by_mode, so the daemon refuses EACCES a listing the kernel allows: root ids without
// capabilities on the daemon's ns/ (owner bits r-x), a container caller on the ns/ of a host
// process of its own uid.
TEST_CASE("ns/ is listed by its mode alone, as in the kernel", "[unit][policy][daemon]")
{
    auto ns = pid_entry(task_of(daemon_pid), "ns", S_IFDIR | 0511);
    CHECK(decide(MountOptions{}, *ns, powerless_root(), Intent::list).refuse == 0);
    auto host_ns = pid_entry(task_of(other_pid), "ns", S_IFDIR | 0511);
    CHECK(decide(MountOptions{}, *host_ns, container_root(), Intent::list).refuse == 0);
}
