// SPDX-License-Identifier: GPL-2.0-or-later
// decide() for every kind of node, on caller-independent, per-caller and read-only mounts: who a
// request runs as, what it refuses and where the content comes from (lib/policy.cpp). The
// expectations are the kernel's rules (fs/proc in the kernel), not the code's.
#include <catch2/catch_test_macros.hpp>
#include <unistd.h>

#include <array>

#include "policy_fixtures.hpp"

using namespace procfsd;
using namespace procfsd::policy_test;

TEST_CASE("on a hidepid=off mount every node kind is stat()ed as the daemon unless its row is "
          "checked per caller",
          "[unit][policy]")
{
    const MountOptions off;
    const Caller who = unprivileged();
    auto other = task_of(other_pid);
    auto thread = task_of(other_pid, other_pid + 1);

    // The same attributes for every caller (pid_getattr without hidepid): one stat serves all.
    for (auto& node : nodes(root_node(), link_node(NodeKind::self_link),
                            link_node(NodeKind::thread_self), top_node("meminfo", S_IFREG | 0444),
                            pid_dir(other), task_dir(other), tid_dir(thread),
                            pid_entry(other, "status", S_IFREG | 0444))) {
        INFO("node " << node->path << " kind " << static_cast<int>(node->kind));
        Plan p = decide(off, *node, who, Intent::stat);
        CHECK(p.refuse == 0);
        CHECK_FALSE(p.as_caller);
        CHECK(p.stand_in == 0);
        CHECK(p.mode_check == 0);
    }
    // A pid entry whose row the kernel checks for each caller is looked at as that caller.
    auto environ = pid_entry(other, "environ", S_IFREG | 0400);
    Plan p = decide(off, *environ, who, Intent::stat);
    CHECK(p.refuse == 0);
    CHECK(p.as_caller);
}

TEST_CASE("on a hidepid mount every pid node is asked as the caller", "[unit][policy]")
{
    const Caller who = unprivileged();
    auto other = task_of(other_pid);
    auto thread = task_of(other_pid, other_pid + 1);
    for (Hidepid h : {Hidepid::noaccess, Hidepid::invisible, Hidepid::ptraceable}) {
        INFO("hidepid=" << hidepid_name(h));
        const MountOptions m = mount_with(h);
        auto dir = pid_dir(other);
        auto tasks = task_dir(other);
        auto tid = tid_dir(thread);
        auto status = pid_entry(other, "status", S_IFREG | 0444);
        // Whether this caller may see another process is the source's to say, asked as it.
        for (const Node* n : {dir.get(), tasks.get(), tid.get(), status.get()}) {
            Plan p = decide(m, *n, who, Intent::stat);
            CHECK(p.refuse == 0);
            CHECK(p.as_caller);
        }
        CHECK(decide(m, *status, who, Intent::open_read).as_caller);
        CHECK(decide(m, *tasks, who, Intent::list).as_caller);
        CHECK(decide(m, *dir, who, Intent::list).as_caller);
    }
}

TEST_CASE("alike entries are read as the daemon on a hidepid=off mount, kernel-checked ones as the "
          "caller",
          "[unit][policy]")
{
    const MountOptions off;
    const Caller who = unprivileged();
    auto other = task_of(other_pid);

    // Readable by all, with no check at open or read (status, cmdline, limits: "none").
    for (const char* name : {"status", "cmdline", "limits", "statm", "mountinfo"}) {
        INFO(name);
        auto n = pid_entry(other, name, S_IFREG | 0444);
        Plan p = decide(off, *n, who, Intent::open_read);
        CHECK(p.refuse == 0);
        CHECK_FALSE(p.as_caller);
        CHECK(p.content == Content::source);
    }
    // Checked by the kernel at open or read, or hiding fields: the source judges the caller.
    for (auto [name, mode] :
         {std::pair{"environ", S_IFREG | 0400}, std::pair{"maps", S_IFREG | 0444},
          std::pair{"io", S_IFREG | 0400}, std::pair{"stat", S_IFREG | 0444},
          std::pair{"timerslack_ns", S_IFREG | 0666}, std::pair{"mountstats", S_IFREG | 0400}}) {
        INFO(name);
        auto n = pid_entry(other, name, static_cast<mode_t>(mode));
        Plan p = decide(off, *n, who, Intent::open_read);
        CHECK(p.refuse == 0);
        CHECK(p.as_caller);
        CHECK(p.content == Content::source); // stat: the source zeroes it for the caller
    }
    // Links the kernel follows only with ptrace access.
    auto exe = pid_entry(other, "exe", S_IFLNK | 0777);
    CHECK(decide(off, *exe, who, Intent::readlink).as_caller);
    // task/ lists the same threads to everyone; fd/ is 0500, so not everyone may list it.
    auto tasks = task_dir(other);
    CHECK_FALSE(decide(off, *tasks, who, Intent::list).as_caller);
    auto fd = pid_entry(other, "fd", S_IFDIR | 0500);
    CHECK(decide(off, *fd, who, Intent::list).as_caller);
    // net/: %pK addresses and 0440 files depend on the reader.
    auto net = pid_entry(other, "net", S_IFDIR | 0555);
    CHECK(decide(off, *net, who, Intent::list).as_caller);
    auto tables = pid_entry(other, "net/ip_tables_names", S_IFREG | 0440);
    CHECK(decide(off, *tables, who, Intent::open_read).as_caller);
}

