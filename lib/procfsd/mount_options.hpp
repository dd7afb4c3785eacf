// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace procfsd {

// The kernel's hidepid= levels (enum proc_hidepid in include/linux/proc_fs.h).
enum class Hidepid { off = 0, noaccess = 1, invisible = 2, ptraceable = 4 };

// Everything one mount can be told with -o. Parsed and validated in one place
// (parse_mount_options), printed back canonically for `mount` output and `ctl list`.
struct MountOptions {
    std::string source = "/proc"; // the procfs the content comes from
    bool read_only = false;
    // Entry timeout of pid directories on mounts whose answers do not depend on the caller:
    // reaped processes are invalidated explicitly, so the kernel may keep them for long.
    double entry_timeout = 3600.0;
    // Attribute timeout: owners change on setuid(), fd/ sizes change with every open().
    double attr_timeout = 1.0;
    Hidepid hidepid = Hidepid::off;
    std::optional<gid_t> gid;
    bool subset_pid = false;
    // pidns=: the pid namespace file whose view the mount shows; empty for the daemon's own.
    std::string pidns;
    // resources=: whose memory, swap, CPUs, uptime, load, disks and pressure the resource files
    // show: the host's, the reader's container's (cgroup), or one cgroup's for every reader
    // (cgroup:PATH, `resources_cgroup`, a path below the cgroup roots).
    enum class Resources : uint8_t { host, cgroup };
    Resources resources = Resources::host;
    std::string resources_cgroup;
    // io_uring=: whether requests travel over FUSE's io_uring rings (one queue per CPU, served
    // on the CPU that asked) or /dev/fuse: `auto` whenever the kernel allows it
    // (/sys/module/fuse/parameters/enable_uring), `on` refuses to mount without it. See
    // lib/transport.cpp.
    enum class IoUring : uint8_t { automatic, on, off };
    IoUring io_uring = IoUring::automatic;
    // Ring entries per queue (io_uring_depth=): each holds a request buffer of max_write.
    unsigned io_uring_depth = 2;
    // Generic VFS flags (nosuid, nodev, noexec, ...) handed to the kernel as given.
    std::vector<std::string> vfs_flags;

    // Canonical "key=value,..." form, every non-default option once. The generic VFS flags are
    // left out on request: `mount` already shows them in the options column.
    [[nodiscard]] std::string to_string(bool with_vfs_flags = true) const;
    // True when no answer depends on who asks (so entries may be cached for every caller).
    [[nodiscard]] bool caller_independent() const noexcept { return hidepid == Hidepid::off; }
};

// Parses a comma-separated option list (as `-o` or an fstab field carries it). Returns the
// options, or one line naming the offending option and why it was refused.
std::variant<MountOptions, std::string> parse_mount_options(std::string_view text,
                                                            MountOptions base = {});

// Every mount option with its value and what it does, one per line, from the table that parses
// them (for --help and the man page's test).
std::string mount_options_help();
// The names of the options that table knows.
std::vector<std::string> mount_option_names();

// The hidepid level's kernel name ("invisible").
std::string_view hidepid_name(Hidepid level) noexcept;

} // namespace procfsd
