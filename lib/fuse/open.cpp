// SPDX-License-Identifier: GPL-2.0-or-later
#include <spdlog/spdlog.h>

#include "fuse/open_file.hpp"
#include "fuse/judged_by_daemon.hpp"
#include "fuse/operations.hpp"
#include "fuse/request.hpp"
#include "procfsd/keys_view.hpp"
#include "procfsd/sys.hpp"

namespace procfsd::fuse_op {

namespace {

// /proc/keys is bounded by the key quotas (root's: 1,000,000 keys at most, far less in practice).
constexpr size_t max_keys_size = 16u << 20;

// Opens the file's source, as the caller when the file is checked. Returns 0 or -errno.
int open_source(const Request& r, OpenFile& file, int flags)
{
    MaybeCredentials creds(r.caller, file.checked, *file.node);
    if (int rv = creds.status(); rv < 0)
        return rv;
    auto src = sys::openat(r.mount.source_fd(), file.node->path.c_str(), flags);
    if (!src.ok())
        return -src.error;
    file.fd = std::move(src.value);
    return 0;
}

bool still_readable_by_all(int fd)
{
    struct stat st{};
    return ::fstat(fd, &st) == 0 && readable_by_all(st.st_mode);
}

} // namespace

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
    // Charged before the source is opened: descriptors stay within the caller's share.
    auto charge = r.mount.charge_handle(r.caller.fsuid());
    if (!charge.ok()) {
        fuse_reply_err(req, EMFILE);
        return;
    }
    auto file = std::make_shared<OpenFile>();
    file->node = node;
    file->checked = writes || content_is_checked(r.mount, *node);
    if (int rv = open_source(r, *file, flags); rv < 0) {
        fuse_reply_err(req, -rv);
        return;
    }
    if (!file->checked && !still_readable_by_all(file->fd.get())) {
        // Made unreadable to some since the lookup (root may chmod a top-level entry or one
        // below net/): the caller's credentials decide after all.
        file->checked = true;
        if (int rv = open_source(r, *file, flags); rv < 0) {
            fuse_reply_err(req, -rv);
            return;
        }
    }
    if (int rv = check_alive(*node); rv < 0) {
        fuse_reply_err(req, -rv);
        return;
    }
    if (node->kind == NodeKind::proc_entry && node->path == "keys") {
        // The kernel judges possession by the opener's keyrings, which are the daemon's, for
        // every caller: no capability overrides a key's view permission.
        auto text = sys::read_to_end(file->fd.get(), max_keys_size);
        if (!text.ok()) {
            fuse_reply_err(req, text.error);
            return;
        }
        file->content = keys_visible_without_possession(text.value, r.caller.fsuid(),
                                                        r.caller.fsgid(), r.caller.groups());
    }
    if (shielded_daemon_node(r, *node))
        file->content = daemon_unpermitted_content(*node, r.mount.source_fd());
    // Procfs files report size 0: without direct_io the kernel would read nothing. No FLUSH on
    // close: there is nothing to flush, and it saves a round trip per close.
    fi->direct_io = 1;
    fi->noflush = 1;
    fi->keep_cache = 0;
    fi->fh = r.mount.add_handle(file, std::move(charge));
    if (fuse_reply_open(req, fi) == -ENOENT) {
        // Interrupted: no RELEASE will come for this handle.
        r.mount.remove_handle(fi->fh);
    }
}

void release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi)
{
    Request r(req, Op::release);
    r.mount.remove_handle(fi->fh);
    fuse_reply_err(req, 0);
}

} // namespace procfsd::fuse_op