TEST_CASE("an alike entry whose mode does not let everyone read it is read as the caller",
          "[unit][policy]")
{
    const MountOptions off;
    auto other = task_of(other_pid);
    // The mode bits are checked for each caller: a daemon read would skip them.
    auto status = pid_entry(other, "status", S_IFREG | 0440);
    CHECK(decide(off, *status, unprivileged(), Intent::open_read).as_caller);
    auto tasks = task_dir(other);
    tasks->mode = S_IFDIR | 0550;
    CHECK(decide(off, *tasks, unprivileged(), Intent::list).as_caller);
}

TEST_CASE("a top-level alike file is read as the daemon on every mount while all may read it",
          "[unit][policy]")
{
    const Caller who = unprivileged();
    auto meminfo = top_node("meminfo", S_IFREG | 0444);
    auto guarded = top_node("meminfo", S_IFREG | 0440); // root chmod'ed it
    for (Hidepid h : {Hidepid::off, Hidepid::noaccess, Hidepid::invisible, Hidepid::ptraceable}) {
        INFO("hidepid=" << hidepid_name(h));
        // hidepid= concerns pid directories only: meminfo is the same file for everyone.
        const MountOptions m = mount_with(h, readers_gid);
        Plan p = decide(m, *meminfo, who, Intent::open_read);
        CHECK(p.refuse == 0);
        CHECK_FALSE(p.as_caller);
        CHECK(p.content == Content::source);
        // 0440: the group's bits or the others' decide for each caller (generic_permission).
        CHECK(decide(m, *guarded, who, Intent::open_read).as_caller);
    }
    // A top-level file the table does not know is checked by the kernel for each caller.
    auto kallsyms = top_node("kallsyms", S_IFREG | 0444);
    CHECK(decide(MountOptions{}, *kallsyms, who, Intent::open_read).as_caller);
    auto hostname = top_node("sys/kernel/hostname", S_IFREG | 0644);
    CHECK(decide(MountOptions{}, *hostname, who, Intent::open_read).as_caller);
}

TEST_CASE("writes, access(2), extended attributes and changes always run as the caller",
          "[unit][policy]")
{
    const MountOptions off;
    const Caller who = unprivileged();
    auto other = task_of(other_pid);
    auto meminfo = top_node("meminfo", S_IFREG | 0444);
    auto oom = pid_entry(other, "oom_score_adj", S_IFREG | 0644);
    // An alike file is alike to read, not to write: the kernel checks each writer.
    for (const Node* n : {meminfo.get(), oom.get()}) {
        Plan w = decide(off, *n, who, Intent::open_write);
        CHECK(w.refuse == 0);
        CHECK(w.as_caller);
        CHECK(decide(off, *n, who, Intent::access, R_OK).as_caller);
        CHECK(decide(off, *n, who, Intent::inspect).as_caller);
        Plan c = decide(off, *n, who, Intent::change);
        CHECK(c.refuse == 0);
        CHECK(c.as_caller);
    }
    auto root = root_node();
    CHECK(decide(off, *root, who, Intent::change).as_caller); // mkdir, unlink...
}

