// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <fuse_lowlevel.h>
#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "procfsd/stats.hpp"
#include "procfsd/sys.hpp"
#include "procfsd/unique_fd.hpp"
#include "procfsd/worker.hpp"

namespace procfsd {

class Mount;

// One directory entry the kernel holds for a tracked task, in one mount: what
// fuse_lowlevel_notify_inval_entry() needs to drop it and, with it, its subtree. The mount is
// named by its weak pointer alone, which still tells one mount from another once it is gone.
struct DirEntryRef {
    std::weak_ptr<Mount> mount;
    fuse_ino_t parent = 0;
    std::string name;
    fuse_ino_t ino = 0;

    [[nodiscard]] bool in(const std::weak_ptr<Mount>& m) const noexcept
    {
        return !mount.owner_before(m) && !m.owner_before(mount);
    }
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
// its `inodes` list; README, How it works). Holds the one pidfd through which its reaping is
// observed, shared by every mount, until the reap. Nodes the kernel still holds after the flush
// (below a directory that an open file pinned) and open files keep the task, which then answers
// "not alive" without a descriptor. Its entries are the tracker's (ProcessTracker).
struct TrackedTask {
    pid_t tid = 0;
    pid_t tgid = 0;        // its thread group: the same as tid for a leader
    uint64_t identity = 0; // pidfs inode: differs for every process, also on pid reuse
    uint64_t serial = 0;   // the tracker's key, never reused
    // Swapped for null once at the reap; a request probing it keeps it open while it does.
    std::atomic<std::shared_ptr<const HeldPidfd>> pidfd;
    std::atomic<bool> reaped{false};
    std::atomic<bool> exited{false}; // a zombie: still listed, as in the kernel

    // True while `tid` still names this task: not reaped (a zombie counts as alive).
    [[nodiscard]] bool alive() const noexcept
    {
        if (reaped.load(std::memory_order_acquire))
            return false;
        auto fd = pidfd.load(std::memory_order_acquire);
        return fd && sys::pidfd_probe(fd->get()) == 0;
    }
};

// The daemon's one process tracker, shared by all mounts ("no global proc_mnt"): the tasks
// some mount holds directory entries for, by tid, with those entries; the epoll that watches
// their pidfds; and the thread that invalidates a task's entries when it is reaped.
//
// The thread serves no FUSE request: fuse_lowlevel_notify_inval_entry() takes the parent
// directory's lock in the kernel, and a request handler holding that lock (lookup, readdir)
// would deadlock with it. Like the kernel's release_task() -> proc_flush_pid(), entries are
// invalidated when the task is reaped (EPOLLHUP), not when it exits (EPOLLIN), because zombies
// stay listed in /proc. Kernels before 6.9 report no reaping; there it invalidates at exit.
class ProcessTracker {
public:
    explicit ProcessTracker(Stats& stats);
    ProcessTracker(const ProcessTracker&) = delete;
    ProcessTracker& operator=(const ProcessTracker&) = delete;
    ~ProcessTracker() { stop(); }

    void start();
    void stop();
    // Whether this kernel reports reaping on a pidfd (probed at construction).
    [[nodiscard]] bool reports_reap() const noexcept { return reports_reap_; }

    // The tracked task for `tid`, tracking it now if needed. `tid` may be a thread-group leader
    // or any thread. Fails with -ESRCH/-ENOENT when it does not exist, -EMFILE when out of fds.
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
    void remove_entry(const std::shared_ptr<TrackedTask>& task, const std::weak_ptr<Mount>& mount,
                      fuse_ino_t ino);
    // A mount goes away: drops all of its entries.
    void remove_mount(const std::weak_ptr<Mount>& mount);

    struct Counts {
        size_t tasks = 0;
        size_t entries = 0;
    };
    [[nodiscard]] Counts counts() const;

private:
    struct Tracked {
        std::shared_ptr<TrackedTask> task;
        std::vector<DirEntryRef> entries;
    };
    int watch_locked(TrackedTask& task);
    void untrack_locked(const std::shared_ptr<TrackedTask>& task);
    // The thread (lib/exit_watch.cpp).
    void run();
    void on_exit(uint64_t serial);
    // Stops tracking a reaped task, closes its pidfd and hands over its entries to invalidate.
    // Looked up by serial, so a late event for an untracked task is harmless.
    std::vector<DirEntryRef> take_reaped(uint64_t serial);
    // `woke`: when epoll reported the reap; the latency histogram measures from there.
    void invalidate(uint64_t serial, std::chrono::steady_clock::time_point woke);

    Stats& stats_;
    bool reports_reap_ = false;
    UniqueFd epoll_;
    mutable std::mutex mu_; // guards the maps and next_serial_
    std::unordered_map<pid_t, std::shared_ptr<TrackedTask>> by_tid_;
    std::unordered_map<uint64_t, Tracked> by_serial_;
    uint64_t next_serial_ = 1;
    Worker worker_; // last: stopped before what it uses goes
};

// Probes whether pidfds report EPOLLHUP when a process is reaped (Linux 6.9+): forks a child
// that exits at once, waits for EPOLLIN, reaps it and waits for EPOLLHUP.
bool kernel_reports_reap_on_pidfd();

} // namespace procfsd
