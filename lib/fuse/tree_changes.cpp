// SPDX-License-Identifier: GPL-2.0-or-later
// Operations that change the tree (mkdir, mknod, symlink, link, unlink, rmdir, rename). Procfs
// refuses all of them, each with its own errno depending on the directory and the caller; the
// sure way to give the kernel's answer is to ask the source the same thing as the caller. They
// share one file because they are the same act: forward, and reply what the kernel said.
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <functional>

#include "fuse/operations.hpp"
#include "fuse/request.hpp"

namespace procfsd::fuse_op {

namespace {

// Runs `op` on the source as the caller below directory `parent`; replies the kernel's errno.
// Should procfs ever accept one of these, the daemon cannot describe the new inode: EPERM.
void forward(const Request& r, fuse_ino_t parent, const std::function<int(int, const Node&)>& op)
{
    fuse_req_t req = r.req;
    auto dir = r.node(parent);
    if (!dir) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    if (r.mount.options().read_only) {
        fuse_reply_err(req, EROFS);
        return;
    }
    int rv = check_alive(*dir);
    if (rv == 0) {
        MaybeCredentials creds(r.caller, true, *dir);
        rv = creds.status();
        if (rv == 0)
            rv = op(r.mount.source_fd(), *dir) == 0 ? 0 : -errno;
    }
    if (rv == 0) {
        spdlog::warn("{}: the source accepted a change to the tree under {}", r.mount.mountpoint(),
                     dir->path);
        rv = -EPERM;
    }
    fuse_reply_err(req, -rv);
}

} // namespace

void mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode)
{
    forward(Request(req, Op::other), parent, [&](int src, const Node& dir) {
        return ::mkdirat(src, child_path(dir, name).c_str(), mode);
    });
}

void mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev)
{
    forward(Request(req, Op::other), parent, [&](int src, const Node& dir) {
        return ::mknodat(src, child_path(dir, name).c_str(), mode, rdev);
    });
}

void symlink(fuse_req_t req, const char* target, fuse_ino_t parent, const char* name)
{
    forward(Request(req, Op::other), parent, [&](int src, const Node& dir) {
        return ::symlinkat(target, src, child_path(dir, name).c_str());
    });
}

void unlink(fuse_req_t req, fuse_ino_t parent, const char* name)
{
    forward(Request(req, Op::other), parent, [&](int src, const Node& dir) {
        return ::unlinkat(src, child_path(dir, name).c_str(), 0);
    });
}

void rmdir(fuse_req_t req, fuse_ino_t parent, const char* name)
{
    forward(Request(req, Op::other), parent, [&](int src, const Node& dir) {
        return ::unlinkat(src, child_path(dir, name).c_str(), AT_REMOVEDIR);
    });
}

void link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char* newname)
{
    Request r(req, Op::other);
    auto node = r.node(ino);
    if (!node) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    std::string from = node->path;
    forward(r, newparent, [&](int src, const Node& dir) {
        return ::linkat(src, from.c_str(), src, child_path(dir, newname).c_str(), 0);
    });
}

void rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent,
            const char* newname, unsigned int flags)
{
    Request r(req, Op::other); // one request, counted once
    auto to = r.node(newparent);
    if (!to) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    std::string to_path = child_path(*to, newname);
    forward(r, parent, [&](int src, const Node& dir) {
        return ::renameat2(src, child_path(dir, name).c_str(), src, to_path.c_str(), flags);
    });
}

} // namespace procfsd::fuse_op
