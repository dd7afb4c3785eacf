// SPDX-License-Identifier: GPL-2.0-or-later
#include <poll.h>

#include "fuse/open_file.hpp"
#include "fuse/operations.hpp"
#include "fuse/serve.hpp"
#include "procfsd/poll_watcher.hpp"

namespace procfsd::fuse_op {

namespace {

// The poll bits the source shows now, without waiting. Polling needs no credentials: what
// can be polled was decided at open.
uint32_t poll_now(int fd, uint32_t events)
{
    struct pollfd p{fd, static_cast<short>(events), 0};
    int n;
    do
        n = ::poll(&p, 1, 0);
    while (n < 0 && errno == EINTR);
    return n < 0 ? POLLERR : static_cast<uint16_t>(p.revents);
}

std::shared_ptr<PollState> poll_state(Mount& mount, OpenFile& file)
{
    std::lock_guard lock(file.poll_mu);
    if (!file.poll)
        file.poll = std::make_shared<PollState>(mount.weak_from_this(), file.fd.get());
    return file.poll;
}

} // namespace

// poll(), select() and epoll on a procfs file behave as on /proc: mountinfo reports a mount
// change with POLLPRI|POLLERR, sysctl files such as kernel/hostname a change of their value,
// /proc/pressure/* a PSI trigger's event; files without a poll method are always ready. The
// source answers now; when the kernel asks to be notified, the watcher waits on the source.
void poll(fuse_req_t req, fuse_ino_t, fuse_file_info* fi, fuse_pollhandle* ph)
{
    PollHandle handle(ph); // destroyed unless the watcher takes it
    serve_open<OpenFile>(req, Op::other, fi, [&](const Request& r, OpenFile& file) {
        // Kernels before FUSE 7.21 send no events: ask for all.
        uint32_t events = fi->poll_events ? fi->poll_events : POLLIN | POLLOUT | POLLPRI | POLLRDNORM;
        if (!file.fd) { // computed content is always ready
            fuse_reply_poll(r.req, events & (POLLIN | POLLRDNORM));
            return replied;
        }
        uint32_t revents = poll_now(file.fd.get(), events);
        auto state = poll_state(r.mount, file);
        fuse_pollhandle* armed = nullptr;
        {
            std::lock_guard lock(state->mu);
            revents |= std::exchange(state->pending, 0);
            // With nobody to notify, the caller polls again on its own timeout.
            if (handle && r.mount.polls()) {
                armed = handle.get();
                state->handle = std::move(handle);
            }
        }
        if (armed && r.mount.polls()->arm(state, events) < 0) {
            // Out of descriptors, or closed: nothing will be notified; the caller's timeout ends
            // it. Only ours: a concurrent poll of the same file may have armed its own meanwhile.
            std::lock_guard lock(state->mu);
            if (state->handle.get() == armed)
                state->handle.reset();
        } else if (armed && r.mount.state()) {
            r.mount.state()->poll_armed(file.saved, current_poll_kh());
        }
        fuse_reply_poll(r.req, revents);
        return replied;
    });
}

} // namespace procfsd::fuse_op
