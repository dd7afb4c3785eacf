// SPDX-License-Identifier: GPL-2.0-or-later
#include "fuse/open_file.hpp"
#include "fuse/operations.hpp"
#include "fuse/serve.hpp"
#include "fuse/source.hpp"

namespace procfsd::fuse_op {

namespace {

// An opendir of `node`, for OPENDIR and for a handle a previous server gave. 0 or -errno.
int open_dir(const Request& r, const std::shared_ptr<Node>& node, std::shared_ptr<OpenDir>& dir,
             HandleQuota::Charge& charge)
{
    if (int rv = start_open(r, node, Intent::list, dir, charge); rv < 0)
        return rv;
    if (int rv = source::check_mode(r, dir->plan, *node); rv < 0)
        return rv;
    auto src = source::open_for_caller(r, dir->plan, *node, O_RDONLY | O_DIRECTORY);
    if (!src.ok())
        return src.error;
    dir->fd = std::move(src.value);
    return check_alive(*node);
}

} // namespace

void opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi)
{
    serve(req, Op::opendir, ino, [fi](const Request& r, const std::shared_ptr<Node>& node) {
        std::shared_ptr<OpenDir> dir;
        HandleQuota::Charge charge;
        if (int rv = open_dir(r, node, dir, charge); rv < 0)
            return rv;
        return reply_opened(r, r.mount.dirs(), std::move(dir), std::move(charge), fi);
    });
}

void releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi)
{
    Request r(req, Op::releasedir);
    release_handle<OpenDir>(r.mount, fi->fh);
    finish(req, 0);
}

} // namespace procfsd::fuse_op

namespace procfsd {

int reopen_handle(const Request& r, const std::shared_ptr<Node>& node, int, std::shared_ptr<OpenDir>& open,
                  HandleQuota::Charge& charge)
{
    // Listed at the kernel's offsets, which procfs directories keep stable (pid numbers and row
    // indices), so a listing goes on where it was.
    return fuse_op::open_dir(r, node, open, charge);
}

} // namespace procfsd
