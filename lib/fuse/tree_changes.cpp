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
#include "fuse/serve.hpp"
#include "fuse/source.hpp"

namespace procfsd::fuse_op {

namespace {

// Runs `op` on the source as the caller below directory `dir`; returns the kernel's -errno.
// Should procfs ever accept one of these, the daemon cannot describe the new inode: EPERM.
int forward(const Request& r, const Node& dir, const std::function<int(int)>& op)
{
    Plan plan = decide(r.mount.options(), dir, r.caller, Intent::change);
    if (plan.refuse < 0)
        return plan.refuse;
    if (int rv = check_alive(dir); rv < 0)
        return rv;
    int src = r.mount.source_fd();
    if (int rv = source::run(r, plan, dir, [&] { return op(src) == 0 ? 0 : -errno; }); rv < 0)
        return rv;
    spdlog::warn("{}: the source accepted a change to the tree under {}", r.mount.mountpoint(), dir.path);
    return -EPERM;
}

// A change made in directory `parent` to the name `name`.
void change(fuse_req_t req, fuse_ino_t parent, const std::function<int(int, const Node&)>& op)
{
    serve(req, Op::other, parent, [&](const Request& r, const Node& dir) {
        return forward(r, dir, [&](int src) { return op(src, dir); });
    });
}

} // namespace

void mkdir(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode)
{
    change(req, parent, [&](int src, const Node& dir) {
        return ::mkdirat(src, child_path(dir, name).c_str(), mode);
    });
}

void mknod(fuse_req_t req, fuse_ino_t parent, const char* name, mode_t mode, dev_t rdev)
{
    change(req, parent, [&](int src, const Node& dir) {
        return ::mknodat(src, child_path(dir, name).c_str(), mode, rdev);
    });
}

void symlink(fuse_req_t req, const char* target, fuse_ino_t parent, const char* name)
{
    change(req, parent, [&](int src, const Node& dir) {
        return ::symlinkat(target, src, child_path(dir, name).c_str());
    });
}

void unlink(fuse_req_t req, fuse_ino_t parent, const char* name)
{
    change(req, parent, [&](int src, const Node& dir) {
        return ::unlinkat(src, child_path(dir, name).c_str(), 0);
    });
}

void rmdir(fuse_req_t req, fuse_ino_t parent, const char* name)
{
    change(req, parent, [&](int src, const Node& dir) {
        return ::unlinkat(src, child_path(dir, name).c_str(), AT_REMOVEDIR);
    });
}

void link(fuse_req_t req, fuse_ino_t ino, fuse_ino_t newparent, const char* newname)
{
    serve(req, Op::other, ino, [&](const Request& r, const Node& node) {
        auto dir = r.node(newparent);
        if (!dir)
            return -ENOENT;
        return forward(r, *dir, [&](int src) {
            return ::linkat(src, node.path.c_str(), src, child_path(*dir, newname).c_str(), 0);
        });
    });
}

void rename(fuse_req_t req, fuse_ino_t parent, const char* name, fuse_ino_t newparent,
            const char* newname, unsigned int flags)
{
    // One request, counted once.
    serve(req, Op::other, newparent, [&](const Request& r, const Node& to) {
        auto dir = r.node(parent);
        if (!dir)
            return -ENOENT;
        return forward(r, *dir, [&](int src) {
            return ::renameat2(src, child_path(*dir, name).c_str(), src,
                               child_path(to, newname).c_str(), flags);
        });
    });
}

} // namespace procfsd::fuse_op
