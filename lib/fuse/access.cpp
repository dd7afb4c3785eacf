// SPDX-License-Identifier: GPL-2.0-or-later
#include <unistd.h>

#include "fuse/operations.hpp"
#include "fuse/judged_by_daemon.hpp"
#include "fuse/request.hpp"

namespace procfsd::fuse_op {

void access(fuse_req_t req, fuse_ino_t ino, int mask)
{
    Request r(req, Op::access);
    auto node = r.node(ino);
    if (!node) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    if ((mask & W_OK) && r.mount.options().read_only) {
        fuse_reply_err(req, EROFS);
        return;
    }
    // The kernel's rules for access(2), which the header alone cannot carry (see Caller).
    r.caller.judge_as_access();
    if (int rv = daemon_private_dir_check(r, *node, mask); rv < 0) {
        fuse_reply_err(req, -rv);
        return;
    }
    // AT_EACCESS: check with the (switched) fs credentials, not the daemon's real uid.
    MaybeCredentials creds(r.caller, true, *node);
    int rv = creds.status();
    if (rv == 0 && ::faccessat(r.mount.source_fd(), node->path.c_str(), mask,
                               AT_EACCESS | AT_SYMLINK_NOFOLLOW) != 0)
        rv = -errno;
    if (rv == 0)
        rv = check_alive(*node);
    fuse_reply_err(req, -rv);
}

} // namespace procfsd::fuse_op
