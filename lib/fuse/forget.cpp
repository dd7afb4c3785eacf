// SPDX-License-Identifier: GPL-2.0-or-later
#include "fuse/operations.hpp"
#include "fuse/request.hpp"

namespace procfsd {

void forget_node(Mount& mount, fuse_ino_t ino, uint64_t nlookup)
{
    auto dropped = mount.nodes().forget(ino, nlookup);
    if (dropped && dropped->task && is_listed_directory(dropped->kind))
        mount.tracker().remove_entry(dropped->task, mount.weak_from_this(), dropped->ino);
}

namespace fuse_op {

void forget(fuse_req_t req, fuse_ino_t ino, uint64_t nlookup)
{
    auto& mount = *static_cast<Mount*>(fuse_req_userdata(req));
    mount.count(Op::forget); // FORGETs always come over /dev/fuse
    forget_node(mount, ino, nlookup);
    fuse_reply_none(req);
}

void forget_multi(fuse_req_t req, size_t count, fuse_forget_data* forgets)
{
    auto& mount = *static_cast<Mount*>(fuse_req_userdata(req));
    mount.count(Op::forget); // FORGETs always come over /dev/fuse
    for (size_t i = 0; i < count; ++i)
        forget_node(mount, forgets[i].ino, forgets[i].nlookup);
    fuse_reply_none(req);
}

} // namespace fuse_op
} // namespace procfsd
