// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <atomic>
#include <functional>
#include <thread>

#include "procfsd/unique_fd.hpp"

namespace procfsd {

// A thread of the daemon that serves no FUSE request (the process tracker's, the poll watcher, the
// control server), with the eventfd that wakes it: its body waits on wakeup_fd() beside its own
// descriptors, and returns once stopping() is true. Stopped and joined with its owner.
class Worker {
public:
    Worker(); // throws std::runtime_error when no eventfd can be made
    Worker(const Worker&) = delete;
    Worker& operator=(const Worker&) = delete;
    ~Worker() { stop(); }

    void start(std::function<void()> body);
    // Asks the body to return, wakes it and waits for it. Idempotent.
    void stop();

    // Wakes the body without stopping it (its set of descriptors changed).
    void wake() const noexcept;
    // Reads the wake-ups counted so far, once the body saw wakeup_fd() readable.
    void drain() const noexcept;
    [[nodiscard]] int wakeup_fd() const noexcept { return wakeup_.get(); }
    [[nodiscard]] bool stopping() const noexcept { return stopping_.load(); }

private:
    UniqueFd wakeup_; // eventfd
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

} // namespace procfsd
