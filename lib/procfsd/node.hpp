// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <fuse_lowlevel.h>
#include <sys/stat.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

namespace procfsd {

struct TrackedTask;
struct Entry;
struct Record;

// What a node of the tree is; decides how lookup, getattr, readdir and readlink treat it.
enum class NodeKind : uint8_t {
    root,        // the mount's root, FUSE_ROOT_ID
    self_link,   // "self": links to the caller's tgid
    thread_self, // "thread-self": links to <tgid>/task/<tid> of the caller
    proc_entry,  // anything else outside pid directories, mirrored from the source
    pid_dir,     // /proc/<tgid>, or the lookup-only /proc/<tid> of a non-leader thread
    task_dir,    // /proc/<pid>/task
    tid_dir,     // /proc/<pid>/task/<tid>
    pid_entry,   // anything below a pid_dir or tid_dir
};

// Nodes that belong to a process (they carry its task).
constexpr bool is_pid_node(NodeKind k) noexcept
{
    return k == NodeKind::pid_dir || k == NodeKind::task_dir || k == NodeKind::tid_dir ||
           k == NodeKind::pid_entry;
}

// The directories the kernel puts on a pid's inode list (the kernel's proc_flush_pid; README, How it works): /proc/<tgid>, the
// lookup-only /proc/<tid>, and task/<tid>. Invalidating them drops their subtrees.
constexpr bool is_listed_directory(NodeKind k) noexcept
{
    return k == NodeKind::pid_dir || k == NodeKind::tid_dir;
}

// The source path of `name` in directory `dir` ("42/status"; the root's children are bare).
std::string child_path(const struct Node& dir, std::string_view name);
// A new node like `proto` (a lookup's description of it), without its inode, parent and name,
// which the node table gives it, nor lookup count.
std::shared_ptr<struct Node> made_like(const struct Node& proto);

// How long the kernel may keep a node's entry and attributes.
enum class Lifetime : uint8_t {
    process,   // until the process is reaped (invalidated explicitly): the mount's entry_timeout
    volatile_, // may change at any moment (fd/N, map_files/*): never cached
    short_,    // everything else: the mount's attr_timeout
};

// One inode the kernel knows, in one mount. Immutable after creation, except the lookup count.
struct Node {
    fuse_ino_t ino = 0;
    fuse_ino_t parent = 0;
    std::string name;
    NodeKind kind = NodeKind::proc_entry;
    // Path below the source procfs ("" for the root, "42/task/43/status").
    std::string path;
    // The process or thread the node belongs to (pid nodes only). Its pidfd tells whether the
    // pid still names the same process, so a recycled pid never shows through an old inode.
    std::shared_ptr<TrackedTask> task;
    // The process (thread group) and thread it belongs to (pid nodes only), known also when the
    // daemon has no pidfd to spare and serves the process untracked (task null): the policy
    // judges the daemon's own process and the caller's by them.
    pid_t tgid = 0;
    pid_t tid = 0;
    // The row that serves it (procfsd/entry.hpp): its own, or that of the entry it lies below
    // (fd/3 has fd's). Null for the root and pid and tid directories.
    const Entry* entry = nullptr;
    // The node is its row's entry itself ("fd"), not one below it ("fd/3").
    bool entry_itself = false;
    Lifetime lifetime = Lifetime::short_;
    // Type and permission bits as the source reported them when the node was made; procfs
    // never changes them for a live inode.
    mode_t mode = 0;
    // True below a directory that not everyone may search (fd/, map_files/, tty/driver): such
    // nodes are looked up under the caller's credentials and never cached, since the kernel's
    // dentry cache is shared by all callers and would skip our check.
    bool restricted = false;
    // The object behind a link: `name` is the link's text (socket:[3984596]), looked up in the
    // link's directory as the kernel does when it follows it, and `path` the link ("42/fd/3"),
    // followed for its attributes while it still shows that text.
    bool behind_link = false;
    // The generation the kernel was given with the node id (the task's serial); kept across
    // restarts, since the kernel takes a known id with another generation for a stale inode.
    uint64_t generation = 0;
    std::atomic<uint64_t> nlookup{0};
    // Its record in the mount's state file (procfsd/mount_state.hpp); null when not kept.
    Record* saved = nullptr;
};

} // namespace procfsd
