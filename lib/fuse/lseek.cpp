// SPDX-License-Identifier: GPL-2.0-or-later
#include <unistd.h>

#include "fuse/open_file.hpp"
#include "fuse/operations.hpp"
#include "fuse/request.hpp"

namespace procfsd::fuse_op {

// The kernel sends only SEEK_DATA and SEEK_HOLE here (it answers SEEK_SET, SEEK_CUR and SEEK_END
// itself). The source file decides, as it would for the caller: seq_file and mem refuse them
// with EINVAL, sysctl files answer ENXIO past their size of 0. The source descriptor's own
// position does not matter, since every read gives its offset.
void lseek(fuse_req_t req, fuse_ino_t, off_t off, int whence, fuse_file_info* fi)
{
    Request r(req, Op::other);
    auto handle = OpenFile::of_request(req, r.mount, fi);
    if (!handle)
        return;
    off_t pos = ::lseek(handle->fd.get(), off, whence);
    if (pos < 0) {
        fuse_reply_err(req, errno);
        return;
    }
    fuse_reply_lseek(req, pos);
}

} // namespace procfsd::fuse_op