TEST_CASE("a read-only mount refuses writes, changes and access(W_OK) with EROFS, not reads",
          "[unit][policy]")
{
    const MountOptions ro = read_only_mount();
    auto other = task_of(other_pid);
    auto oom = pid_entry(other, "oom_score_adj", S_IFREG | 0644);
    auto meminfo = top_node("meminfo", S_IFREG | 0444);
    auto root = root_node();
    // Even root: the mount, not the caller, refuses (mnt_want_write, MNT_READONLY in access(2)).
    for (const Caller& who : {unprivileged(), full_root()}) {
        for (const Node* n : {oom.get(), meminfo.get()}) {
            CHECK(decide(ro, *n, who, Intent::open_write).refuse == -EROFS);
            CHECK(decide(ro, *n, who, Intent::change).refuse == -EROFS);
            CHECK(decide(ro, *n, who, Intent::access, W_OK).refuse == -EROFS);
            CHECK(decide(ro, *n, who, Intent::access, R_OK | W_OK).refuse == -EROFS);
            CHECK(decide(ro, *n, who, Intent::open_read).refuse == 0);
            CHECK(decide(ro, *n, who, Intent::inspect).refuse == 0);
            CHECK(decide(ro, *n, who, Intent::access, R_OK).refuse == 0);
            CHECK(decide(ro, *n, who, Intent::access, F_OK).refuse == 0);
            CHECK(decide(ro, *n, who, Intent::stat).refuse == 0);
        }
        CHECK(decide(ro, *root, who, Intent::change).refuse == -EROFS);
        CHECK(decide(ro, *root, who, Intent::list).refuse == 0);
    }
    // A writable mount refuses none of them by itself.
    for (Intent i : {Intent::open_write, Intent::change})
        CHECK(decide(MountOptions{}, *oom, unprivileged(), i).refuse == 0);
    CHECK(decide(MountOptions{}, *oom, unprivileged(), Intent::access, W_OK).refuse == 0);
}

// The kernel sets ns_last_pid and pid_max of the writer's own pid namespace; through a pidns=
// mount the writer would be the daemon, in the host's.
TEST_CASE("a pidns= mount refuses writes to the files the kernel keeps per writer's namespace",
          "[unit][policy]")
{
    MountOptions ns;
    ns.pidns = "/proc/1/ns/pid";
    auto last = top_node("sys/kernel/ns_last_pid", S_IFREG | 0666);
    auto max = top_node("sys/kernel/pid_max", S_IFREG | 0644);
    auto hostname = top_node("sys/kernel/hostname", S_IFREG | 0644);
    for (const Caller& who : {unprivileged(), full_root()}) {
        for (const Node* n : {last.get(), max.get()}) {
            CHECK(decide(ns, *n, who, Intent::open_write).refuse == -EPERM);
            CHECK(decide(ns, *n, who, Intent::change).refuse == -EPERM);
            CHECK(decide(ns, *n, who, Intent::access, W_OK).refuse == -EPERM);
            CHECK(decide(ns, *n, who, Intent::open_read).refuse == 0);
            CHECK(decide(ns, *n, who, Intent::access, R_OK).refuse == 0);
            // A host mount passes the write on: the writer's namespace is the daemon's there.
            CHECK(decide(MountOptions{}, *n, who, Intent::open_write).refuse == 0);
        }
        CHECK(decide(ns, *hostname, who, Intent::open_write).refuse == 0);
    }
}

TEST_CASE("self and thread-self are the caller's own links on every mount", "[unit][policy]")
{
    auto self = link_node(NodeKind::self_link);
    auto thread_self = link_node(NodeKind::thread_self);
    for (const MountOptions& m : {MountOptions{}, mount_with(Hidepid::invisible, readers_gid),
                                  mount_with(Hidepid::ptraceable), read_only_mount()})
        for (const Caller& who : {unprivileged(), full_root(), container_root()})
            for (const Node* n : {self.get(), thread_self.get()}) {
                // Their targets are computed at follow time from the reader's pid (self.c).
                Plan p = decide(m, *n, who, Intent::readlink);
                CHECK(p.refuse == 0);
                CHECK(p.content == Content::caller_link);
                CHECK_FALSE(p.as_caller);
            }
    // The link to another process is that process's business (the source's, as the caller).
    auto exe = pid_entry(task_of(other_pid), "exe", S_IFLNK | 0777);
    CHECK(decide(MountOptions{}, *exe, unprivileged(), Intent::readlink).content ==
          Content::source);
}

