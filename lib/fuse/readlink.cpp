// SPDX-License-Identifier: GPL-2.0-or-later
#include <fmt/format.h>

#include "fuse/operations.hpp"
#include "fuse/judged_by_daemon.hpp"
#include "fuse/request.hpp"
#include "procfsd/sys.hpp"

namespace procfsd::fuse_op {

namespace {

// self and thread-self name the caller, in the mount's pid namespace; a caller with no pid
// there gets ENOENT, as from the kernel's proc_self_get_link.
int caller_link(const Request& r, NodeKind kind, std::string& out)
{
    pid_t tgid = r.caller.tgid();
    if (r.caller.tid() <= 0 || tgid <= 0)
        return -ENOENT;
    out = kind == NodeKind::self_link ? fmt::format("{}", tgid)
                                      : fmt::format("{}/task/{}", tgid, r.caller.tid());
    return 0;
}

} // namespace

void readlink(fuse_req_t req, fuse_ino_t ino)
{
    Request r(req, Op::readlink);
    auto node = r.node(ino);
    if (!node) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    std::string text;
    int rv = 0;
    if (node->kind == NodeKind::self_link || node->kind == NodeKind::thread_self) {
        rv = caller_link(r, node->kind, text);
    } else if (rv = daemon_ptrace_check(r, *node); rv < 0) {
        // The daemon's own links, to a caller that may not ptrace it.
    } else {
        // Magic links (exe, cwd, fd/N, ns/*) can only be given as their text through FUSE.
        MaybeCredentials creds(r.caller, content_is_checked(r.mount, *node), *node);
        rv = creds.status();
        if (rv == 0) {
            auto link = sys::readlinkat(r.mount.source_fd(), node->path.c_str());
            rv = link.ok() ? check_alive(*node) : -link.error;
            text = std::move(link.value);
        }
    }
    if (rv < 0) {
        fuse_reply_err(req, -rv);
        return;
    }
    fuse_reply_readlink(req, text.c_str());
}

} // namespace procfsd::fuse_op
