// SPDX-License-Identifier: GPL-2.0-or-later
#include <sys/statvfs.h>

#include "fuse/operations.hpp"
#include "fuse/serve.hpp"

namespace procfsd::fuse_op {

void statfs(fuse_req_t req, fuse_ino_t ino)
{
    serve(req, Op::statfs, ino, [](const Request& r, const Node&) {
        struct statvfs sv{};
        if (::fstatvfs(r.mount.source_fd(), &sv) != 0)
            return -errno;
        fuse_reply_statfs(r.req, &sv);
        return replied;
    });
}

} // namespace procfsd::fuse_op
