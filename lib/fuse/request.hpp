// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <fuse_lowlevel.h>

#include <memory>
#include <shared_mutex>

#include "procfsd/caller.hpp"
#include "procfsd/mount.hpp"
#include "procfsd/node.hpp"
#include "procfsd/process_tracker.hpp"
#include "procfsd/stats.hpp"

namespace procfsd {

// What every operation starts from: its mount, its caller, and the counter bumped for it.
struct Request {
    Request(fuse_req_t r, Op op)
        : req(r), mount(*static_cast<Mount*>(fuse_req_userdata(r))),
          caller([r, this] {
              const fuse_ctx* ctx = fuse_req_ctx(r);
              return Caller(ctx->uid, ctx->gid, ctx->pid, mount.daemon());
          }())
    {
#ifdef PROCFSD_FUSE_URING
        mount.count(op, fuse_req_is_uring(r));
#else
        mount.count(op);
#endif
    }

    [[nodiscard]] std::shared_ptr<Node> node(fuse_ino_t ino) const { return mount.nodes().get(ino); }

    fuse_req_t req;
    Mount& mount;
    Caller caller;
    // An upgrade hands the session over between requests (Mount::gate).
    std::shared_lock<std::shared_timed_mutex> gate{mount.gate()};
};

// 0 while the process a pid node belongs to still exists (zombies included), else -ENOENT, as
// the kernel's pid_revalidate makes every path below a reaped process vanish.
inline int check_alive(const Node& node) noexcept
{
    return (!node.task || node.task->alive()) ? 0 : -ENOENT;
}

// Lowers a node's lookup count; when the kernel holds it no more, drops it and, for a pid or
// tid directory, its entry in the process tracker.
void forget_node(Mount& mount, fuse_ino_t ino, uint64_t nlookup);

} // namespace procfsd
