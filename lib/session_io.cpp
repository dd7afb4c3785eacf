// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/session_io.hpp"

#include <linux/fuse.h>
#include <spdlog/spdlog.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "procfsd/mount.hpp"
#include "procfsd/mount_state.hpp"

namespace procfsd {

namespace {

// FUSE_NOTIFY_RESEND (protocol 7.40); the system's libfuse 3.14 headers predate it.
constexpr int32_t notify_resend_code = 7;

thread_local uint64_t this_request = 0;

ssize_t io_read(int fd, void* buf, size_t len, void* userdata)
{
    return static_cast<Mount*>(userdata)->session_io().read(fd, buf, len);
}

ssize_t io_writev(int fd, struct iovec* iov, int count, void* userdata)
{
    return static_cast<Mount*>(userdata)->session_io().writev(fd, iov, count);
}

const fuse_custom_io io = [] {
    fuse_custom_io i{};
    i.read = io_read;
    i.writev = io_writev;
    return i;
}();

} // namespace

const fuse_custom_io& session_custom_io() { return io; }

uint64_t current_request_unique() noexcept { return this_request; }

int notify_resend(int fd) noexcept
{
    fuse_out_header h{};
    h.len = sizeof h;
    h.error = notify_resend_code;
    h.unique = 0;
    return ::write(fd, &h, sizeof h) == static_cast<ssize_t>(sizeof h) ? 0 : -errno;
}

void SessionIo::replay(std::string init)
{
    std::lock_guard lock(mu_);
    if (init.size() >= sizeof(fuse_in_header))
        init_unique_ = reinterpret_cast<const fuse_in_header*>(init.data())->unique;
    init_ = std::move(init);
    replaying_ = true;
    pending_ = true;
}

void SessionIo::wait_replayed()
{
    if (!pending_.load(std::memory_order_acquire))
        return; // no replay, or done: every notification of a mount asks
    std::unique_lock lock(mu_);
    replayed_.wait(lock, [this] { return !replaying_; });
}

ssize_t SessionIo::read(int fd, void* buf, size_t len)
{
    if (pending_.load(std::memory_order_acquire)) {
        std::unique_lock lock(mu_);
        if (!init_.empty()) {
            // libfuse's buffer holds max_write and more: the INIT request always fits.
            size_t n = std::min(len, init_.size());
            std::memcpy(buf, init_.data(), n);
            init_.clear();
            this_request = init_unique_;
            return static_cast<ssize_t>(n);
        }
        // libfuse refuses every request until it has answered INIT: wait for that.
        replayed_.wait(lock, [this] { return !replaying_; });
    }
    ssize_t n = ::read(fd, buf, len);
    if (n < static_cast<ssize_t>(sizeof(fuse_in_header)))
        return n;
    const auto* h = static_cast<const fuse_in_header*>(buf);
    this_request = h->unique;
    if (h->unique & unique_resend_bit)
        resent_.fetch_add(1, std::memory_order_relaxed);
    if (h->opcode == FUSE_INIT && state_ && state_->init().empty())
        state_->save_init(buf, static_cast<size_t>(n));
    return n;
}

ssize_t SessionIo::writev(int fd, struct iovec* iov, int count)
{
    if (pending_.load(std::memory_order_acquire) && count > 0 && iov[0].iov_len >= sizeof(fuse_out_header)) {
        const auto* h = static_cast<const fuse_out_header*>(iov[0].iov_base);
        std::unique_lock lock(mu_);
        if (replaying_ && h->unique == init_unique_) {
            // The kernel has this reply from the first server already.
            ssize_t total = 0;
            for (int i = 0; i < count; ++i)
                total += static_cast<ssize_t>(iov[i].iov_len);
            replaying_ = false;
            pending_ = false;
            lock.unlock();
            replayed_.notify_all();
            if (int rv = notify_resend(fd); rv < 0)
                spdlog::warn("FUSE_NOTIFY_RESEND: {} (requests the previous server had read are lost)",
                             sys::errno_name(rv));
            return total;
        }
    }
    return ::writev(fd, iov, count);
}

} // namespace procfsd
