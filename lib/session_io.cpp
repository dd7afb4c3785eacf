// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/session_io.hpp"

#include <linux/fuse.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>
#include <thread>

#include "procfsd/mount.hpp"
#include "procfsd/mount_state.hpp"

namespace procfsd {

namespace {

// FUSE_NOTIFY_RESEND (protocol 7.40); the system's libfuse 3.14 headers predate it.
constexpr int32_t notify_resend_code = 7;

thread_local uint64_t this_request = 0;
thread_local uint64_t this_poll_kh = 0;

// Wakes a reader waiting in the kernel: handled (by nothing) without SA_RESTART, so that the
// read returns EINTR. Unblocked only in the threads that read a descriptor (libfuse starts its
// workers with every signal blocked).
int wake_signal() { return SIGRTMIN + 1; }

void on_wake(int) {}

void unblock_wake_signal()
{
    static std::once_flag handler;
    std::call_once(handler, [] {
        struct sigaction sa{};
        sa.sa_handler = on_wake;
        sigemptyset(&sa.sa_mask);
        ::sigaction(wake_signal(), &sa, nullptr);
    });
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, wake_signal());
    ::pthread_sigmask(SIG_UNBLOCK, &set, nullptr);
}

// A reader of a server that hands over: it waits here for the server's end.
[[noreturn]] void park()
{
    for (;;)
        ::pause();
}

// The kernel copies a request out through get_user_pages, which gives up on a page not yet
// present once a fatal signal is pending: the request then ends with EIO. A buffer's first
// pages, where every request but a large write lands, are made present before its first read,
// so that a server killed while it reads loses no small request.
void fault_in(void* buf, size_t len)
{
    thread_local void* done = nullptr;
    if (buf == done || len == 0)
        return;
    constexpr size_t page = 4096;
    auto* p = static_cast<volatile char*>(buf);
    for (size_t off = 0; off < std::min<size_t>(len, 3 * page); off += page)
        p[off] = 0;
    p[std::min<size_t>(len, 3 * page) - 1] = 0;
    done = buf;
}

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

uint64_t current_poll_kh() noexcept { return this_poll_kh; }

int notify_resend(int fd) noexcept
{
    fuse_out_header h{};
    h.len = sizeof h;
    h.error = notify_resend_code;
    h.unique = 0;
    return ::write(fd, &h, sizeof h) == static_cast<ssize_t>(sizeof h) ? 0 : -errno;
}

int notify_poll_wakeup(int fd, uint64_t kh) noexcept
{
    struct {
        fuse_out_header header;
        fuse_notify_poll_wakeup_out wakeup;
    } msg{};
    msg.header.len = sizeof msg;
    msg.header.error = FUSE_NOTIFY_POLL;
    msg.wakeup.kh = kh;
    return ::write(fd, &msg, sizeof msg) == static_cast<ssize_t>(sizeof msg) ? 0 : -errno;
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
    fault_in(buf, len);
    Reader& me = reader();
    me.reading.store(true);
    if (stopped_.load()) {
        me.reading.store(false);
        park();
    }
    ssize_t n = ::read(fd, buf, len);
    int error = errno;
    me.reading.store(false);
    if (n < 0 && stopped_.load())
        park();
    errno = error;
    if (n < static_cast<ssize_t>(sizeof(fuse_in_header)))
        return n;
    const auto* h = static_cast<const fuse_in_header*>(buf);
    this_request = h->unique;
    if (h->unique & unique_resend_bit)
        resent_.fetch_add(1, std::memory_order_relaxed);
    if (h->opcode == FUSE_POLL && static_cast<size_t>(n) >= sizeof(fuse_in_header) + sizeof(fuse_poll_in))
        this_poll_kh = reinterpret_cast<const fuse_poll_in*>(h + 1)->kh;
    if (h->opcode == FUSE_INIT && state_ && state_->init().empty())
        state_->save_init(buf, static_cast<size_t>(n));
    return n;
}

SessionIo::Reader& SessionIo::reader()
{
    // One session's reads are made by its own threads (libfuse's workers): a thread is
    // registered at its first read, and marked gone when it ends.
    struct Registered {
        SessionIo* io = nullptr;
        std::shared_ptr<Reader> reader;
        ~Registered()
        {
            if (reader)
                reader->tid = 0;
        }
    };
    thread_local Registered mine;
    if (mine.io == this)
        return *mine.reader;
    unblock_wake_signal();
    if (mine.reader)
        mine.reader->tid = 0;
    auto r = std::make_shared<Reader>();
    r->tid = static_cast<pid_t>(::syscall(SYS_gettid));
    {
        std::lock_guard lock(readers_mu_);
        std::erase_if(readers_, [](const auto& x) { return x->tid == 0; });
        readers_.push_back(r);
    }
    mine.io = this;
    mine.reader = std::move(r);
    return *mine.reader;
}

bool SessionIo::wake_readers()
{
    bool none = true;
    std::lock_guard lock(readers_mu_);
    for (auto& r : readers_) {
        pid_t tid = r->tid.load();
        if (!r->reading.load() || tid == 0)
            continue;
        none = false;
        ::syscall(SYS_tgkill, ::getpid(), tid, wake_signal());
    }
    return none;
}

bool park_readers(std::span<SessionIo* const> ios, std::chrono::steady_clock::time_point deadline)
{
    for (auto* io : ios)
        io->stop_reading();
    for (;;) {
        bool none = true;
        for (auto* io : ios)
            none = io->wake_readers() && none;
        if (none)
            return true;
        if (std::chrono::steady_clock::now() >= deadline)
            return false;
        // A reader marked but not yet in the kernel takes the signal before its read: again.
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
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
