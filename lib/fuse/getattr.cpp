// SPDX-License-Identifier: GPL-2.0-or-later
#include "fuse/operations.hpp"
#include "fuse/request.hpp"

namespace procfsd::fuse_op {

void getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*)
{
    Request r(req, Op::getattr);
    auto node = r.node(ino);
    if (!node) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    struct stat st{};
    if (int rv = source_attr(r, *node, &st); rv < 0) {
        fuse_reply_err(req, -rv);
        return;
    }
    fuse_reply_attr(req, &st, r.mount.attr_timeout(*node));
}

} // namespace procfsd::fuse_op
