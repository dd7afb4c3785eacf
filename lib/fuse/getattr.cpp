// SPDX-License-Identifier: GPL-2.0-or-later
#include "fuse/attributes.hpp"
#include "fuse/operations.hpp"
#include "fuse/serve.hpp"

namespace procfsd::fuse_op {

void getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*)
{
    serve(req, Op::getattr, ino, [](const Request& r, const Node& node) {
        struct stat st{};
        if (int rv = attributes(r, node, &st); rv < 0)
            return rv;
        fuse_reply_attr(r.req, &st, r.mount.cache_times(node).attr);
        return replied;
    });
}

} // namespace procfsd::fuse_op