TEST_CASE("keys are opened as the caller and cut for every caller, root included",
          "[unit][policy]")
{
    auto keys = top_node("keys", S_IFREG | 0444);
    // Possession is judged by the opener's keyrings, which are the daemon's: no caller may see
    // what the daemon possesses, and no capability overrides a key's view permission.
    for (const Caller& who : {unprivileged(), ptracer(), full_root(), container_root()})
        for (const MountOptions& m : {MountOptions{}, mount_with(Hidepid::invisible)}) {
            Plan p = decide(m, *keys, who, Intent::open_read);
            CHECK(p.refuse == 0);
            CHECK(p.content == Content::filtered);
            CHECK(p.as_caller);
        }
}

TEST_CASE("a restricted node is looked up as the caller and never cached", "[unit][policy]")
{
    const MountOptions off;
    // Below a directory that not everyone may search (tty/driver is 0500): the kernel's dentry
    // cache, shared by all callers, would skip the search permission of the next one.
    auto serial = top_node("tty/driver/serial", S_IFREG | 0444, true);
    CHECK(decide(off, *serial, unprivileged(), Intent::stat).as_caller);
    CHECK(decide(off, *serial, unprivileged(), Intent::open_read).as_caller);
    CacheTimes t = cache_times(off, *serial, true);
    CHECK(t.entry == 0);
    CHECK(t.attr == 0);
    // The same row unrestricted (a file of a searchable directory) is cached.
    auto open_file = top_node("tty/drivers", S_IFREG | 0444);
    CHECK(cache_times(off, *open_file, true).attr > 0);
}

namespace {

sys::Result<std::string> fixed_answer(const ContentRequest&) { return {"42\n", 0}; }

// A test-only tree: one computed top-level file, one computed pid entry.
constexpr std::array computed_rows{
    Entry{.name = "answer",
          .kind = NodeKind::proc_entry,
          .lifetime = Lifetime::short_,
          .compute = fixed_answer,
          .mode = 0444},
    Entry{.name = "hello", .compute = fixed_answer, .mode = 0444},
};
const EntryTable computed_table{computed_rows, {.name = "", .kind = NodeKind::proc_entry}};

} // namespace

TEST_CASE("a computed row is opened as computed content that its compute hook makes",
          "[unit][policy][computed]")
{
    REQUIRE(computed_table.has_computed());
    const Caller who = unprivileged();
    auto answer = top_node("answer", S_IFREG | 0444, false, computed_table);
    REQUIRE(answer->entry == &computed_table.find("answer"));
    Plan p = decide(MountOptions{}, *answer, who, Intent::open_read);
    CHECK(p.refuse == 0);
    CHECK(p.content == Content::computed);
    // What an open calls for Content::computed (fuse/open.cpp): the row's compute hook, given
    // no source file when the source lacks the entry.
    REQUIRE((answer->entry->compute == &fixed_answer));
    REQUIRE((answer->entry->filter == nullptr));
    REQUIRE((answer->entry->unpermitted == nullptr));
    auto made = answer->entry->compute(ContentRequest{who, *answer, -1});
    CHECK(made.ok());
    CHECK(made.value == "42\n");

    // The same in a pid directory, also of the daemon's own process: a computed entry holds what
    // the daemon makes, not what a worker could read in the caller's place.
    for (pid_t pid : {other_pid, daemon_pid}) {
        auto hello = pid_entry(task_of(pid), "hello", S_IFREG | 0444, false, computed_table);
        Plan h = decide(MountOptions{}, *hello, who, Intent::open_read);
        CHECK(h.refuse == 0);
        CHECK(h.content == Content::computed);
    }
    // A name the test tree does not know is the source's, as for the kernel's tree.
    auto unknown = top_node("uptime", S_IFREG | 0444, false, computed_table);
    CHECK(decide(MountOptions{}, *unknown, who, Intent::open_read).content == Content::source);
}

