// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <fuse_lowlevel.h>
#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "procfsd/stats.hpp"
#include "procfsd/sys.hpp"
#include "procfsd/unique_fd.hpp"

namespace procfsd {

class Mount;

// One directory entry the kernel holds for a tracked task, in one mount: what
// fuse_lowlevel_notify_inval_entry() needs to drop it and, with it, its subtree.
struct DirEntryRef {
    std::weak_ptr<Mount> mount;
    const void* mount_key = nullptr; // identifies the mount after it is gone
    fuse_ino_t parent = 0;
    std::string name;
    fuse_ino_t ino = 0;
};

// A pidfd the daemon holds. Each one alive counts in Stats::pidfds_held, so that the `pidfds`
// counter is what the daemon really holds, whoever keeps it open.
class HeldPidfd {
public:
    HeldPidfd(UniqueFd fd, Stats& stats) noexcept : fd_(std::move(fd)), stats_(stats)
    {
        stats_.pidfds_held.fetch_add(1, std::memory_order_relaxed);
    }
    HeldPidfd(const HeldPidfd&) = delete;
    HeldPidfd& operator=(const HeldPidfd&) = delete;
    ~HeldPidfd() { stats_.pidfds_held.fetch_sub(1, std::memory_order_relaxed); }

    [[nodiscard]] int get() const noexcept { return fd_.get(); }

private:
    UniqueFd fd_;
    Stats& stats_;
};

// A process or thread that some mount has directory inodes for (the kernel's struct pid with
// its `inodes` list, kernel commit 7bc3e6e55acf; README, How it works). Tracked while it has entries; holds the one
// pidfd through which its reaping is observed, shared by every mount, until the reap. Nodes
// the kernel still holds after the flush (below a directory that an open file pinned) and open
// files keep the task, which then answers "not alive" without a descriptor.
struct TrackedTask {
    pid_t tid = 0;
    pid_t tgid = 0;               // its thread group: the same as tid for a leader
    uint64_t identity = 0;        // pidfs inode: differs for every process, also on pid reuse
    uint64_t serial = 0;          // registry key, never reused
    // Swapped for null once at the reap; a request probing it keeps it open while it does.
    std::atomic<std::shared_ptr<const HeldPidfd>> pidfd;
    std::atomic<bool> reaped{false};
    std::atomic<bool> exited{false}; // a zombie: still listed, as in the kernel
    std::vector<DirEntryRef> entries; // guarded by ProcessRegistry::mu_

    // The pidfd's number, for the exit watcher's epoll (under the registry lock, before the reap).
    [[nodiscard]] int pidfd_number() const noexcept
    {
        auto fd = pidfd.load(std::memory_order_acquire);
        return fd ? fd->get() : -1;
    }

    // True while `tid` still names this task: not reaped (a zombie counts as alive).
    [[nodiscard]] bool alive() const noexcept
    {
        if (reaped.load(std::memory_order_acquire))
            return false;
        auto fd = pidfd.load(std::memory_order_acquire);
        return fd && sys::pidfd_probe(fd->get()) == 0;
    }
};

// The process registry shared by all mounts ("no global proc_mnt"): tasks by tid, each with the
// list of directory entries every mount holds for it.
class ProcessRegistry {
public:
    // Called with each new pidfd, so that the exit watcher can watch it.
    using WatchFn = std::function<int(TrackedTask&)>;
    using UnwatchFn = std::function<void(TrackedTask&)>;

    ProcessRegistry(Stats& stats, WatchFn watch, UnwatchFn unwatch);

    // The tracked task for `tid`, tracking it now if needed. `tid` may be a thread-group leader
    // or any thread. Fails with ESRCH/ENOENT when it does not exist, EMFILE when out of fds.
    sys::Result<std::shared_ptr<TrackedTask>> track(pid_t tid);

    // A lookup that tracked the task failed before adding an entry: untrack it if nothing else
    // holds an entry, so a task with no inodes holds no pidfd.
    void drop_if_unused(const std::shared_ptr<TrackedTask>& task);
    // Records that a mount's kernel now holds a directory entry for the task. False when the task
    // was reaped meanwhile (its entries were already flushed) or cannot be watched: the entry
    // must then not be handed to the kernel, since nothing would ever invalidate it.
    // Idempotent per (mount, inode): each lookup of the entry may call it.
    [[nodiscard]] bool add_entry(const std::shared_ptr<TrackedTask>& task, DirEntryRef ref);
    // The kernel forgot that entry; a task left with no entries is no longer tracked.
    void remove_entry(const std::shared_ptr<TrackedTask>& task, const void* mount_key,
                      fuse_ino_t ino);
    // A mount goes away: drops all of its entries.
    void remove_mount(const void* mount_key);

    // The watcher saw the task reaped: stops tracking it, closes its pidfd and hands over its
    // entries to invalidate. Looked up by serial, so a late event for an untracked task is
    // harmless.
    std::vector<DirEntryRef> take_reaped(uint64_t serial);
    // Runs `fn` on the tracked task with this serial, if there is one, under the registry lock.
    void for_task(uint64_t serial, const std::function<void(TrackedTask&)>& fn);
    // The watcher saw the task exit (zombie).
    void mark_exited(uint64_t serial);

    struct Counts {
        size_t tasks = 0;
        size_t entries = 0;
    };
    [[nodiscard]] Counts counts() const;

private:
    void untrack_locked(const std::shared_ptr<TrackedTask>& task);

    Stats& stats_;
    WatchFn watch_;
    UnwatchFn unwatch_;
    mutable std::mutex mu_; // guards the maps, every TrackedTask::entries and next_serial_
    std::unordered_map<pid_t, std::shared_ptr<TrackedTask>> by_tid_;
    std::unordered_map<uint64_t, std::shared_ptr<TrackedTask>> by_serial_;
    uint64_t next_serial_ = 1;
    // At most this many pidfds held (see descriptor_budget.hpp); past it, processes are served
    // untracked (EMFILE).
    static size_t pidfd_budget();
};

} // namespace procfsd
