// SPDX-License-Identifier: GPL-2.0-or-later
#include <sys/stat.h>

#include "fuse/operations.hpp"
#include "fuse/serve.hpp"
#include "fuse/source.hpp"

namespace procfsd::fuse_op {

void access(fuse_req_t req, fuse_ino_t ino, int mask)
{
    serve(req, Op::access, ino, [mask](Request& r, const Node& node) {
        // The kernel's rules for access(2), which the header alone cannot carry (see Caller).
        r.caller.judge_as_access();
        Plan plan = decide(r.mount.options(), node, r.caller, Intent::access, mask);
        if (plan.refuse < 0)
            return plan.refuse;
        if (int rv = source::check_mode(r, plan, node); rv < 0)
            return rv;
        if (int rv = source::access(r, plan, node, mask); rv < 0)
            return rv;
        return check_alive(node);
    });
}

} // namespace procfsd::fuse_op
