// SPDX-License-Identifier: GPL-2.0-or-later
#include <unistd.h>

#include "fuse/attributes.hpp"
#include "fuse/open_file.hpp"
#include "fuse/operations.hpp"
#include "fuse/serve.hpp"
#include "fuse/source.hpp"
#include "procfsd/sys.hpp"

namespace procfsd::fuse_op {

namespace {

// Applies one attribute change to the source as the caller, so that the kernel's procfs answers
// (chmod is always EPERM there, truncation of a writable file is allowed, ...).
int apply(const Request& r, const Node& node, const struct stat* attr, int to_set, fuse_file_info* fi)
{
    int src = r.mount.source_fd();
    const char* path = node.path.c_str();
    if (to_set & FUSE_SET_ATTR_MODE)
        if (::fchmodat(src, path, attr->st_mode & 07777, 0) != 0)
            return -errno;
    if (to_set & (FUSE_SET_ATTR_UID | FUSE_SET_ATTR_GID)) {
        uid_t uid = (to_set & FUSE_SET_ATTR_UID) ? attr->st_uid : static_cast<uid_t>(-1);
        gid_t gid = (to_set & FUSE_SET_ATTR_GID) ? attr->st_gid : static_cast<gid_t>(-1);
        if (::fchownat(src, path, uid, gid, AT_SYMLINK_NOFOLLOW) != 0)
            return -errno;
    }
    if (to_set & FUSE_SET_ATTR_SIZE) {
        if (auto open = fi ? r.mount.files().get(fi->fh) : nullptr; open && open->fd) {
            if (::ftruncate(open->fd.get(), attr->st_size) != 0)
                return -errno;
        } else {
            auto file = sys::openat(src, path, O_WRONLY | O_NOFOLLOW);
            if (!file.ok())
                return file.error;
            if (::ftruncate(file.value.get(), attr->st_size) != 0)
                return -errno;
        }
    }
    if (to_set & (FUSE_SET_ATTR_ATIME | FUSE_SET_ATTR_MTIME | FUSE_SET_ATTR_ATIME_NOW |
                  FUSE_SET_ATTR_MTIME_NOW)) {
        struct timespec times[2];
        times[0] = (to_set & FUSE_SET_ATTR_ATIME_NOW) ? timespec{0, UTIME_NOW}
                   : (to_set & FUSE_SET_ATTR_ATIME)   ? attr->st_atim
                                                      : timespec{0, UTIME_OMIT};
        times[1] = (to_set & FUSE_SET_ATTR_MTIME_NOW) ? timespec{0, UTIME_NOW}
                   : (to_set & FUSE_SET_ATTR_MTIME)   ? attr->st_mtim
                                                      : timespec{0, UTIME_OMIT};
        if (::utimensat(src, path, times, AT_SYMLINK_NOFOLLOW) != 0)
            return -errno;
    }
    return 0;
}

} // namespace

void setattr(fuse_req_t req, fuse_ino_t ino, struct stat* attr, int to_set, fuse_file_info* fi)
{
    serve(req, Op::setattr, ino, [=](const Request& r, const Node& node) {
        Plan plan = decide(r.mount.options(), node, r.caller, Intent::change);
        if (plan.refuse < 0)
            return plan.refuse;
        if (int rv = check_alive(node); rv < 0)
            return rv;
        if (int rv = source::run(r, plan, node, [&] { return apply(r, node, attr, to_set, fi); }); rv < 0)
            return rv;
        return reply_attributes(r, node);
    });
}

} // namespace procfsd::fuse_op
