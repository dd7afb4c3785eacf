// SPDX-License-Identifier: GPL-2.0-or-later
#include "fuse/open_file.hpp"
#include "fuse/operations.hpp"
#include "fuse/serve.hpp"
#include "fuse/source.hpp"

namespace procfsd::fuse_op {

void opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi)
{
    serve(req, Op::opendir, ino, [fi](const Request& r, const std::shared_ptr<Node>& node) {
        std::shared_ptr<OpenDir> dir;
        HandleQuota::Charge charge;
        if (int rv = start_open(r, node, Intent::list, dir, charge); rv < 0)
            return rv;
        if (int rv = source::check_mode(r, dir->plan, *node); rv < 0)
            return rv;
        auto src = source::open_for_caller(r, dir->plan, *node, O_RDONLY | O_DIRECTORY);
        if (!src.ok())
            return src.error;
        dir->fd = std::move(src.value);
        if (int rv = check_alive(*node); rv < 0)
            return rv;
        return reply_opened(r, r.mount.dirs(), std::move(dir), std::move(charge), fi);
    });
}

void releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi)
{
    Request r(req, Op::releasedir);
    r.mount.dirs().remove(fi->fh);
    finish(req, 0);
}

} // namespace procfsd::fuse_op
