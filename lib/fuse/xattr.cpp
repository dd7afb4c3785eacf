// SPDX-License-Identifier: GPL-2.0-or-later
// Extended attributes: procfs has none to give and takes none (EOPNOTSUPP, or EACCES/EPERM
// first). Asked of the source as the caller, through the magic link of its directory fd; of the
// object behind a magic link (fuse/link_target.hpp) by following it, as the kernel does for
// /proc/<pid>/fd/N (a socket's system.sockprotoname, which lsof reads).
#include <fmt/format.h>
#include <sys/xattr.h>

#include <vector>

#include "fuse/operations.hpp"
#include "fuse/serve.hpp"
#include "fuse/source.hpp"

namespace procfsd::fuse_op {

namespace {

std::string source_path(const Request& r, const Node& node)
{
    return fmt::format("/proc/self/fd/{}/{}", r.mount.source_fd(), node.path);
}

// Runs `call` on the node's source path as the caller: -errno, or what it returned.
template <typename Call>
ssize_t as_caller(const Request& r, const Node& node, Intent intent, Call&& call)
{
    Plan plan = decide(r.mount.options(), node, r.caller, intent);
    if (plan.refuse < 0)
        return plan.refuse;
    ssize_t n = 0;
    int rv = source::run(r, plan, node, [&] {
        n = call(source_path(r, node).c_str());
        return n < 0 ? -errno : 0;
    });
    return rv < 0 ? rv : n;
}

// Replies the value (size > 0) or its length (size == 0), as getxattr and listxattr want.
int reply_sized(const Request& r, ssize_t n, size_t size, const std::vector<char>& buf)
{
    if (n < 0)
        return static_cast<int>(n);
    if (size == 0)
        fuse_reply_xattr(r.req, static_cast<size_t>(n));
    else
        fuse_reply_buf(r.req, buf.data(), static_cast<size_t>(n));
    return replied;
}

} // namespace

void getxattr(fuse_req_t req, fuse_ino_t ino, const char* name, size_t size)
{
    serve(req, Op::other, ino, [=](const Request& r, const Node& node) {
        std::vector<char> buf(std::min<size_t>(size, XATTR_SIZE_MAX));
        ssize_t n = as_caller(r, node, Intent::inspect, [&](const char* path) {
            return node.behind_link ? ::getxattr(path, name, buf.data(), buf.size())
                                    : ::lgetxattr(path, name, buf.data(), buf.size());
        });
        return reply_sized(r, n, size, buf);
    });
}

void listxattr(fuse_req_t req, fuse_ino_t ino, size_t size)
{
    serve(req, Op::other, ino, [=](const Request& r, const Node& node) {
        std::vector<char> buf(std::min<size_t>(size, XATTR_LIST_MAX));
        ssize_t n = as_caller(r, node, Intent::inspect, [&](const char* path) {
            return node.behind_link ? ::listxattr(path, buf.data(), buf.size())
                                    : ::llistxattr(path, buf.data(), buf.size());
        });
        return reply_sized(r, n, size, buf);
    });
}

void setxattr(fuse_req_t req, fuse_ino_t ino, const char* name, const char* value, size_t size,
              int flags)
{
    serve(req, Op::other, ino, [=](const Request& r, const Node& node) {
        return static_cast<int>(as_caller(r, node, Intent::change, [&](const char* path) {
            return static_cast<ssize_t>(node.behind_link ? ::setxattr(path, name, value, size, flags)
                                                         : ::lsetxattr(path, name, value, size, flags));
        }));
    });
}

void removexattr(fuse_req_t req, fuse_ino_t ino, const char* name)
{
    serve(req, Op::other, ino, [=](const Request& r, const Node& node) {
        return static_cast<int>(as_caller(r, node, Intent::change, [&](const char* path) {
            return static_cast<ssize_t>(node.behind_link ? ::removexattr(path, name)
                                                         : ::lremovexattr(path, name));
        }));
    });
}

} // namespace procfsd::fuse_op
