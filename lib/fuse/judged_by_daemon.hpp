// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The processes the daemon judges itself, because a worker thread running as the caller would
// be judged by the kernel in ways the caller would not:
// - the daemon's own process: the kernel lets every thread of a process ptrace-inspect its own
//   thread group (same_thread_group() in __ptrace_may_access) and enter its own fd/ and
//   map_files/ (proc_fd_permission), and the worker threads are in the daemon's. So for that one
//   process the kernel's rule for any other root process is applied here: who may ptrace it
//   (its uids and gids are all 0: fsuid and fsgid 0 with its capabilities, or CAP_SYS_PTRACE),
//   who may enter those directories (their mode), and what the kernel gives everyone else;
// - every process outside the user namespace of a caller from another one: the worker stays in
//   the daemon's namespace, where the kernel would judge it as a same-namespace task.

#include <optional>
#include <string>
#include <string_view>

#include "fuse/request.hpp"

namespace procfsd {

// True when the caller may not ptrace `node`'s process but the kernel's check, made by a worker
// thread, would pass: the daemon's own process (its threads are the worker's thread group), or
// any process outside the user namespace of a caller from another namespace.
bool shielded_daemon_node(const Request& r, const Node& node);

// For lookup and getattr: the hidepid= answer (0, -ENOENT or -EPERM) that has_pid_permissions()
// would give the caller, for the processes a worker cannot be judged on in its place: the
// daemon's own, and those outside the user namespace of a caller from another one.
int daemon_hidepid_check(const Request& r, const Node& node);
// The same for listing the node itself (opendir), which enters a pid directory.
int daemon_hidepid_enter_check(const Request& r, const Node& node);
// Whether the root listing shows the daemon's pid to this caller.
bool daemon_pid_listed(const Request& r);
// Whether the root listing of a hidepid= mount shows `pid` to a caller from another user
// namespace, to which the kernel denies ptrace access to every process outside it; true for
// callers of the daemon's namespace, which the source judges.
bool foreign_pid_listed(const Request& r, pid_t pid);

// For opens, listings and links: -EACCES where the kernel's ptrace check would refuse.
int daemon_ptrace_check(const Request& r, const Node& node);

// For listing (`mask` R_OK), searching (X_OK) or access(2) on the daemon's own fd/ and
// map_files/: -EACCES where the directory's mode refuses the caller. The kernel lets a process
// into its own (proc_fd_permission), which the worker threads are; CAP_SYS_PTRACE does not
// bypass the mode, the DAC capabilities do. 0 for every other node.
int daemon_private_dir_check(const Request& r, const Node& dir, int mask);

// Content the kernel gives a reader without ptrace access (wchan: "0"; stat: the address and
// exit fields zeroed, as do_task_stat() does), when it differs from what the daemon reads.
std::optional<std::string> daemon_unpermitted_content(const Node& node, int source_fd);

// stat with the fields do_task_stat() hides from a reader without ptrace access.
std::string zero_unpermitted_stat(std::string_view stat);

} // namespace procfsd
