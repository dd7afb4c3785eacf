// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The reads and writes of every mount's /dev/fuse descriptor go through here (libfuse's
// custom io), so that a mount outlives its server (README, Restarts and upgrades):
// - the first server keeps the kernel's INIT request in the mount's state file;
// - a restarted server replays it to libfuse, which negotiates as it did the first time, and
//   its reply, which the kernel must not see twice, goes nowhere; then the kernel is asked to
//   send again what the dead server had read and not answered (FUSE_NOTIFY_RESEND);
// - each request thread knows the id of the request it serves, and whether it is a resend,
//   so that a write is applied once (fuse/read.cpp).
// Requests over io_uring rings do not pass here; their threads see id 0.

#include <fuse_lowlevel.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

namespace procfsd {

class MountState;

// The kernel marks a resent request's id with this bit (Linux 6.9, FUSE_UNIQUE_RESEND).
constexpr uint64_t unique_resend_bit = 1ULL << 63;

// One mount's side of it.
class SessionIo {
public:
    // Keep the INIT request in `state` when it comes (a mount's first server).
    void keep_init_in(MountState* state) noexcept { state_ = state; }
    // A restarted server: `init` is given to libfuse as the first request, and its reply is
    // dropped; then the kernel resends what was in flight. Readers wait until the replay is done.
    void replay(std::string init);
    // Blocks until a replay has been answered (returns at once without one).
    void wait_replayed();

    ssize_t read(int fd, void* buf, size_t len);
    ssize_t writev(int fd, struct iovec* iov, int count);

    [[nodiscard]] uint64_t resent() const noexcept { return resent_.load(std::memory_order_relaxed); }

    // A server about to hand its mounts over (park_readers): no thread of it starts another
    // read of this mount's descriptor.
    void stop_reading() noexcept { stopped_.store(true); }
    // Wakes each thread waiting in the kernel's read of this descriptor (a signal: its read
    // returns EINTR and it parks). False while some thread is still inside that read.
    bool wake_readers();

private:
    // A thread that reads this descriptor, and whether it is inside the read now.
    struct Reader {
        std::atomic<pid_t> tid{0}; // 0 once the thread ended
        std::atomic<bool> reading{false};
    };
    Reader& reader();

    MountState* state_ = nullptr;
    std::mutex mu_; // guards the replay's fields
    std::condition_variable replayed_;
    std::string init_;       // still to hand out
    bool replaying_ = false; // from replay() until libfuse answered it
    uint64_t init_unique_ = 0;
    std::atomic<bool> pending_{false}; // replaying_, read without the lock
    std::atomic<uint64_t> resent_{0};
    std::atomic<bool> stopped_{false};
    std::mutex readers_mu_; // guards readers_
    std::vector<std::shared_ptr<Reader>> readers_;
};

// Stops every thread of this process from reading the descriptors of `ios`, within `deadline`:
// true when none is inside a read any more. A server must not exit with a thread inside the
// kernel's read: the kernel takes a request off its queue before copying it out, and a copy
// that a fatal signal stops (a fault on the buffer) ends that request with EIO instead of
// leaving it for the next server.
bool park_readers(std::span<SessionIo* const> ios, std::chrono::steady_clock::time_point deadline);

// libfuse's custom io for a session whose userdata is a Mount.
const fuse_custom_io& session_custom_io();

// The id of the request this thread read last from /dev/fuse (0 on a ring thread), with the
// resend bit.
uint64_t current_request_unique() noexcept;

// The kernel's poll handle named by the FUSE_POLL request this thread read last (libfuse keeps
// it private in its fuse_pollhandle).
uint64_t current_poll_kh() noexcept;

// Asks the kernel to send again every request a server read on `fd` without answering it.
// 0 or -errno.
int notify_resend(int fd) noexcept;

// Wakes the kernel's poll wait `kh` on `fd` (FUSE_NOTIFY_POLL) without a libfuse pollhandle,
// which only the server that was asked holds. 0 or -errno.
int notify_poll_wakeup(int fd, uint64_t kh) noexcept;

} // namespace procfsd
