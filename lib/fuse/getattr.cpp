// SPDX-License-Identifier: GPL-2.0-or-later
#include "fuse/attributes.hpp"
#include "fuse/operations.hpp"
#include "fuse/serve.hpp"

namespace procfsd::fuse_op {

void getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*)
{
    serve(req, Op::getattr, ino, reply_attributes);
}

} // namespace procfsd::fuse_op
