// SPDX-License-Identifier: GPL-2.0-or-later
// The process tracker's thread: it waits on every tracked pidfd and flushes what a reaped
// process leaves in the kernel's dentry caches (procfsd/process_tracker.hpp).
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>

#include "procfsd/mount.hpp"
#include "procfsd/process_tracker.hpp"

namespace procfsd {

namespace {

// A reaped process stays visible on every mount until this thread wakes. Under the fair
// scheduler it is woken on the reaper's CPU and waits out the reaper's time slice (milliseconds
// when the reaper keeps the CPU busy, as a script stat'ing the pid it just reaped does); at the
// lowest real-time priority it runs at once. It cannot spin: every event it handles is either
// removed from epoll (reaped) or re-armed for EPOLLHUP only (exited), and it otherwise blocks,
// in epoll_wait or in the kernel's notify path. Where real-time throttling is on (the default
// sched_rt_runtime_us of 950000) that bounds it too; with -1 only the above does.
void raise_priority()
{
    struct sched_param param{};
    param.sched_priority = sched_get_priority_min(SCHED_FIFO);
    if (int err = pthread_setschedparam(pthread_self(), SCHED_FIFO, &param); err != 0)
        spdlog::info("exit watcher stays at normal priority (SCHED_FIFO: {}): exit invalidation "
                     "may wait for a busy CPU", sys::errno_name(err));
    else
        spdlog::debug("exit watcher runs at SCHED_FIFO priority {}", param.sched_priority);
}

} // namespace

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

void ProcessTracker::run()
{
    raise_priority();
    std::array<struct epoll_event, 256> events{};
    while (!worker_.stopping()) {
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
            if (serial == 0)
                continue; // the worker's wake-up: stopping() says
            if ((what & EPOLLHUP) || !reports_reap_) {
                invalidate(serial, woke);
            } else if (what & EPOLLIN) {
                // Exited, not yet reaped: the zombie stays listed.
                stats_.exits_seen.fetch_add(1, std::memory_order_relaxed);
                on_exit(serial);
            }
        }
    }
}

void ProcessTracker::invalidate(uint64_t serial, std::chrono::steady_clock::time_point woke)
{
    auto entries = take_reaped(serial);
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
