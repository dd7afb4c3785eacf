// SPDX-License-Identifier: GPL-2.0-or-later
#include <sys/stat.h>

#include "fuse/open_file.hpp"
#include "fuse/operations.hpp"
#include "fuse/serve.hpp"
#include "fuse/source.hpp"
#include "procfsd/entry.hpp"

namespace procfsd::fuse_op {

namespace {

bool still_readable_by_all(int fd)
{
    struct stat st{};
    return ::fstat(fd, &st) == 0 && readable_by_all(st.st_mode);
}

// The content an open serves instead of the source's, as its plan says (procfsd/entry.hpp).
int make_content(const Request& r, OpenFile& file)
{
    const Entry& e = *file.node->entry;
    ContentFn fn = file.plan.content == Content::filtered      ? e.filter
                   : file.plan.content == Content::unpermitted ? e.unpermitted
                                                               : e.compute;
    auto made = fn(ContentRequest{r.caller, *file.node, file.fd.get()});
    if (!made.ok())
        return made.error;
    file.content = std::move(made.value);
    return 0;
}

int open_file(const Request& r, const std::shared_ptr<Node>& node, fuse_file_info* fi)
{
    bool writes = (fi->flags & O_ACCMODE) != O_RDONLY;
    auto file = std::make_shared<OpenFile>();
    file->node = node;
    file->plan = decide(r.mount.options(), *node, r.caller, writes ? Intent::open_write : Intent::open_read);
    if (file->plan.refuse < 0)
        return file->plan.refuse;
    // Charged before the source is opened: descriptors stay within the caller's share.
    auto charge = r.mount.charge_handle(r.caller.fsuid());
    if (!charge.ok())
        return -EMFILE;
    // O_CREAT, O_EXCL and O_NOCTTY never reach here; O_TRUNC is the kernel's to apply.
    int flags = (fi->flags & (O_ACCMODE | O_TRUNC | O_APPEND | O_NONBLOCK | O_DIRECT)) | O_NOFOLLOW;
    auto src = source::open(r, file->plan, *node, flags);
    if (!src.ok() && !(src.error == -ENOENT && file->plan.content == Content::computed))
        return src.error;
    file->fd = std::move(src.value);
    if (file->fd && !file->plan.as_caller && !still_readable_by_all(file->fd.get())) {
        // Made unreadable to some since the lookup (root may chmod a top-level entry or one
        // below net/): the caller's credentials decide after all.
        file->plan.as_caller = true;
        file->plan.stand_in = stand_in_capabilities(*node, r.caller);
        src = source::open(r, file->plan, *node, flags);
        if (!src.ok())
            return src.error;
        file->fd = std::move(src.value);
    }
    if (int rv = check_alive(*node); rv < 0)
        return rv;
    if (file->plan.content != Content::source)
        if (int rv = make_content(r, *file); rv < 0)
            return rv;
    // Procfs files report size 0: without direct_io the kernel would read nothing. No FLUSH on
    // close: there is nothing to flush, and it saves a round trip per close.
    fi->direct_io = 1;
    fi->noflush = 1;
    fi->keep_cache = 0;
    fi->fh = r.mount.files().add(file, std::move(charge));
    if (fuse_reply_open(r.req, fi) == -ENOENT) {
        // Interrupted: no RELEASE will come for this handle.
        r.mount.files().remove(fi->fh);
    }
    return replied;
}

} // namespace

void open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi)
{
    Request r(req, Op::open);
    auto node = r.node(ino);
    finish(req, node ? open_file(r, node, fi) : -ENOENT);
}

void release(fuse_req_t req, fuse_ino_t, fuse_file_info* fi)
{
    Request r(req, Op::release);
    r.mount.files().remove(fi->fh);
    finish(req, 0);
}

} // namespace procfsd::fuse_op
