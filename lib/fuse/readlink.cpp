// SPDX-License-Identifier: GPL-2.0-or-later
#include <fmt/format.h>

#include "fuse/link_target.hpp"
#include "fuse/operations.hpp"
#include "fuse/serve.hpp"
#include "fuse/source.hpp"

namespace procfsd::fuse_op {

namespace {

// self and thread-self name the caller, in the mount's pid namespace; a caller with no pid
// there gets ENOENT, as from the kernel's proc_self_get_link.
int caller_link(const Request& r, NodeKind kind, std::string& out)
{
    const PidNamespace& pids = r.mount.pids();
    pid_t tid = pids.shown_tid(r.caller.tid());
    pid_t tgid = pids.foreign() ? pids.shown_tgid(r.caller.tid()) : r.caller.tgid();
    if (tid <= 0 || tgid <= 0)
        return -ENOENT;
    out = kind == NodeKind::self_link ? fmt::format("{}", tgid) : fmt::format("{}/task/{}", tgid, tid);
    return 0;
}

} // namespace

void readlink(fuse_req_t req, fuse_ino_t ino)
{
    serve(req, Op::readlink, ino, [](const Request& r, const Node& node) {
        Plan plan = decide(r.mount.options(), node, r.caller, Intent::readlink);
        if (plan.refuse < 0)
            return plan.refuse;
        std::string text;
        if (plan.content == Content::caller_link) {
            if (int rv = caller_link(r, node.kind, text); rv < 0)
                return rv;
        } else {
            // Magic links (exe, cwd, fd/N, ns/*) can only be given as their text through FUSE.
            auto link = source::readlink(r, plan, node);
            if (!link.ok())
                return link.error;
            if (int rv = check_alive(node); rv < 0)
                return rv;
            text = std::move(link.value);
            note_link_text(r, node, text);
        }
        fuse_reply_readlink(r.req, text.c_str());
        return replied;
    });
}

} // namespace procfsd::fuse_op
