// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>

namespace procfsd {

// One line of /proc/self/mountinfo, the fields procfsd needs.
struct MountInfo {
    std::string point;  // where it is mounted (octal escapes decoded)
    dev_t device = 0;   // its st_dev
    std::string fstype; // "fuse.procfsd", "proc", ...
};

// The mount on top at `path` (the last one mounted there) in this mount namespace, if any.
std::optional<MountInfo> top_mount_at(const std::string& path);

} // namespace procfsd
