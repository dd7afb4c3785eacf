// SPDX-License-Identifier: GPL-2.0-or-later
#include <sys/stat.h>

#include "fuse/open_file.hpp"
#include "fuse/operations.hpp"
#include "fuse/serve.hpp"
#include "fuse/source.hpp"

namespace procfsd::fuse_op {

namespace {

int open_dir(const Request& r, const std::shared_ptr<Node>& node, fuse_file_info* fi)
{
    auto dir = std::make_shared<OpenDir>();
    dir->node = node;
    dir->plan = decide(r.mount.options(), *node, r.caller, Intent::list);
    if (dir->plan.refuse < 0)
        return dir->plan.refuse;
    if (int rv = source::check_mode(r, dir->plan, *node); rv < 0)
        return rv;
    // Charged before the source is opened: descriptors stay within the caller's share.
    auto charge = r.mount.charge_handle(r.caller.fsuid());
    if (!charge.ok())
        return -EMFILE;
    auto src = source::open(r, dir->plan, *node, O_RDONLY | O_DIRECTORY);
    if (!src.ok())
        return src.error;
    dir->fd = std::move(src.value);
    struct stat st{};
    if (!dir->plan.as_caller && (::fstat(dir->fd.get(), &st) != 0 || !readable_by_all(st.st_mode))) {
        // Made unreadable to some since the lookup (chmod): listed as the caller after all.
        dir->plan.as_caller = true;
        dir->plan.pids_with_entries = false;
        dir->plan.stand_in = stand_in_capabilities(*node, r.caller);
        src = source::open(r, dir->plan, *node, O_RDONLY | O_DIRECTORY);
        if (!src.ok())
            return src.error;
        dir->fd = std::move(src.value);
    }
    if (int rv = check_alive(*node); rv < 0)
        return rv;
    fi->fh = r.mount.dirs().add(dir, std::move(charge));
    if (fuse_reply_open(r.req, fi) != 0)
        r.mount.dirs().remove(fi->fh); // interrupted: no RELEASEDIR will come
    return replied;
}

} // namespace

void opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi)
{
    Request r(req, Op::opendir);
    auto node = r.node(ino);
    finish(req, node ? open_dir(r, node, fi) : -ENOENT);
}

void releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info* fi)
{
    Request r(req, Op::releasedir);
    r.mount.dirs().remove(fi->fh);
    finish(req, 0);
}

} // namespace procfsd::fuse_op
