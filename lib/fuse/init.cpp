// SPDX-License-Identifier: GPL-2.0-or-later
#include <spdlog/spdlog.h>

#include "fuse/operations.hpp"
#include "procfsd/mount.hpp"

namespace procfsd::fuse_op {

void init(void* userdata, fuse_conn_info* conn)
{
    auto* mount = static_cast<Mount*>(userdata);
    mount->stats().count(Op::init);
    // Symlink targets must not be cached: self and thread-self differ for every caller.
    conn->want &= ~FUSE_CAP_CACHE_SYMLINKS;
    // Lookups and listings of one directory may run in parallel (the root is busy).
    if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
        conn->want |= FUSE_CAP_PARALLEL_DIROPS;
    // Every request must be answered while its sender waits for it: the daemon reads who the
    // caller is (groups, capabilities) from its thread id, which an asynchronous direct I/O
    // request (io_submit) could outlive, and a recycled tid would lend it another's rights.
    conn->want &= ~FUSE_CAP_ASYNC_DIO;
    // Content is read through at the caller's offset; nothing is spliced or cached.
    conn->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
    spdlog::debug("{}: FUSE protocol {}.{}, want {:#x}", mount->mountpoint(), conn->proto_major,
                  conn->proto_minor, conn->want);
}

} // namespace procfsd::fuse_op