TEST_CASE("the root, self and top-level entries are cached for the mount's timeouts",
          "[unit][policy][cache]")
{
    MountOptions m;
    m.entry_timeout = 600;
    m.attr_timeout = 2;
    for (auto& node : nodes(root_node(), link_node(NodeKind::self_link),
                            link_node(NodeKind::thread_self))) {
        CacheTimes t = cache_times(m, *node, false);
        CHECK(t.entry == 600);
        CHECK(t.attr == 2);
    }
    // Top-level files may be chmod'ed or come and go (modules): entries as long as attributes.
    auto meminfo = top_node("meminfo", S_IFREG | 0444);
    CacheTimes t = cache_times(m, *meminfo, false);
    CHECK(t.entry == 2);
    CHECK(t.attr == 2);
}

TEST_CASE(
    "pid nodes are cached until the reap on a hidepid=off mount; on a hidepid mount pid and tid directories are looked up at every walk, and what lies below them is kept",
    "[unit][policy][cache]")
{
    MountOptions off;
    off.entry_timeout = 600;
    off.attr_timeout = 2;
    auto other = task_of(other_pid);
    auto thread = task_of(other_pid, other_pid + 1);
    auto dir = pid_dir(other);
    auto tasks = task_dir(other);
    auto tid = tid_dir(thread);
    auto status = pid_entry(other, "status", S_IFREG | 0444);
    // The reap invalidates them explicitly (README, How it works), so they may be kept long.
    for (const Node* n : {dir.get(), tasks.get(), tid.get(), status.get()}) {
        CacheTimes t = cache_times(off, *n, true);
        CHECK(t.entry == 600);
        CHECK(t.attr == 2);
    }
    // What lies below a short-lived row (net/) lives as long as attributes.
    auto tcp = pid_entry(other, "net/tcp", S_IFREG | 0444);
    CHECK(cache_times(off, *tcp, true).entry == 2);
    // The kernel's caches are shared by all callers (fact 5): a pid or tid directory, whose
    // lookup judges the caller, is looked up at every walk (its attributes are reached only
    // through one); what lies below one is reached only through that walk, so its entry is kept,
    // and its attributes where entering is judged as looking up (not under hidepid=noaccess).
    auto thread_status = pid_entry(thread, "status", S_IFREG | 0444);
    for (Hidepid h : {Hidepid::noaccess, Hidepid::invisible, Hidepid::ptraceable}) {
        MountOptions hidden = off;
        hidden.hidepid = h;
        for (const Node* n : {dir.get(), tid.get()}) {
            CacheTimes t = cache_times(hidden, *n, true);
            CHECK(t.entry == 0);
            CHECK(t.attr == 2);
        }
        // Entering is judged as looking up, except under noaccess (every directory shown).
        double below = h == Hidepid::noaccess ? 0 : 2;
        for (const Node* n : {tasks.get(), status.get(), thread_status.get()}) {
            CacheTimes t = cache_times(hidden, *n, true);
            CHECK(t.entry == 600);
            CHECK(t.attr == below);
        }
        CHECK(cache_times(hidden, *tcp, true).entry == 2);
        CHECK(cache_times(hidden, *tcp, true).attr == below);
    }
}

TEST_CASE("volatile, restricted and untracked pid nodes are never cached", "[unit][policy][cache]")
{
    const MountOptions off;
    auto other = task_of(other_pid);
    // fdinfo/3 may go with any close(); fd/3 also lies below a directory not all may search.
    auto fdinfo = pid_entry(other, "fdinfo/3", S_IFREG | 0444);
    REQUIRE(fdinfo->lifetime == Lifetime::volatile_);
    auto fd3 = pid_entry(other, "fd/3", S_IFLNK | 0700, true);
    // A process served without a pidfd (none to spare) has nothing to invalidate its entries.
    auto untracked = pid_dir(other);
    untracked->task = nullptr;
    auto untracked_status = pid_entry(nullptr, "status", S_IFREG | 0444);
    for (const Node* n : {fdinfo.get(), fd3.get(), untracked.get(), untracked_status.get()})
        for (bool reap_reported : {false, true}) {
            INFO(n->path << " reap reported " << reap_reported);
            CacheTimes t = cache_times(off, *n, reap_reported);
            CHECK(t.entry == 0);
            CHECK(t.attr == 0);
        }
}

