// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Hand-made daemons, callers, processes and nodes for the unit tests of the policy
// (lib/policy.cpp) and of the entry tables (lib/entries.cpp): nothing is mounted, nothing needs
// root, and nothing is read from /proc. Every caller is told what it is (Caller::known), with a
// user namespace lookup that answers from the pid alone.

#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "procfsd/caller.hpp"
#include "procfsd/entry.hpp"
#include "procfsd/mount_options.hpp"
#include "procfsd/node.hpp"
#include "procfsd/policy.hpp"
#include "procfsd/process_tracker.hpp"

namespace procfsd {

// Readable failures: "unpermitted" rather than "3".
inline std::ostream& operator<<(std::ostream& os, Content c)
{
    constexpr const char* names[] = {"source", "filtered", "computed", "unpermitted",
                                     "by_itself", "caller_link"};
    return os << names[static_cast<int>(c)];
}

inline std::ostream& operator<<(std::ostream& os, Listed l)
{
    constexpr const char* names[] = {"yes", "no", "ask_source"};
    return os << names[static_cast<int>(l)];
}

} // namespace procfsd

namespace procfsd::policy_test {

constexpr uint64_t cap(int c) { return uint64_t{1} << c; }
// Every capability up to CAP_CHECKPOINT_RESTORE (40): what a root daemon holds.
constexpr uint64_t all_capabilities = (uint64_t{1} << 41) - 1;

// The processes the tests talk about.
constexpr pid_t daemon_pid = 100;      // the daemon, whose worker threads serve requests
constexpr pid_t daemon_thread = 101;   // one of its worker threads
constexpr pid_t caller_pid = 2000;     // the caller's own process (its leader thread)
constexpr pid_t caller_thread = 2001;  // another thread of the caller's process
constexpr pid_t other_pid = 3000;      // any other process of the daemon's user namespace
constexpr pid_t container_pid = 5000;  // a container's process: pids from 5000 are in it
constexpr pid_t container_other = 5001;

constexpr ino_t host_user_ns = 4026531837;      // the daemon's (the initial one)
constexpr ino_t container_user_ns = 4026532600; // a container's

constexpr uid_t nobody = 65534;
constexpr gid_t readers_gid = 4000; // gid= of the hidepid mounts below

// The user namespace of a process: the container's from pid 5000 on, else the daemon's.
inline ino_t user_ns_of_pid(pid_t pid)
{
    return pid >= container_pid ? container_user_ns : host_user_ns;
}

// A root daemon with every capability, in the initial user namespace.
inline const DaemonIdentity& the_daemon()
{
    static const DaemonIdentity d = [] {
        DaemonIdentity id;
        id.pid = daemon_pid;
        id.effective = all_capabilities;
        id.user_ns = host_user_ns;
        return id;
    }();
    return d;
}

// A caller in the daemon's user namespace, thread `tid` of process `tgid`.
inline Caller host_caller(uid_t uid, gid_t gid, uint64_t caps = 0, std::vector<gid_t> groups = {},
                          pid_t tid = caller_pid, pid_t tgid = caller_pid)
{
    return Caller::known(uid, gid, tid, the_daemon(),
                         {.tgid = tgid,
                          .groups = std::move(groups),
                          .capabilities = caps,
                          .user_ns = host_user_ns,
                          .user_ns_of = user_ns_of_pid});
}

// An unprivileged user (nobody), in process 2000.
inline Caller unprivileged(std::vector<gid_t> groups = {})
{
    return host_caller(nobody, nobody, 0, std::move(groups));
}
// Nobody with CAP_SYS_PTRACE and nothing else.
inline Caller ptracer() { return host_caller(nobody, nobody, cap(CAP_SYS_PTRACE)); }
// Root with every capability the daemon has: the daemon's credentials give it nothing more.
inline Caller full_root() { return host_caller(0, 0, all_capabilities); }
// Root ids without capabilities (capset to none).
inline Caller powerless_root() { return host_caller(0, 0, 0); }
// The same user in another thread (2001) of its process 2000.
inline Caller unprivileged_in_thread()
{
    return host_caller(nobody, nobody, 0, {}, caller_thread, caller_pid);
}

// A container's root: every capability, but in its own user namespace; process 5000.
inline Caller container_root(std::vector<gid_t> groups = {})
{
    return Caller::known(100000, 100000, container_pid, the_daemon(),
                         {.tgid = container_pid,
                          .groups = std::move(groups),
                          .capabilities = all_capabilities,
                          .user_ns = container_user_ns,
                          .user_ns_of = user_ns_of_pid});
}

inline MountOptions mount_with(Hidepid hidepid, std::optional<gid_t> gid = std::nullopt)
{
    MountOptions o;
    o.hidepid = hidepid;
    o.gid = gid;
    return o;
}

inline MountOptions read_only_mount()
{
    MountOptions o;
    o.read_only = true;
    return o;
}

// A tracked process or thread, alive; no pidfd (the policy never probes one).
inline std::shared_ptr<TrackedTask> task_of(pid_t tgid, pid_t tid = 0)
{
    auto t = std::make_shared<TrackedTask>();
    t->tgid = tgid;
    t->tid = tid ? tid : tgid;
    return t;
}

inline std::string dir_path(const TrackedTask& t)
{
    return t.tid == t.tgid ? std::to_string(t.tgid)
                           : std::to_string(t.tgid) + "/task/" + std::to_string(t.tid);
}

// The fields every fixture node sets.
inline std::unique_ptr<Node> make_node(NodeKind kind, std::string name, std::string path, mode_t mode)
{
    auto n = std::make_unique<Node>();
    n->kind = kind;
    n->name = std::move(name);
    n->path = std::move(path);
    n->mode = mode;
    return n;
}

// Serves `n` by the row `e`: its own entry when `itself`, else something below it.
inline void serve_by(Node& n, const Entry& e, bool itself)
{
    n.entry = &e;
    n.entry_itself = itself;
    n.lifetime = itself ? e.lifetime : e.children;
}

// Ties `n` to its task, whose ids the node carries as the lookup's does.
inline void of_task(Node& n, std::shared_ptr<TrackedTask> t)
{
    n.task = std::move(t);
    if (n.task) {
        n.tgid = n.task->tgid;
        n.tid = n.task->tid;
    }
}

inline std::unique_ptr<Node> root_node()
{
    auto n = make_node(NodeKind::root, "", "", S_IFDIR | 0555);
    n->ino = FUSE_ROOT_ID;
    return n;
}

// self or thread-self.
inline std::unique_ptr<Node> link_node(NodeKind kind)
{
    std::string name = kind == NodeKind::self_link ? "self" : "thread-self";
    auto n = make_node(kind, name, name, S_IFLNK | 0777);
    serve_by(*n, kernel_tree().root.find(name), true);
    return n;
}

// A node outside pid directories ("meminfo", "sys/kernel/hostname"), served by the row of its
// first component in `table`.
inline std::unique_ptr<Node> top_node(std::string_view rel, mode_t mode, bool restricted = false,
                                      const EntryTable& table = kernel_tree().root)
{
    auto slash = rel.find('/');
    auto n = make_node(NodeKind::proc_entry, std::string(rel.substr(rel.rfind('/') + 1)),
                       std::string(rel), mode);
    serve_by(*n, table.find(rel.substr(0, slash)), slash == std::string_view::npos);
    n->restricted = restricted;
    return n;
}

// /proc/<pid> (or the lookup-only /proc/<tid> of a thread: kind pid_dir, task a thread).
inline std::unique_ptr<Node> pid_dir(std::shared_ptr<TrackedTask> t)
{
    std::string name = std::to_string(t->tid);
    auto n = make_node(NodeKind::pid_dir, name, name, S_IFDIR | 0555);
    n->lifetime = Lifetime::process;
    of_task(*n, std::move(t));
    return n;
}

// /proc/<pid>/task.
inline std::unique_ptr<Node> task_dir(std::shared_ptr<TrackedTask> t)
{
    auto n = make_node(NodeKind::task_dir, "task", std::to_string(t->tgid) + "/task", S_IFDIR | 0555);
    serve_by(*n, kernel_tree().pid.find("task"), true);
    of_task(*n, std::move(t));
    return n;
}

// /proc/<pid>/task/<tid>: `t` is the thread.
inline std::unique_ptr<Node> tid_dir(std::shared_ptr<TrackedTask> t)
{
    std::string name = std::to_string(t->tid);
    auto n = make_node(NodeKind::tid_dir, name, std::to_string(t->tgid) + "/task/" + name,
                       S_IFDIR | 0555);
    n->lifetime = Lifetime::process;
    of_task(*n, std::move(t));
    return n;
}

// An entry of a pid or tid directory ("environ", "fd", "fd/0", "ns/pid"), served by the row of
// its first component; below task/<tid> when `t` is a thread.
inline std::unique_ptr<Node> pid_entry(std::shared_ptr<TrackedTask> t, std::string_view rel,
                                       mode_t mode, bool restricted = false,
                                       const EntryTable& table = kernel_tree().pid)
{
    auto slash = rel.find('/');
    auto n = make_node(NodeKind::pid_entry, std::string(rel.substr(rel.rfind('/') + 1)),
                       (t ? dir_path(*t) : std::string("?")) + "/" + std::string(rel), mode);
    serve_by(*n, table.find(rel.substr(0, slash)), slash == std::string_view::npos);
    n->restricted = restricted;
    of_task(*n, std::move(t));
    return n;
}

// Several nodes of different kinds, to walk in one loop.
template <typename... Nodes>
std::vector<std::unique_ptr<Node>> nodes(Nodes&&... n)
{
    std::vector<std::unique_ptr<Node>> v;
    (v.push_back(std::forward<Nodes>(n)), ...);
    return v;
}

// A directory's attributes, for directory_permits().
inline struct stat dir_stat(uid_t uid, gid_t gid, mode_t perm)
{
    struct stat st{};
    st.st_uid = uid;
    st.st_gid = gid;
    st.st_mode = S_IFDIR | perm;
    return st;
}

} // namespace procfsd::policy_test
