// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// How to serve one request: one pure function of the mount's options, the node (with its row,
// procfsd/entry.hpp), the caller and what the request means to do. Every FUSE operation asks
// decide() and carries out the plan (lib/fuse/source.cpp makes the source calls it says, as the
// caller or as the daemon); nothing else decides who a request runs as.
//
// The rules are the kernel's, made to hold for a daemon whose worker threads act in the
// caller's place: the source procfs judges a worker running with the caller's credentials as
// it would judge the caller, except where the worker is not like the caller:
// - the daemon's own process: the kernel lets every thread of a process ptrace-inspect its own
//   thread group (same_thread_group() in __ptrace_may_access) and enter its own fd/ and
//   map_files/ (proc_fd_permission), and the worker threads are in the daemon's. So for that
//   process the kernel's rule for any other root process is applied here: who may ptrace it
//   (its uids and gids are all 0: fsuid and fsgid 0 with its capabilities, or CAP_SYS_PTRACE),
//   who may enter those directories (their mode), and what the kernel gives everyone else;
// - every process outside the user namespace of a caller from another one: the worker stays in
//   the daemon's namespace, where the kernel would judge it as a same-namespace task;
// - what the kernel lets a task do to itself (ptrace its own process, enter its own fd/, set
//   its own timerslack_ns): the worker stands in with the capability that passes that check.

#include <sys/stat.h>
#include <sys/types.h>

#include <cstdint>

#include "procfsd/caller.hpp"
#include "procfsd/mount_options.hpp"
#include "procfsd/node.hpp"

namespace procfsd {

// What a request means to do with a node.
enum class Intent : uint8_t {
    stat,       // lookup or getattr: the node's attributes
    search,     // look a name up in this directory
    list,       // open this directory to list it
    open_read,  // open for reading
    open_write, // open for writing (or reading and writing)
    readlink,
    access,     // access(2) with a mask
    inspect,    // getxattr, listxattr: as the caller, who may be refused
    change,     // setattr, setxattr, removexattr, mkdir, unlink, rename...: as the caller
};

// Where the content of an open comes from.
enum class Content : uint8_t {
    source,      // the source's, read at each read (as the caller when Plan::as_caller)
    filtered,    // the source's, cut for this caller at open (Entry::filter)
    computed,    // made by the daemon at open (Entry::compute)
    unpermitted, // what a reader without ptrace access gets (Entry::unpermitted)
    by_itself,   // what the task reads of itself (Entry::by_itself)
    caller_link, // self, thread-self: the caller's own pid
};

struct Plan {
    int refuse = 0;         // -errno to answer without asking the source
    bool as_caller = false; // ask the source with the caller's credentials
    uint64_t stand_in = 0;  // capabilities added to the caller's (see CredentialScope)
    // The daemon checks this access mask against the directory's mode itself (the daemon's own
    // fd/ and map_files/, which the kernel would let a worker into): 0 for none.
    int mode_check = 0;
    Content content = Content::source;
    // Writes to the open file fail with this -errno (another thread group's comm: EINVAL).
    int write_refusal = 0;
    // Listings of the root of a mount whose answers depend on the caller: every process is
    // judged for the caller (listed_pid()), from a listing of all of them.
    bool judge_each_pid = false;
    // READDIRPLUS of a root whose answers are the same for every caller: processes come with
    // their entries, as from lookups.
    bool pids_with_entries = false;
};

// The plan for `intent` on `node`. `mask`: access(2)'s for Intent::access.
Plan decide(const MountOptions& mount, const Node& node, const Caller& caller, Intent intent,
            int mask = 0);

// The capabilities the worker stands in with for this caller on this node, for the reads and
// writes of a file opened as the caller (a thread other than the opener's may read it).
uint64_t stand_in_capabilities(const Node& node, const Caller& caller);

// Whether a listing of the root shows process `pid` to the caller: yes, no, or as the source
// (asked as the caller) says.
enum class Listed : uint8_t { yes, no, ask_source };
Listed listed_pid(const MountOptions& mount, const Caller& caller, pid_t pid);

// generic_permission() for a directory: the owner's, the group's or the others' bits, whichever
// class the caller is in, else CAP_DAC_OVERRIDE, or CAP_DAC_READ_SEARCH to read and search.
bool directory_permits(const Caller& caller, const struct stat& st, int mask);

// How long the kernel may cache a node's entry and attributes on this mount. `reap_reported`:
// the kernel tells reaping on pidfds (else a zombie would stay cached past its reap).
struct CacheTimes {
    double entry = 0;
    double attr = 0;
};
CacheTimes cache_times(const MountOptions& mount, const Node& node, bool reap_reported) noexcept;

// Whether every caller may read (or list) what has this mode. The kernel applies the owner's,
// the group's or the others' bits, whichever class the caller is in, so all three must allow it.
constexpr bool readable_by_all(mode_t mode) noexcept { return (mode & 0444) == 0444; }

} // namespace procfsd
