// SPDX-License-Identifier: GPL-2.0-or-later
#include <unistd.h>

#include "fuse/open_file.hpp"
#include "fuse/operations.hpp"
#include "fuse/serve.hpp"

namespace procfsd::fuse_op {

// The kernel sends only SEEK_DATA and SEEK_HOLE here (it answers SEEK_SET, SEEK_CUR and SEEK_END
// itself). The source file decides, as it would for the caller: seq_file and mem refuse them
// with EINVAL, sysctl files answer ENXIO past their size of 0. The source descriptor's own
// position does not matter, since every read gives its offset.
void lseek(fuse_req_t req, fuse_ino_t, off_t off, int whence, fuse_file_info* fi)
{
    serve_open<OpenFile>(req, Op::other, fi, [=](const Request& r, OpenFile& file) {
        if (!file.fd)
            return -EINVAL; // computed content: no data or holes to seek to, as seq_file says
        off_t pos = ::lseek(file.fd.get(), off, whence);
        if (pos < 0)
            return -errno;
        fuse_reply_lseek(r.req, pos);
        return replied;
    });
}

} // namespace procfsd::fuse_op