TEST_CASE("a zombie's entries are cached only where the kernel reports its reap",
          "[unit][policy][cache]")
{
    MountOptions off;
    off.entry_timeout = 600;
    auto zombie = task_of(other_pid);
    zombie->exited = true;
    auto dir = pid_dir(zombie);
    // Linux 6.9+ reports the reap on the pidfd, which then invalidates the entry.
    CHECK(cache_times(off, *dir, true).entry == 600);
    // Older kernels report only the exit, after which nothing would invalidate it: a zombie is
    // still listed until reaped, so it is served, but its entry not kept (fact 1).
    CHECK(cache_times(off, *dir, false).entry == 0);
    // A live process on such a kernel is invalidated at its exit.
    auto alive = pid_dir(task_of(other_pid));
    CHECK(cache_times(off, *alive, false).entry == 600);
}

TEST_CASE("directory_permits applies the owner's, the group's or the others' bits, whichever class "
          "the caller is in",
          "[unit][policy][permission]")
{
    const Caller owner = host_caller(1000, 1000);
    const Caller member = host_caller(2000, 2000, 0, {readers_gid});
    const Caller other = host_caller(3000, 3000);
    // Owner class: the owner's bits only, even where the group's or the others' would allow.
    CHECK(directory_permits(owner, dir_stat(1000, readers_gid, 0500), R_OK | X_OK));
    CHECK_FALSE(directory_permits(owner, dir_stat(1000, readers_gid, 0500), W_OK));
    CHECK_FALSE(directory_permits(owner, dir_stat(1000, 1000, 0077), R_OK));
    // Group class, by a supplementary group or the fsgid.
    CHECK(directory_permits(member, dir_stat(0, readers_gid, 0050), R_OK | X_OK));
    CHECK_FALSE(directory_permits(member, dir_stat(0, readers_gid, 0507), R_OK));
    CHECK(directory_permits(host_caller(2000, readers_gid), dir_stat(0, readers_gid, 0010), X_OK));
    // Others.
    CHECK(directory_permits(other, dir_stat(0, 0, 0005), R_OK | X_OK));
    CHECK_FALSE(directory_permits(other, dir_stat(0, 0, 0550), R_OK));
    CHECK_FALSE(directory_permits(other, dir_stat(0, 0, 0004), R_OK | X_OK));
    // Nothing asked, nothing refused.
    CHECK(directory_permits(other, dir_stat(0, 0, 0000), 0));
}

TEST_CASE("directory_permits lets CAP_DAC_OVERRIDE do anything and CAP_DAC_READ_SEARCH read and "
          "search",
          "[unit][policy][permission]")
{
    const struct stat root_only = dir_stat(0, 0, 0500);
    const Caller override = host_caller(nobody, nobody, cap(CAP_DAC_OVERRIDE));
    const Caller read_search = host_caller(nobody, nobody, cap(CAP_DAC_READ_SEARCH));
    CHECK(directory_permits(override, root_only, R_OK | W_OK | X_OK));
    CHECK(directory_permits(read_search, root_only, R_OK));
    CHECK(directory_permits(read_search, root_only, X_OK));
    CHECK(directory_permits(read_search, root_only, R_OK | X_OK));
    CHECK_FALSE(directory_permits(read_search, root_only, W_OK));
    CHECK_FALSE(directory_permits(read_search, root_only, R_OK | W_OK));
    // CAP_SYS_PTRACE is no file capability.
    CHECK_FALSE(directory_permits(ptracer(), root_only, R_OK));
    CHECK_FALSE(directory_permits(unprivileged(), root_only, X_OK));
    CHECK(directory_permits(full_root(), root_only, R_OK | X_OK));
}

TEST_CASE("capabilities of a caller from another user namespace count for nothing in "
          "directory_permits",
          "[unit][policy][permission][userns]")
{
    // Its capabilities are relative to its own namespace, where host root's files are not
    // mapped (capable_wrt_inode_uidgid).
    const Caller c = container_root();
    CHECK_FALSE(directory_permits(c, dir_stat(0, 0, 0500), R_OK));
    CHECK_FALSE(directory_permits(c, dir_stat(0, 0, 0500), X_OK));
    // Its ids still count as ids.
    CHECK(directory_permits(c, dir_stat(100000, 100000, 0500), R_OK | X_OK));
    CHECK(directory_permits(c, dir_stat(0, 0, 0555), R_OK | X_OK));
}
