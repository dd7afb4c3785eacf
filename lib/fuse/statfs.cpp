// SPDX-License-Identifier: GPL-2.0-or-later
#include <sys/statvfs.h>

#include "fuse/operations.hpp"
#include "fuse/request.hpp"

namespace procfsd::fuse_op {

void statfs(fuse_req_t req, fuse_ino_t)
{
    Request r(req, Op::statfs);
    struct statvfs sv{};
    if (::fstatvfs(r.mount.source_fd(), &sv) != 0) {
        fuse_reply_err(req, errno);
        return;
    }
    fuse_reply_statfs(req, &sv);
}

} // namespace procfsd::fuse_op
