// SPDX-License-Identifier: GPL-2.0-or-later
// The tracker's tasks and entries; its thread is in lib/exit_watch.cpp.
#include "procfsd/process_tracker.hpp"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
#include <stdexcept>
#include <string>

#include "procfsd/descriptor_budget.hpp"

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

namespace procfsd {

namespace {

// The Tgid: line of a thread's status; 0 if it is gone.
pid_t thread_group_of(pid_t tid)
{
    auto status = sys::read_small_file(AT_FDCWD, ("/proc/" + std::to_string(tid) + "/status").c_str());
    auto pos = status.value.find("\nTgid:\t");
    return pos == std::string::npos ? 0 : static_cast<pid_t>(std::atol(status.value.c_str() + pos + 7));
}

int pidfd_number(const TrackedTask& task)
{
    auto fd = task.pidfd.load(std::memory_order_acquire);
    return fd ? fd->get() : -1;
}

} // namespace

ProcessTracker::ProcessTracker(Stats& stats) : stats_(stats)
{
    reports_reap_ = kernel_reports_reap_on_pidfd();
    if (!reports_reap_)
        spdlog::warn("this kernel does not report reaping on pidfds: processes are flushed at "
                     "exit, zombies are served uncached");
    epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
    if (!epoll_)
        throw std::runtime_error(fmt::format("epoll_create1: {}", sys::errno_name(errno)));
    struct epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = 0; // serials start at 1
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, worker_.wakeup_fd(), &ev);
}

void ProcessTracker::start()
{
    worker_.start([this] { run(); });
}

void ProcessTracker::stop() { worker_.stop(); }

int ProcessTracker::watch_locked(TrackedTask& task)
{
    struct epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = task.serial;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, pidfd_number(task), &ev) != 0) {
        int err = -errno;
        spdlog::warn("epoll_ctl ADD pidfd of {}: {}", task.tid, sys::errno_name(err));
        return err;
    }
    stats_.pidfds_watched.fetch_add(1, std::memory_order_relaxed);
    return 0;
}

sys::Result<std::shared_ptr<TrackedTask>> ProcessTracker::track(pid_t tid)
{
    {
        std::lock_guard lock(mu_);
        auto it = by_tid_.find(tid);
        if (it != by_tid_.end() && it->second->alive())
            return {it->second, 0};
        // At most this many pidfds held (descriptor_budget.hpp); past it, processes are served
        // untracked.
        if (static_cast<size_t>(std::max<int64_t>(stats_.pidfds_held.load(), 0)) >=
            descriptor_budget().pidfds)
            return {nullptr, -EMFILE};
    }

    // A leader is watched as a process (reaped when the whole group is); any other thread with
    // PIDFD_THREAD (reaped when it exits). pidfd_open refuses a non-leader without the flag.
    bool is_thread = false;
    auto fd = sys::pidfd_open(tid, 0);
    if (fd.error == -EINVAL || fd.error == -ENOENT) {
        fd = sys::pidfd_open(tid, PIDFD_THREAD);
        is_thread = true;
    }
    if (!fd.ok())
        return {nullptr, fd.error == -EINVAL ? -ESRCH : fd.error};
    struct stat st{};
    if (::fstat(fd.value.get(), &st) != 0)
        return {nullptr, -errno};

    auto task = std::make_shared<TrackedTask>();
    task->tid = tid;
    task->tgid = is_thread ? thread_group_of(tid) : tid;
    task->identity = st.st_ino;
    task->pidfd.store(std::make_shared<const HeldPidfd>(std::move(fd.value), stats_));

    std::lock_guard lock(mu_);
    auto it = by_tid_.find(tid);
    if (it != by_tid_.end()) {
        if (it->second->identity == task->identity && !it->second->reaped)
            return {it->second, 0}; // another thread tracked it meanwhile
        // The old task with this tid is reaped and its event not yet handled: the watcher will
        // invalidate its entries by serial; the tid now belongs to the new task.
    }
    task->serial = next_serial_++;
    if (int rv = watch_locked(*task); rv < 0)
        return {nullptr, rv};
    by_tid_[tid] = task;
    by_serial_[task->serial] = Tracked{task, {}};
    return {task, 0};
}

