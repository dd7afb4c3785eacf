// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Mounts for the tests and the benchmark: what is mounted where (read from mountinfo, never by
// touching the mount, which would hang on a server that stopped answering), waiting for a FUSE
// server's mounts, aborting a stuck connection, scratch directories, a tool run with a mount
// over /proc, and the counters a procfsd daemon prints.

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace procfsd::support {

struct MountEntry {
    std::string device; // "MAJ:MIN"
    std::string type;   // "fuse.procfsd", "proc", ...
};

// The mount on top at `path` (the last one mounted there) in our mount namespace, if any.
std::optional<MountEntry> mount_at(const std::string& path);
bool is_mounted(const std::string& path);

enum class MountWait { ready, server_exited, timed_out };

// Waits until every one of `points` is mounted (with file system `type`, unless it is empty)
// and answers (a stat of <point>/self), or until `server` ends: then it is reaped and its
// waitpid status goes to *status.
MountWait wait_for_mounts(pid_t server, const std::vector<std::string>& points,
                          const std::string& type, std::chrono::milliseconds deadline,
                          int* status = nullptr);

// Aborts the FUSE connection of device "MAJ:MIN" through the fuse control file system (mounted
// if need be): every request waiting on its server fails with ENOTCONN.
bool abort_fuse_connection(const std::string& device);

// Detaches every mount below `dir`, innermost first.
// Detaches a mount a test left behind (`entry` is what mount_at() found there); a procfsd
// mount's connection is aborted first, so that nothing waits on it forever.
void detach_left_behind(const std::string& point, const MountEntry& entry);
void detach_mounts_below(const std::string& dir);

// A new directory /tmp/<prefix>-XXXXXX, mode 0755 so that unprivileged callers reach what is
// mounted in it; "" (errno set) on failure.
std::string make_scratch_dir(const std::string& prefix);

// The argv that runs the shell command `command` with `root` bind-mounted over /proc in a
// private mount namespace: a tool sees the mount as its /proc.
std::vector<std::string> over_proc(const std::string& root, const std::string& command);

// The counters of a procfsd daemon as `procfsd stats` and `procfsd ctl list` print them ("name
// value" lines); the nodes= of its "mount" lines are summed as "nodes".
std::map<std::string, long long> parse_counters(const std::string& text);

} // namespace procfsd::support
