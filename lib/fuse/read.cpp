// SPDX-License-Identifier: GPL-2.0-or-later
#include <vector>

#include "fuse/open_file.hpp"
#include "fuse/operations.hpp"
#include "fuse/request.hpp"
#include "procfsd/sys.hpp"

namespace procfsd::fuse_op {

namespace {
// Reads never exceed the kernel's max_read (at most a few MiB); one buffer per worker thread.
constexpr size_t max_read_size = 4u << 20;
}

void read(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi)
{
    Request r(req, Op::read);
    auto handle = OpenFile::of_request(req, r.mount, fi);
    if (!handle)
        return;
    auto& file = *handle;
    if (off < 0) {
        fuse_reply_err(req, EINVAL);
        return;
    }
    if (file.content) {
        size_t from = std::min(static_cast<size_t>(off), file.content->size());
        fuse_reply_buf(req, file.content->data() + from, std::min(size, file.content->size() - from));
        return;
    }
    thread_local std::vector<char> buf;
    size = std::min(size, max_read_size);
    if (buf.size() < size)
        buf.resize(size);
    // Some entries (syscall, personality, stat's address fields, wchan, io) check the reader at
    // every read, so checked files are read as the caller, not as whoever opened them.
    MaybeCredentials creds(r.caller, file.checked, *file.node);
    if (int rv = creds.status(); rv < 0) {
        fuse_reply_err(req, -rv);
        return;
    }
    ssize_t n = sys::pread(file.fd.get(), buf.data(), size, off);
    if (n < 0) {
        fuse_reply_err(req, static_cast<int>(-n));
        return;
    }
    fuse_reply_buf(req, buf.data(), static_cast<size_t>(n));
}

void write(fuse_req_t req, fuse_ino_t, const char* data, size_t size, off_t off, fuse_file_info* fi)
{
    Request r(req, Op::write);
    auto handle = OpenFile::of_request(req, r.mount, fi);
    if (!handle)
        return;
    auto& file = *handle;
    MaybeCredentials creds(r.caller, true, *file.node);
    if (int rv = creds.status(); rv < 0) {
        fuse_reply_err(req, -rv);
        return;
    }
    ssize_t n = sys::pwrite(file.fd.get(), data, size, off);
    if (n < 0) {
        fuse_reply_err(req, static_cast<int>(-n));
        return;
    }
    fuse_reply_write(req, static_cast<size_t>(n));
}

} // namespace procfsd::fuse_op
