// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/exit_watcher.hpp"

#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>

#include "procfsd/mount.hpp"

namespace procfsd {

namespace {
constexpr uint64_t wakeup_key = 0;
}

bool kernel_reports_reap_on_pidfd()
{
    pid_t child = ::fork();
    if (child < 0)
        return false;
    if (child == 0)
        ::_exit(0);
    auto fd = sys::pidfd_open(child, 0);
    if (!fd.ok()) {
        ::waitpid(child, nullptr, 0);
        return false;
    }
    struct pollfd p{fd.value.get(), POLLIN, 0};
    ::poll(&p, 1, 2000);
    siginfo_t info{};
    ::waitid(P_PID, static_cast<id_t>(child), &info, WEXITED);
    p.events = 0;
    p.revents = 0;
    return ::poll(&p, 1, 500) == 1 && (p.revents & POLLHUP);
}

ExitWatcher::ExitWatcher(Stats& stats) : stats_(stats)
{
    reports_reap_ = kernel_reports_reap_on_pidfd();
    if (!reports_reap_)
        spdlog::warn("this kernel does not report reaping on pidfds: processes are flushed at "
                     "exit, zombies are served uncached");
    epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
    wakeup_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!epoll_ || !wakeup_)
        throw std::runtime_error(fmt::format("epoll/eventfd: {}", sys::errno_name(errno)));
    struct epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = wakeup_key;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wakeup_.get(), &ev);
}

ExitWatcher::~ExitWatcher() { stop(); }

void ExitWatcher::start()
{
    thread_ = std::thread([this] { run(); });
}

void ExitWatcher::stop()
{
    if (!thread_.joinable())
        return;
    stopping_ = true;
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wakeup_.get(), &one, sizeof one);
    thread_.join();
}

int ExitWatcher::watch(TrackedTask& task)
{
    struct epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = task.serial;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, task.pidfd_number(), &ev) != 0) {
        int err = errno;
        spdlog::warn("epoll_ctl ADD pidfd of {}: {}", task.tid, sys::errno_name(err));
        return -err;
    }
    stats_.pidfds_watched.fetch_add(1, std::memory_order_relaxed);
    return 0;
}

void ExitWatcher::unwatch(TrackedTask& task)
{
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, task.pidfd_number(), nullptr) == 0)
        stats_.pidfds_watched.fetch_sub(1, std::memory_order_relaxed);
}

void ExitWatcher::run()
{
    raise_priority();
    std::array<struct epoll_event, 256> events{};
    while (!stopping_) {
        int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            spdlog::error("epoll_wait: {}", sys::errno_name(errno));
            return;
        }
        auto woke = std::chrono::steady_clock::now();
        for (int i = 0; i < n; ++i) {
            uint64_t serial = events[static_cast<size_t>(i)].data.u64;
            uint32_t what = events[static_cast<size_t>(i)].events;
            if (serial == wakeup_key)
                continue;
            if ((what & EPOLLHUP) || !reports_reap_)
                invalidate(serial, woke);
            else if (what & EPOLLIN) {
                // Exited, not yet reaped: the zombie stays listed. The pidfd stays readable, so
                // ask for nothing more than EPOLLHUP, which epoll always reports.
                registry_->mark_exited(serial);
                stats_.exits_seen.fetch_add(1, std::memory_order_relaxed);
                on_exit(serial);
            }
        }
    }
}

// A reaped process stays visible on every mount until this thread wakes. Under the fair
// scheduler it is woken on the reaper's CPU and waits out the reaper's time slice (milliseconds
// when the reaper keeps the CPU busy, as a script stat'ing the pid it just reaped does); at the
// lowest real-time priority it runs at once. It cannot spin: every event it handles is either
// removed from epoll (reaped) or re-armed for EPOLLHUP only (exited), and it otherwise blocks,
// in epoll_wait or in the kernel's notify path. Where real-time throttling is on (the default
// sched_rt_runtime_us of 950000) that bounds it too; with -1 only the above does.
void ExitWatcher::raise_priority()
{
    struct sched_param param{};
    param.sched_priority = sched_get_priority_min(SCHED_FIFO);
    if (int err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param); err != 0)
        spdlog::info("exit watcher stays at normal priority (SCHED_FIFO: {}): exit invalidation "
                     "may wait for a busy CPU", sys::errno_name(err));
    else
        spdlog::debug("exit watcher runs at SCHED_FIFO priority {}", param.sched_priority);
}

void ExitWatcher::on_exit(uint64_t serial)
{
    registry_->for_task(serial, [this, serial](TrackedTask& task) {
        struct epoll_event ev{};
        ev.events = 0;
        ev.data.u64 = serial;
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, task.pidfd_number(), &ev);
    });
}

void ExitWatcher::invalidate(uint64_t serial, std::chrono::steady_clock::time_point woke)
{
    auto entries = registry_->take_reaped(serial);
    stats_.reaps_seen.fetch_add(1, std::memory_order_relaxed);
    for (auto& ref : entries) {
        auto mount = ref.mount.lock();
        if (!mount)
            continue;
        int rv = mount->notify_inval_entry(ref.parent, ref.name);
        if (rv == 0)
            stats_.invalidations_sent.fetch_add(1, std::memory_order_relaxed);
        else if (rv == -ENOENT)
            stats_.invalidations_enoent.fetch_add(1, std::memory_order_relaxed);
        else if (rv == -ENOTCONN || rv == -ENODEV || rv == -EBADF) {
            // The mount is going away: nothing left to flush there.
        } else {
            stats_.invalidations_failed.fetch_add(1, std::memory_order_relaxed);
            spdlog::warn("invalidate {}/{} on {}: {}", ref.parent, ref.name, mount->mountpoint(),
                         sys::errno_name(rv));
        }
    }
    stats_.record_reap_latency(std::chrono::steady_clock::now() - woke);
}

} // namespace procfsd
