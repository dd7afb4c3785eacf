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
    conn->max_write = static_cast<unsigned>(max_request_payload);
#ifdef PROCFSD_FUSE_URING
    // No handler waits on anything a signal should cut short, and none registers an interrupt
    // callback: INTERRUPT is answered ENOSYS once, so the kernel sends no more, and libfuse
    // keeps no list of requests in flight (a lock and two list updates per request). On
    // io_uring, libfuse would not find the ring request an INTERRUPT names, and would keep
    // each such INTERRUPT queued until a /dev/fuse request comes.
    conn->no_interrupt = 1;
    // libfuse wants io_uring by default when the session was asked for it (-o io_uring);
    // whether the rings then start, libfuse tells only its log (lib/transport.cpp).
    bool uring = mount->uring_asked() && (conn->capable & FUSE_CAP_OVER_IO_URING) != 0;
    if (!uring)
        conn->want &= ~FUSE_CAP_OVER_IO_URING;
    mount->uring_negotiated(uring);
    uring_init_begins(mount);
#else
    mount->uring_negotiated(false);
#endif
    spdlog::debug("{}: FUSE protocol {}.{}, want {:#x}", mount->mountpoint(), conn->proto_major,
                  conn->proto_minor, conn->want);
}

} // namespace procfsd::fuse_op
