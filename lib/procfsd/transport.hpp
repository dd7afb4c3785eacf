// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// How a mount's requests reach the daemon: /dev/fuse, read by the request loop's workers, or
// FUSE over io_uring (libfuse 3.18, Linux 6.14+), one ring queue per CPU with a pinned thread,
// each request served on the CPU that sent it. Even on io_uring, notifications (inval_entry,
// poll), FORGET and INTERRUPT travel over /dev/fuse, so its workers keep running.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "procfsd/mount_options.hpp"

namespace procfsd {

enum class Transport : uint8_t { dev_fuse, io_uring };

// The largest READ reply and WRITE a request carries (max_write, hence max_pages). Every ring
// entry (queue depth x CPUs, per mount) and every request thread keeps a buffer of this size,
// resident once a large read touched it: at libfuse's default of 1 MiB, a hundred mounts could
// hold hundreds of MiB. /proc's files are read in pieces of at most 128 KiB by cat and its
// like, and a larger read(2) is split by the kernel into requests at increasing offsets.
constexpr size_t max_request_payload = size_t{128} << 10;

[[nodiscard]] std::string_view transport_name(Transport t) noexcept;

// What this machine allows, read once per mount.
struct UringSupport {
    bool built = false;  // this procfsd's libfuse carries io_uring (not the system's 3.14)
    bool kernel = false; // /sys/module/fuse/parameters/enable_uring reads Y
};
[[nodiscard]] UringSupport uring_support();

// What a mount asks libfuse for, or why it refuses to mount (io_uring=on without support).
struct TransportPlan {
    bool ask_uring = false;
    int refuse = 0; // errno, with `why`
    std::string why;
};
[[nodiscard]] TransportPlan plan_transport(MountOptions::IoUring wanted, UringSupport support);

// Routes libfuse's own messages to spdlog, at their level, once per process. libfuse says only
// there that a ring it negotiated could not start (it then serves over /dev/fuse): the mount
// whose INIT is being answered on this thread (uring_init_begins()) is told so.
void route_libfuse_log();
class Mount;
void uring_init_begins(Mount* mount) noexcept;

} // namespace procfsd
