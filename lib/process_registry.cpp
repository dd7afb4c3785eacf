// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/process_registry.hpp"

#include <spdlog/spdlog.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <cstdlib>
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

} // namespace

ProcessRegistry::ProcessRegistry(Stats& stats, WatchFn watch, UnwatchFn unwatch)
    : stats_(stats), watch_(std::move(watch)), unwatch_(std::move(unwatch))
{
}

size_t ProcessRegistry::pidfd_budget() { return descriptor_budget().pidfds; }

sys::Result<std::shared_ptr<TrackedTask>> ProcessRegistry::track(pid_t tid)
{
    {
        std::lock_guard lock(mu_);
        auto it = by_tid_.find(tid);
        if (it != by_tid_.end() && it->second->alive())
            return {it->second, 0};
        if (static_cast<size_t>(std::max<int64_t>(stats_.pidfds_held.load(), 0)) >= pidfd_budget())
            return {nullptr, EMFILE};
    }

    // A leader is watched as a process (reaped when the whole group is); any other thread with
    // PIDFD_THREAD (reaped when it exits). pidfd_open refuses a non-leader without the flag.
    bool is_thread = false;
    auto fd = sys::pidfd_open(tid, 0);
    if (fd.error == EINVAL || fd.error == ENOENT) {
        fd = sys::pidfd_open(tid, PIDFD_THREAD);
        is_thread = true;
    }
    if (!fd.ok())
        return {nullptr, fd.error == EINVAL ? ESRCH : fd.error};
    struct stat st{};
    if (::fstat(fd.value.get(), &st) != 0)
        return {nullptr, errno};

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
    if (int rv = watch_(*task); rv < 0)
        return {nullptr, -rv};
    by_tid_[tid] = task;
    by_serial_[task->serial] = task;
    return {task, 0};
}

bool ProcessRegistry::add_entry(const std::shared_ptr<TrackedTask>& task, DirEntryRef ref)
{
    // Under mu_, like take_reaped(): an entry is either listed before the watcher takes the
    // list, or refused here.
    std::lock_guard lock(mu_);
    if (task->reaped.load())
        return false;
    if (!by_serial_.count(task->serial)) {
        // Untracked because every entry was forgotten; track it again under its serial.
        if (watch_(*task) < 0)
            return false;
        by_serial_[task->serial] = task;
        by_tid_[task->tid] = task;
    }
    auto& e = task->entries;
    bool listed = std::any_of(e.begin(), e.end(), [&](const DirEntryRef& r) {
        return r.mount_key == ref.mount_key && r.ino == ref.ino;
    });
    if (!listed)
        e.push_back(std::move(ref));
    return true;
}

void ProcessRegistry::drop_if_unused(const std::shared_ptr<TrackedTask>& task)
{
    std::lock_guard lock(mu_);
    if (task->entries.empty())
        untrack_locked(task);
}

void ProcessRegistry::remove_entry(const std::shared_ptr<TrackedTask>& task, const void* mount_key,
                                   fuse_ino_t ino)
{
    std::lock_guard lock(mu_);
    auto& e = task->entries;
    e.erase(std::remove_if(e.begin(), e.end(),
                           [&](const DirEntryRef& r) { return r.mount_key == mount_key && r.ino == ino; }),
            e.end());
    if (e.empty())
        untrack_locked(task);
}

void ProcessRegistry::remove_mount(const void* mount_key)
{
    std::lock_guard lock(mu_);
    std::vector<std::shared_ptr<TrackedTask>> empty;
    for (auto& [serial, task] : by_serial_) {
        auto& e = task->entries;
        e.erase(std::remove_if(e.begin(), e.end(),
                               [&](const DirEntryRef& r) { return r.mount_key == mount_key; }),
                e.end());
        if (e.empty())
            empty.push_back(task);
    }
    for (auto& task : empty)
        untrack_locked(task);
}

void ProcessRegistry::untrack_locked(const std::shared_ptr<TrackedTask>& task)
{
    if (by_serial_.erase(task->serial) == 0)
        return;
    unwatch_(*task);
    auto it = by_tid_.find(task->tid);
    if (it != by_tid_.end() && it->second == task)
        by_tid_.erase(it);
}

std::vector<DirEntryRef> ProcessRegistry::take_reaped(uint64_t serial)
{
    std::lock_guard lock(mu_);
    auto it = by_serial_.find(serial);
    if (it == by_serial_.end())
        return {};
    auto task = it->second;
    task->reaped.store(true, std::memory_order_release);
    auto entries = std::move(task->entries);
    task->entries.clear();
    untrack_locked(task);
    // Nothing needs the pidfd any more: the task answers "not alive" from `reaped`. Closed now,
    // not when the last node goes, which the kernel may keep long after the flush (an entry
    // below the pid directory that was open across the reap stays cached).
    task->pidfd.store(nullptr, std::memory_order_release);
    return entries;
}

void ProcessRegistry::for_task(uint64_t serial, const std::function<void(TrackedTask&)>& fn)
{
    std::lock_guard lock(mu_);
    auto it = by_serial_.find(serial);
    if (it != by_serial_.end())
        fn(*it->second);
}

void ProcessRegistry::mark_exited(uint64_t serial)
{
    std::lock_guard lock(mu_);
    auto it = by_serial_.find(serial);
    if (it != by_serial_.end())
        it->second->exited.store(true);
}

ProcessRegistry::Counts ProcessRegistry::counts() const
{
    std::lock_guard lock(mu_);
    Counts c;
    c.tasks = by_serial_.size();
    for (auto& [serial, task] : by_serial_)
        c.entries += task->entries.size();
    return c;
}

} // namespace procfsd
