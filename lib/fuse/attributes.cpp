// SPDX-License-Identifier: GPL-2.0-or-later
#include "fuse/attributes.hpp"

#include <functional>

#include "fuse/link_target.hpp"
#include "fuse/serve.hpp"
#include "fuse/source.hpp"
#include "procfsd/entry.hpp"

namespace procfsd {

int attributes(const Request& r, const Node& node, struct stat* st)
{
    if (node.behind_link)
        return fuse_op::attributes_behind_link(r, node, st);
    Plan plan = decide(r.mount.options(), node, r.caller, Intent::stat);
    if (plan.refuse < 0)
        return plan.refuse;
    int rv = source::stat(r, plan, node, st);
    if (rv == -ENOENT && node.entry && node.entry_itself && node.entry->computed_itself()) {
        // A computed entry the source lacks: a file owned by the owner of its directory (the
        // process, or root at the top), made anew at each open.
        Node dir;
        dir.path = node.path.substr(0, node.path.size() - node.name.size());
        dir.task = node.task;
        if (int d = source::stat(r, plan, dir, st); d < 0)
            return d;
        st->st_mode = S_IFREG | (node.entry->mode & 07777);
        st->st_nlink = 1;
        st->st_size = 0;
        st->st_ino = std::hash<std::string>{}(node.name) | 1; // as readdir lists it
        return 0;
    }
    return rv;
}

int reply_attributes(const Request& r, const Node& node)
{
    struct stat st{};
    if (int rv = attributes(r, node, &st); rv < 0)
        return rv;
    fuse_reply_attr(r.req, &st, r.mount.cache_times(node).attr);
    return replied;
}

} // namespace procfsd
