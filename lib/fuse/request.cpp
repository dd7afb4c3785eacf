// SPDX-License-Identifier: GPL-2.0-or-later
#include "fuse/request.hpp"

#include "fuse/judged_by_daemon.hpp"
#include "procfsd/sys.hpp"

namespace procfsd {

int source_attr(const Request& r, const Node& node, struct stat* st)
{
    if (int rv = daemon_hidepid_check(r, node); rv < 0)
        return rv;
    MaybeCredentials creds(r.caller, lookup_is_checked(r.mount, node), node);
    if (int rv = creds.status(); rv < 0)
        return rv;
    if (int rv = sys::fstatat(r.mount.source_fd(), node.path.c_str(), st,
                              AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH);
        rv < 0)
        return rv;
    // Checked after the source answered: a pid recycled before that answer cannot leak through.
    return check_alive(node);
}

} // namespace procfsd