bool ProcessTracker::add_entry(const std::shared_ptr<TrackedTask>& task, DirEntryRef ref)
{
    // Under mu_, like take_reaped(): an entry is either listed before the watcher takes the
    // list, or refused here.
    std::lock_guard lock(mu_);
    if (task->reaped.load())
        return false;
    auto it = by_serial_.find(task->serial);
    if (it == by_serial_.end()) {
        // Untracked because every entry was forgotten; track it again under its serial.
        if (watch_locked(*task) < 0)
            return false;
        it = by_serial_.emplace(task->serial, Tracked{task, {}}).first;
        by_tid_[task->tid] = task;
    }
    auto& e = it->second.entries;
    bool listed = std::any_of(e.begin(), e.end(), [&](const DirEntryRef& r) {
        return r.ino == ref.ino && r.in(ref.mount);
    });
    if (!listed)
        e.push_back(std::move(ref));
    return true;
}

void ProcessTracker::drop_if_unused(const std::shared_ptr<TrackedTask>& task)
{
    std::lock_guard lock(mu_);
    auto it = by_serial_.find(task->serial);
    if (it != by_serial_.end() && it->second.task == task && it->second.entries.empty())
        untrack_locked(task);
}

void ProcessTracker::remove_entry(const std::shared_ptr<TrackedTask>& task,
                                  const std::weak_ptr<Mount>& mount, fuse_ino_t ino)
{
    std::lock_guard lock(mu_);
    auto it = by_serial_.find(task->serial);
    if (it == by_serial_.end())
        return;
    std::erase_if(it->second.entries,
                  [&](const DirEntryRef& r) { return r.ino == ino && r.in(mount); });
    if (it->second.entries.empty())
        untrack_locked(task);
}

void ProcessTracker::remove_mount(const std::weak_ptr<Mount>& mount)
{
    std::lock_guard lock(mu_);
    std::vector<std::shared_ptr<TrackedTask>> empty;
    for (auto& [serial, tracked] : by_serial_) {
        std::erase_if(tracked.entries, [&](const DirEntryRef& r) { return r.in(mount); });
        if (tracked.entries.empty())
            empty.push_back(tracked.task);
    }
    for (auto& task : empty)
        untrack_locked(task);
}

void ProcessTracker::untrack_locked(const std::shared_ptr<TrackedTask>& task)
{
    if (by_serial_.erase(task->serial) == 0)
        return;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, pidfd_number(*task), nullptr) == 0)
        stats_.pidfds_watched.fetch_sub(1, std::memory_order_relaxed);
    auto it = by_tid_.find(task->tid);
    if (it != by_tid_.end() && it->second == task)
        by_tid_.erase(it);
}

std::vector<DirEntryRef> ProcessTracker::take_reaped(uint64_t serial)
{
    std::lock_guard lock(mu_);
    auto it = by_serial_.find(serial);
    if (it == by_serial_.end())
        return {};
    auto task = it->second.task;
    auto entries = std::move(it->second.entries);
    task->reaped.store(true, std::memory_order_release);
    untrack_locked(task);
    // Nothing needs the pidfd any more: the task answers "not alive" from `reaped`. Closed now,
    // not when the last node goes, which the kernel may keep long after the flush (an entry
    // below the pid directory that was open across the reap stays cached).
    task->pidfd.store(nullptr, std::memory_order_release);
    return entries;
}

void ProcessTracker::on_exit(uint64_t serial)
{
    std::lock_guard lock(mu_);
    auto it = by_serial_.find(serial);
    if (it == by_serial_.end())
        return;
    it->second.task->exited.store(true);
    // The pidfd stays readable after the exit, so ask for nothing more than EPOLLHUP, which
    // epoll always reports.
    struct epoll_event ev{};
    ev.events = 0;
    ev.data.u64 = serial;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, pidfd_number(*it->second.task), &ev);
}

ProcessTracker::Counts ProcessTracker::counts() const
{
    std::lock_guard lock(mu_);
    Counts c;
    c.tasks = by_serial_.size();
    for (auto& [serial, tracked] : by_serial_)
        c.entries += tracked.entries.size();
    return c;
}

} // namespace procfsd
