// SPDX-License-Identifier: GPL-2.0-or-later
#include "fuse/open_file.hpp"
#include "fuse/operations.hpp"
#include "fuse/serve.hpp"
#include "fuse/source.hpp"
#include "procfsd/entry.hpp"

namespace procfsd::fuse_op {

namespace {

// The content an open serves instead of the source's, as its plan says (procfsd/entry.hpp).
int make_content(const Request& r, OpenFile& file)
{
    const Entry& e = *file.node->entry;
    ContentFn fn = file.plan.content == Content::filtered      ? e.filter
                   : file.plan.content == Content::unpermitted ? e.unpermitted
                   : file.plan.content == Content::by_itself   ? e.by_itself
                                                               : e.compute;
    auto made = fn(ContentRequest{r.caller, *file.node, file.fd.get(), r.mount.resources()});
    if (!made.ok())
        return made.error;
    file.content = std::move(made.value);
    return 0;
}

// An open of `node` with the kernel's open flags `open_flags`, for OPEN and for a handle a
// previous server gave. 0 or -errno.
int open_file(const Request& r, const std::shared_ptr<Node>& node, int open_flags, std::shared_ptr<OpenFile>& file,
              HandleQuota::Charge& charge)
{
    bool writes = (open_flags & O_ACCMODE) != O_RDONLY;
    if (int rv = start_open(r, node, writes ? Intent::open_write : Intent::open_read, file, charge); rv < 0)
        return rv;
    if (int rv = source::check_mode(r, file->plan, *node); rv < 0)
        return rv;
    // O_CREAT, O_EXCL and O_NOCTTY never reach here; O_TRUNC is the kernel's to apply.
    int flags = (open_flags & (O_ACCMODE | O_TRUNC | O_APPEND | O_NONBLOCK | O_DIRECT)) | O_NOFOLLOW;
    auto src = source::open_for_caller(r, file->plan, *node, flags);
    // A computed entry needs no source file.
    if (!src.ok() && !(src.error == -ENOENT && file->plan.content == Content::computed))
        return src.error;
    file->fd = std::move(src.value);
    if (int rv = check_alive(*node); rv < 0)
        return rv;
    // A write-only open reads nothing: no content to make (keys opened O_WRONLY by root,
    // which the kernel lets open, must not fail on a read of its write-only source).
    if (file->plan.content != Content::source && (open_flags & O_ACCMODE) != O_WRONLY)
        if (int rv = make_content(r, *file); rv < 0)
            return rv;
    return 0;
}

} // namespace

void open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi)
{
    serve(req, Op::open, ino, [fi](const Request& r, const std::shared_ptr<Node>& node) {
        std::shared_ptr<OpenFile> file;
        HandleQuota::Charge charge;
        if (int rv = open_file(r, node, fi->flags, file, charge); rv < 0)
            return rv;
        // Procfs files report size 0: without direct_io the kernel would read nothing. No FLUSH
        // on close: there is nothing to flush, and it saves a round trip per close.
        fi->direct_io = 1;
        fi->noflush = 1;
        fi->keep_cache = 0;
        return reply_opened(r, r.mount.files(), std::move(file), std::move(charge), fi);
    });
}

void release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi)
{
    Request r(req, Op::release);
    release_handle<OpenFile>(r.mount, fi->fh);
    finish(req, 0);
}

} // namespace procfsd::fuse_op

namespace procfsd {

int reopen_handle(const Request& r, const std::shared_ptr<Node>& node, int flags, std::shared_ptr<OpenFile>& open,
                  HandleQuota::Charge& charge)
{
    // Opened as its reader now: the source reads at the kernel's offsets, so a seq_file goes
    // on where it was. A process gone meanwhile reads as its open file would: ESRCH.
    int rv = fuse_op::open_file(r, node, flags & ~O_TRUNC, open, charge);
    return rv == -ENOENT && is_pid_node(node->kind) ? -ESRCH : rv;
}

} // namespace procfsd
