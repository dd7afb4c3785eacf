// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

#include "procfsd/process_registry.hpp"
#include "procfsd/stats.hpp"
#include "procfsd/unique_fd.hpp"

namespace procfsd {

// Watches the pidfd of every tracked task in one epoll, on a thread that never serves FUSE
// requests: fuse_lowlevel_notify_inval_entry() takes the parent directory's lock in the kernel,
// and a request handler holding that lock (lookup, readdir) would deadlock with it.
//
// Like the kernel's release_task() -> proc_flush_pid(), entries are invalidated when the task
// is reaped (EPOLLHUP), not when it exits (EPOLLIN), because zombies stay listed in /proc.
// Kernels before 6.9 report no reaping; there the watcher invalidates at exit instead.
class ExitWatcher {
public:
    ExitWatcher(Stats& stats);
    ExitWatcher(const ExitWatcher&) = delete;
    ExitWatcher& operator=(const ExitWatcher&) = delete;
    ~ExitWatcher();

    // The registry to report events to; set once before start().
    void attach(ProcessRegistry& registry) { registry_ = &registry; }
    void start();
    void stop();

    int watch(TrackedTask& task);
    void unwatch(TrackedTask& task);

    // Whether this kernel reports reaping on a pidfd (probed at construction).
    [[nodiscard]] bool reports_reap() const noexcept { return reports_reap_; }

private:
    void run();
    static void raise_priority();
    void on_exit(uint64_t serial);
    // `woke`: when epoll reported the reap; the latency histogram measures from there.
    void invalidate(uint64_t serial, std::chrono::steady_clock::time_point woke);

    Stats& stats_;
    ProcessRegistry* registry_ = nullptr;
    UniqueFd epoll_;
    UniqueFd wakeup_; // eventfd that ends run()
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    bool reports_reap_ = false;
};

// Probes whether pidfds report EPOLLHUP when a process is reaped (Linux 6.9+): forks a child
// that exits at once, waits for EPOLLIN, reaps it and waits for EPOLLHUP.
bool kernel_reports_reap_on_pidfd();

} // namespace procfsd
