// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <string_view>

#include "procfsd/node.hpp"

namespace procfsd {

// Who may read an entry, and so whether the daemon may read it with its own credentials.
enum class Access : uint8_t {
    anyone, // world-readable, same content for every reader: read as the daemon (fast)
    kernel, // mode bits, ptrace checks or reader-dependent content: always under the caller's
            // credentials, so that the source procfs decides (EACCES, EPERM, zeroed fields)
};

// One entry of a pid directory, as in the kernel's tgid_base_stuff / tid_base_stuff tables
// (fs/proc/base.c). Which entries exist, their types and modes come from the source procfs,
// which knows the running kernel's configuration; this table says what the source cannot:
// how the daemon must serve each one.
struct PidEntry {
    std::string_view name;
    NodeKind kind;      // pid_entry, or task_dir for "task"
    Access access;      // for the entry itself and, for directories, everything below it
    Lifetime children;  // how long entries below it may be cached (directories only)
    // The process itself may always enter it, whatever its mode (proc_fd_permission: fd/ and
    // map_files/ of a non-dumpable process are 0500 root, yet its own threads list them).
    bool own_process_enters = false;
    // The kernel refuses it (EACCES) to a caller that may not ptrace the process (mm_access,
    // proc_fd_access_allowed, proc_ns_get_link, proc_fdinfo_permission): checked by hand for
    // the daemon's own process, where the kernel's check would see a thread of the same group.
    bool ptrace_gated = false;
    // Readable by anyone, but the kernel zeroes fields for a reader without ptrace access
    // (do_task_stat, proc_pid_wchan).
    bool ptrace_zeroes = false;
    // The task may set it on itself without CAP_SYS_NICE (timerslack_ns: p == current).
    bool own_thread_may_nice = false;
    // A directory whose listing only its mode guards (proc_readfd_common checks no ptrace
    // access; its links do): fd/.
    bool listed_by_mode = false;
};

// The entry of a pid or tid directory called `name`; entries the table does not know (a newer
// kernel's) get the safe default: kernel-checked, cached for the process's lifetime.
const PidEntry& find_pid_entry(std::string_view name) noexcept;

} // namespace procfsd
