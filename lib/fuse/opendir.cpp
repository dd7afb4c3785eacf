// SPDX-License-Identifier: GPL-2.0-or-later
#include "fuse/open_file.hpp"
#include "fuse/judged_by_daemon.hpp"
#include "fuse/operations.hpp"
#include "fuse/request.hpp"
#include "procfsd/sys.hpp"

namespace procfsd::fuse_op {

namespace {

// Opens the directory's source, as the caller when the listing is checked. Returns 0 or -errno.
int open_source(const Request& r, OpenDir& dir)
{
    MaybeCredentials creds(r.caller, dir.checked, *dir.node);
    if (int rv = creds.status(); rv < 0)
        return rv;
    auto src = sys::openat(r.mount.source_fd(), dir.node->path.c_str(), O_RDONLY | O_DIRECTORY);
    if (!src.ok())
        return -src.error;
    dir.fd = std::move(src.value);
    return 0;
}

} // namespace

void opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi)
{
    Request r(req, Op::opendir);
    auto node = r.node(ino);
    if (!node) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    // fd/ is listed by its mode alone: the kernel checks ptrace access at its links.
    bool by_mode = is_entry_itself(*node) && node->entry->listed_by_mode;
    if (int rv = by_mode ? 0 : daemon_ptrace_check(r, *node); rv < 0) {
        fuse_reply_err(req, -rv);
        return;
    }
    if (int rv = daemon_private_dir_check(r, *node, R_OK); rv < 0) {
        fuse_reply_err(req, -rv);
        return;
    }
    if (int rv = daemon_hidepid_enter_check(r, *node); rv < 0) {
        fuse_reply_err(req, -rv);
        return;
    }
    // Charged before the source is opened: descriptors stay within the caller's share.
    auto charge = r.mount.charge_handle(r.caller.fsuid());
    if (!charge.ok()) {
        fuse_reply_err(req, EMFILE);
        return;
    }
    auto dir = std::make_shared<OpenDir>();
    dir->node = node;
    // Listing a directory everyone may read is the same for everyone, outside pid directories
    // and in those whose entries the table calls alike for everyone.
    dir->checked = lookup_is_checked(r.mount, *node) || !readable_by_all(node->mode);
    if (int rv = open_source(r, *dir); rv < 0) {
        fuse_reply_err(req, -rv);
        return;
    }
    struct stat st{};
    if (!dir->checked && (::fstat(dir->fd.get(), &st) != 0 || !readable_by_all(st.st_mode))) {
        // Made unreadable to some since the lookup (chmod): listed as the caller after all.
        dir->checked = true;
        if (int rv = open_source(r, *dir); rv < 0) {
            fuse_reply_err(req, -rv);
            return;
        }
    }
    if (int rv = check_alive(*node); rv < 0) {
        fuse_reply_err(req, -rv);
        return;
    }
    fi->fh = r.mount.add_handle(dir, std::move(charge));
    if (fuse_reply_open(req, fi) != 0)
        r.mount.remove_handle(fi->fh); // interrupted: no RELEASEDIR will come
}

void releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi)
{
    Request r(req, Op::releasedir);
    r.mount.remove_handle(fi->fh);
    fuse_reply_err(req, 0);
}

} // namespace procfsd::fuse_op
