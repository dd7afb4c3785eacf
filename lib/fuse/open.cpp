// SPDX-License-Identifier: GPL-2.0-or-later
#include <spdlog/spdlog.h>

#include "fuse/open_file.hpp"
#include "fuse/own_process.hpp"
#include "fuse/operations.hpp"
#include "fuse/request.hpp"
#include "procfsd/sys.hpp"

namespace procfsd::fuse_op {

void open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi)
{
    Request r(req, Op::open);
    auto node = r.node(ino);
    if (!node) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    bool writes = (fi->flags & O_ACCMODE) != O_RDONLY;
    if (writes && r.mount.options().read_only) {
        fuse_reply_err(req, EROFS);
        return;
    }
    // O_CREAT, O_EXCL and O_NOCTTY never reach here; O_TRUNC is the kernel's to apply.
    int flags = (fi->flags & (O_ACCMODE | O_TRUNC | O_APPEND | O_NONBLOCK | O_DIRECT)) | O_NOFOLLOW;
    if (int rv = daemon_ptrace_check(r, *node); rv < 0) {
        fuse_reply_err(req, -rv);
        return;
    }
    auto file = std::make_shared<OpenFile>();
    file->node = node;
    file->checked = writes || content_is_checked(r.mount, *node);
    {
        MaybeCredentials creds(r.caller, file->checked, *node);
        if (int rv = creds.status(); rv < 0) {
            fuse_reply_err(req, -rv);
            return;
        }
        auto src = sys::openat(r.mount.source_fd(), node->path.c_str(), flags);
        if (!src.ok()) {
            fuse_reply_err(req, src.error);
            return;
        }
        file->fd = std::move(src.value);
    }
    if (int rv = check_alive(*node); rv < 0) {
        fuse_reply_err(req, -rv);
        return;
    }
    if (shielded_daemon_node(r, *node))
        file->content = daemon_unpermitted_content(*node, r.mount.source_fd());
    // Procfs files report size 0: without direct_io the kernel would read nothing. No FLUSH on
    // close: there is nothing to flush, and it saves a round trip per close.
    fi->direct_io = 1;
    fi->noflush = 1;
    fi->keep_cache = 0;
    fi->fh = r.mount.add_handle(file);
    if (fi->fh == 0) {
        fuse_reply_err(req, EMFILE);
        return;
    }
    r.mount.stats().open_files.fetch_add(1, std::memory_order_relaxed);
    if (fuse_reply_open(req, fi) == -ENOENT) {
        // Interrupted: no RELEASE will come for this handle.
        r.mount.remove_handle(fi->fh);
        r.mount.stats().open_files.fetch_sub(1, std::memory_order_relaxed);
    }
}

void release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi)
{
    Request r(req, Op::release);
    r.mount.remove_handle(fi->fh);
    r.mount.stats().open_files.fetch_sub(1, std::memory_order_relaxed);
    fuse_reply_err(req, 0);
}

} // namespace procfsd::fuse_op
