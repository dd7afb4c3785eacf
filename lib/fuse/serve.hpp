// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The skeleton of every FUSE operation: count it, resolve its node or open handle, run its
// handler, reply. A handler returns -errno (replied as the error), 0 (replied as success
// without data) or `replied` (it sent its own reply, with data).

#include <fuse_lowlevel.h>

#include "fuse/open_file.hpp"
#include "fuse/request.hpp"

namespace procfsd {

constexpr int replied = 1;

inline void finish(fuse_req_t req, int rv)
{
    if (rv != replied)
        fuse_reply_err(req, -rv);
}

// An operation on node `ino`: ENOENT when the kernel names a node the mount no longer has.
// The handler takes the node, or its shared pointer to keep it (open, opendir).
template <typename Handler>
void serve(fuse_req_t req, Op op, fuse_ino_t ino, Handler&& handler)
{
    Request r(req, op);
    auto node = r.node(ino);
    if (!node)
        return finish(req, -ENOENT);
    if constexpr (std::is_invocable_v<Handler, Request&, const std::shared_ptr<Node>&>)
        finish(req, handler(r, node));
    else
        finish(req, handler(r, *node));
}

// The start of an open or opendir: the object for its handle with the plan for `intent`
// (refused here when the plan says so), and the caller's charge for the handle, taken before
// the source is opened so that descriptors stay within the caller's share. 0 or -errno.
template <typename T>
int start_open(const Request& r, const std::shared_ptr<Node>& node, Intent intent,
               std::shared_ptr<T>& open, HandleQuota::Charge& charge)
{
    open = std::make_shared<T>();
    open->node = node;
    open->plan = decide(r.mount.options(), *node, r.caller, intent);
    if (open->plan.refuse < 0)
        return open->plan.refuse;
    charge = r.mount.charge_handle(r.caller.fsuid());
    return charge.ok() ? 0 : -EMFILE;
}

// Replies a new open handle, kept in `table` with its charge until its RELEASE.
template <typename T>
int reply_opened(const Request& r, HandleTable<T>& table, std::shared_ptr<T> open,
                 HandleQuota::Charge charge, fuse_file_info* fi)
{
    fi->fh = table.add(std::move(open), std::move(charge));
    if (fuse_reply_open(r.req, fi) != 0)
        table.remove(fi->fh); // interrupted: no RELEASE will come for it
    return replied;
}

// An operation on an open file or directory (T: OpenFile or OpenDir): EBADF when the handle
// is not (or no longer) open.
template <typename T, typename Handler>
void serve_open(fuse_req_t req, Op op, const fuse_file_info* fi, Handler&& handler)
{
    Request r(req, op);
    std::shared_ptr<T> open;
    if constexpr (std::is_same_v<T, OpenFile>)
        open = r.mount.files().get(fi->fh);
    else
        open = r.mount.dirs().get(fi->fh);
    finish(req, open ? handler(r, *open) : -EBADF);
}

} // namespace procfsd
