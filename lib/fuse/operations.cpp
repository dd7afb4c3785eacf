// SPDX-License-Identifier: GPL-2.0-or-later
#include "fuse/operations.hpp"

namespace procfsd {

const fuse_lowlevel_ops& procfs_operations()
{
    // Left out: create (the kernel falls back to mknod + open), locks (the kernel keeps them
    // locally, as for procfs), and what procfs does not do (bmap, fallocate).
    static const fuse_lowlevel_ops ops = [] {
        fuse_lowlevel_ops o{};
        o.init = fuse_op::init;
        o.lookup = fuse_op::lookup;
        o.forget = fuse_op::forget;
        o.forget_multi = fuse_op::forget_multi;
        o.getattr = fuse_op::getattr;
        o.setattr = fuse_op::setattr;
        o.readlink = fuse_op::readlink;
        o.access = fuse_op::access;
        o.open = fuse_op::open;
        o.read = fuse_op::read;
        o.write = fuse_op::write;
        o.release = fuse_op::release;
        o.lseek = fuse_op::lseek;
        o.poll = fuse_op::poll;
        o.ioctl = fuse_op::ioctl;
        o.opendir = fuse_op::opendir;
        o.readdir = fuse_op::readdir;
        o.readdirplus = fuse_op::readdirplus;
        o.releasedir = fuse_op::releasedir;
        o.statfs = fuse_op::statfs;
        o.mkdir = fuse_op::mkdir;
        o.mknod = fuse_op::mknod;
        o.symlink = fuse_op::symlink;
        o.unlink = fuse_op::unlink;
        o.rmdir = fuse_op::rmdir;
        o.link = fuse_op::link;
        o.rename = fuse_op::rename;
        o.getxattr = fuse_op::getxattr;
        o.listxattr = fuse_op::listxattr;
        o.setxattr = fuse_op::setxattr;
        o.removexattr = fuse_op::removexattr;
        return o;
    }();
    return ops;
}

} // namespace procfsd
