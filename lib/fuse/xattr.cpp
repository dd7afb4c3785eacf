// SPDX-License-Identifier: GPL-2.0-or-later
// Extended attributes: procfs has none to give and takes none (EOPNOTSUPP, or EACCES/EPERM
// first). Asked of the source as the caller, through the magic link of its directory fd.
#include <fmt/format.h>
#include <sys/xattr.h>

#include <vector>

#include "fuse/operations.hpp"
#include "fuse/request.hpp"

namespace procfsd::fuse_op {

namespace {

std::string source_path(const Request& r, const Node& node)
{
    return fmt::format("/proc/self/fd/{}/{}", r.mount.source_fd(), node.path);
}

// Replies the value (size > 0) or its length (size == 0), as getxattr and listxattr want.
void reply_sized(fuse_req_t req, ssize_t n, size_t size, const std::vector<char>& buf)
{
    if (n < 0)
        fuse_reply_err(req, static_cast<int>(-n));
    else if (size == 0)
        fuse_reply_xattr(req, static_cast<size_t>(n));
    else
        fuse_reply_buf(req, buf.data(), static_cast<size_t>(n));
}

template <typename Fn>
void with_node(fuse_req_t req, fuse_ino_t ino, bool writes, Fn&& fn)
{
    Request r(req, Op::other);
    auto node = r.node(ino);
    if (!node) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    if (writes && r.mount.options().read_only) {
        fuse_reply_err(req, EROFS);
        return;
    }
    MaybeCredentials creds(r.caller, true, *node);
    if (int rv = creds.status(); rv < 0) {
        fuse_reply_err(req, -rv);
        return;
    }
    fn(r, *node);
}

} // namespace

void getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size)
{
    with_node(req, ino, false, [&](const Request& r, const Node& node) {
        std::vector<char> buf(std::min<size_t>(size, XATTR_SIZE_MAX));
        ssize_t n = ::lgetxattr(source_path(r, node).c_str(), name, buf.data(), buf.size());
        reply_sized(req, n < 0 ? -errno : n, size, buf);
    });
}

void listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
    with_node(req, ino, false, [&](const Request& r, const Node& node) {
        std::vector<char> buf(std::min<size_t>(size, XATTR_LIST_MAX));
        ssize_t n = ::llistxattr(source_path(r, node).c_str(), buf.data(), buf.size());
        reply_sized(req, n < 0 ? -errno : n, size, buf);
    });
}

void setxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size,
              int flags)
{
    with_node(req, ino, true, [&](const Request& r, const Node& node) {
        int rv = ::lsetxattr(source_path(r, node).c_str(), name, value, size, flags);
        fuse_reply_err(req, rv == 0 ? 0 : errno);
    });
}

void removexattr(fuse_req_t req, fuse_ino_t ino, const char* name)
{
    with_node(req, ino, true, [&](const Request& r, const Node& node) {
        int rv = ::lremovexattr(source_path(r, node).c_str(), name);
        fuse_reply_err(req, rv == 0 ? 0 : errno);
    });
}

} // namespace procfsd::fuse_op
