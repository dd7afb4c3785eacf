// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// How each node of the tree is served, as rows: the kernel's tgid_base_stuff (fs/proc/base.c)
// and proc_root's entries, with what the source procfs cannot tell the daemon. Which entries
// exist, their types and modes come from the source, which knows the running kernel's
// configuration; a row says who may read the entry and with whose credentials, how long the
// kernel may cache it, and whether its content is the source's as it is (mirrored), the
// source's cut for the caller (filtered) or made by the daemon (computed). A node below a row's
// directory (fd/3, net/tcp, sys/kernel/hostname) is served by that row.
//
// lib/policy.cpp decides each request from the row; lib/entries.cpp holds the kernel's rows.

#include <sys/types.h>

#include <algorithm>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "procfsd/node.hpp"
#include "procfsd/sys.hpp"

namespace procfsd {

class Caller;
struct ResourceScope;

// What an entry's content hook is given: the caller, the node, the node's source file as this
// open opened it (-1 for a computed entry the source does not have), and whose resources the
// mount shows (null: the host's, resources=host).
struct ContentRequest {
    const Caller& caller;
    const Node& node;
    int file;
    const ResourceScope* resources = nullptr;
};

// Content made or cut by the daemon for one open; the error is -errno.
using ContentFn = sys::Result<std::string> (*)(const ContentRequest&);

// The kernel's checks that the daemon applies itself or must make room for (lib/policy.cpp).
enum EntryFlag : uint16_t {
    // Same content for every reader, with no check at open or read: opened and read with the
    // daemon's credentials (a switch saved) while its mode lets everyone read it.
    alike = 1 << 0,
    // The process itself may enter it, whatever its mode (proc_fd_permission: fd/ and
    // map_files/ of a non-dumpable process are 0500 root, yet its own threads list them).
    own_process_enters = 1 << 1,
    // The kernel refuses it (EACCES) to a caller that may not ptrace the process (mm_access,
    // proc_fd_access_allowed, proc_ns_get_link, proc_fdinfo_permission): judged by the daemon
    // where a worker thread would pass the kernel's check in the caller's place.
    ptrace_gated = 1 << 2,
    // Readable by anyone, but the kernel zeroes fields for a reader without ptrace access
    // (do_task_stat, proc_pid_wchan): see Entry::unpermitted.
    ptrace_zeroes = 1 << 3,
    // The task may set it on itself without CAP_SYS_NICE (timerslack_ns: p == current).
    own_thread_may_nice = 1 << 4,
    // A directory whose listing only its mode guards (proc_readfd_common checks no ptrace
    // access; its links do): fd/.
    listed_by_mode = 1 << 5,
    // Searching it needs ptrace access too (proc_fdinfo_permission: fdinfo/).
    searched_by_ptrace = 1 << 6,
    // Only its own thread group may write it, whatever its mode lets open it (comm_write,
    // proc_tid_comm_permission): others' writes fail with EINVAL.
    group_writes = 1 << 7,
    // Its compute hook serves the files below it (pressure/cpu), not the directory itself.
    // Writing them is refused (EOPNOTSUPP): a write would reach the source's file, which the
    // computed content does not stand for (a PSI trigger on the host's pressure, not on the
    // container's).
    computes_below = 1 << 8,
    // Its links' relative texts (socket:[3984596], net:[4026531833]) are names the kernel looks
    // up in it when a link is followed: such a name is answered with the object behind the
    // link that shows that text (lib/fuse/link_target.cpp).
    resolves_link_texts = 1 << 9,
};

struct Entry {
    std::string_view name;
    NodeKind kind = NodeKind::pid_entry;
    uint16_t flags = 0;
    Lifetime lifetime = Lifetime::process; // the entry itself
    Lifetime children = Lifetime::process; // what lies below it (directories)
    // Filtered: the source's content, opened as the caller, cut to what the kernel would show
    // this caller (keys: the daemon's keyrings must not count as the caller's).
    ContentFn filter = nullptr;
    // What the kernel gives a reader without ptrace access where the daemon judges that reader
    // (ptrace_zeroes: the daemon's own stat and wchan).
    ContentFn unpermitted = nullptr;
    // What a task reads of itself (the caller's thread is the node's task): the source's content
    // with the fields that the caller's own wait in FUSE disturbs as they read natively, where
    // the task is running its read (state R, wchan 0).
    ContentFn by_itself = nullptr;
    // Computed: content made by the daemon; the source's file, if any, gives only attributes.
    ContentFn compute = nullptr;
    // Permission bits of a computed entry that the source does not have.
    mode_t mode = 0444;

    [[nodiscard]] constexpr bool has(EntryFlag f) const noexcept { return (flags & f) != 0; }
    // The entry itself is made by the daemon: it exists even where the source lacks it.
    [[nodiscard]] constexpr bool computed_itself() const noexcept
    {
        return compute != nullptr && !has(computes_below);
    }
};

// The rows of one directory; `unknown` serves names no row has (a newer kernel's entries):
// the safe default, checked by the kernel for each caller.
class EntryTable {
public:
    // constexpr, so that the tables are constant-initialized, before any code asks them.
    constexpr EntryTable(std::span<const Entry> rows, Entry unknown) noexcept
        : rows(rows), unknown(unknown),
          has_computed_(std::any_of(rows.begin(), rows.end(), [](const Entry& e) { return e.computed_itself(); }))
    {
    }

    std::span<const Entry> rows;
    Entry unknown;

    [[nodiscard]] const Entry& find(std::string_view name) const noexcept;
    // Whether some row is computed: listings add those the source lacks (fuse/readdir.cpp).
    [[nodiscard]] bool has_computed() const noexcept { return has_computed_; }

private:
    bool has_computed_; // known once: every listing's end asks
};

// The tables of one mount's tree: its root, and its pid and tid directories.
struct Tree {
    const EntryTable& root;
    const EntryTable& pid;
    const EntryTable& tid;

    // The table whose rows name the children of a directory of this kind; null for
    // directories whose children carry the directory's own row (fd/, net/, sys/) or none
    // (task/: thread ids).
    [[nodiscard]] const EntryTable* table_below(NodeKind dir) const noexcept
    {
        return dir == NodeKind::root      ? &root
               : dir == NodeKind::pid_dir ? &pid
               : dir == NodeKind::tid_dir ? &tid
                                          : nullptr;
    }
};

// The kernel's tree, which every mount serves unless it is given another (tests).
const Tree& kernel_tree() noexcept;
// The kernel's tree with the resource files rendered for the reader's container
// (resources=cgroup; lib/resource_content.cpp).
const Tree& container_tree() noexcept;

// Whether the kernel serves the file at `path` (below the root's rows, "sys/kernel/pid_max")
// for the pid namespace of whoever writes it (task_active_pid_ns), not for the mount's: through
// a pidns= mount the writer is the daemon, in its own namespace (policy.cpp refuses the write).
bool written_for_writers_pidns(std::string_view path) noexcept;

} // namespace procfsd
