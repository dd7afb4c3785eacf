// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

namespace procfsd {

// One line of /proc/self/mountinfo, the fields procfsd needs.
struct MountInfo {
    std::string point;  // where it is mounted (octal escapes decoded)
    dev_t device = 0;   // its st_dev
    std::string fstype; // "fuse.procfsd", "proc", ...
    std::string root;   // the directory of its file system it shows ("/" mostly)
    std::string super;  // its super options ("rw,memory" for a cgroup v1 hierarchy)
};

// The mount on top at `path` (the last one mounted there) in this mount namespace, if any.
std::optional<MountInfo> top_mount_at(const std::string& path);

// Every mount of this mount namespace, in mountinfo order (later ones on top).
std::vector<MountInfo> all_mounts();

} // namespace procfsd
