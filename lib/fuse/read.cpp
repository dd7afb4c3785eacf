// SPDX-License-Identifier: GPL-2.0-or-later
#include <unistd.h>

#include <string>
#include <vector>

#include "fuse/open_file.hpp"
#include "fuse/operations.hpp"
#include "fuse/serve.hpp"
#include "fuse/source.hpp"
#include "procfsd/session_io.hpp"

namespace procfsd {

namespace {

// Tests only (--test-hold-write): a write to this path, sent the first time, stops before or
// after it is applied, so that a test can kill the server with it in flight.
struct WriteHold {
    bool after = false;
    std::string path;
} write_hold;

void hold_if_asked(const Node& node, uint64_t unique, bool applied)
{
    if (write_hold.path.empty() || applied != write_hold.after || node.path != write_hold.path ||
        (unique & unique_resend_bit))
        return;
    for (;;)
        ::pause(); // every signal is blocked on request threads: until the process dies
}

} // namespace

void hold_writes_for_tests(const std::string& spec)
{
    auto colon = spec.find(':');
    write_hold.after = spec.substr(0, colon) == "after";
    write_hold.path = colon == std::string::npos ? "" : spec.substr(colon + 1);
}

} // namespace procfsd

namespace procfsd::fuse_op {


void read(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi)
{
    serve_open<OpenFile>(req, Op::read, fi, [=](const Request& r, OpenFile& file) {
        if (off < 0)
            return -EINVAL;
        if (file.content) {
            size_t from = std::min(static_cast<size_t>(off), file.content->size());
            fuse_reply_buf(r.req, file.content->data() + from,
                           std::min(size, file.content->size() - from));
            return replied;
        }
        // One buffer per request thread, as large as the largest read it served.
        thread_local std::vector<char> buf;
        size_t want = std::min(size, max_request_payload);
        if (buf.size() < want)
            buf.resize(want);
        ssize_t n = source::pread(r, file.plan, *file.node, file.fd.get(), buf.data(), want, off);
        if (n < 0)
            return static_cast<int>(n);
        fuse_reply_buf(r.req, buf.data(), static_cast<size_t>(n));
        return replied;
    });
}

void write(fuse_req_t req, fuse_ino_t, const char* data, size_t size, off_t off, fuse_file_info* fi)
{
    serve_open<OpenFile>(req, Op::write, fi, [=](const Request& r, OpenFile& file) {
        if (!file.fd)
            return -EBADF; // computed, with no source file to write to
        if (file.plan.write_refusal < 0)
            return file.plan.write_refusal;
        // A write the kernel sends again after a restart (FUSE_NOTIFY_RESEND) is applied
        // once: its outcome is recorded before the reply, and a resend gets that outcome.
        MountState* state = r.mount.state();
        uint64_t unique = current_request_unique();
        uint64_t first = unique & ~unique_resend_bit;
        if (state && (unique & unique_resend_bit)) {
            if (auto earlier = state->write_outcome(first); earlier && *earlier != -EINPROGRESS) {
                if (*earlier < 0)
                    return static_cast<int>(*earlier);
                fuse_reply_write(r.req, static_cast<size_t>(*earlier));
                return replied;
            }
        }
        Record* journal = state && unique ? state->write_begins(first) : nullptr;
        hold_if_asked(*file.node, unique, false);
        ssize_t n = source::pwrite(r, file.plan, *file.node, file.fd.get(), data, size, off);
        if (journal)
            state->write_done(journal, n);
        hold_if_asked(*file.node, unique, true);
        if (n >= 0)
            fuse_reply_write(r.req, static_cast<size_t>(n));
        else
            fuse_reply_err(r.req, static_cast<int>(-n));
        if (journal)
            state->dropped(journal); // the kernel has the reply: it will not come again
        return replied;
    });
}

} // namespace procfsd::fuse_op
