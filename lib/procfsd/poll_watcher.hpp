// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <fuse_lowlevel.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <vector>

#include "procfsd/unique_fd.hpp"
#include "procfsd/worker.hpp"

namespace procfsd {

class Mount;
class PollWatcher;

// The kernel's handle for one waiting poll, destroyed with its owner.
struct PollHandleDeleter {
    void operator()(fuse_pollhandle* h) const noexcept { fuse_pollhandle_destroy(h); }
};
using PollHandle = std::unique_ptr<fuse_pollhandle, PollHandleDeleter>;

// The poll state of one open file whose caller waits in poll(), select() or epoll: the kernel's
// handle to notify when the source becomes ready, and what the source reported meanwhile. A
// source's poll may consume its event (mountinfo reports a mount change once per open file,
// PSI a trigger once), so what the watcher hears is kept here until the next FUSE poll.
struct PollState {
    PollState(std::weak_ptr<Mount> mount, int fd) : mount(std::move(mount)), fd(fd) {}
    PollState(const PollState&) = delete;
    PollState& operator=(const PollState&) = delete;
    ~PollState();

    // Stops watching, before the source fd closes: called by the open file's owner.
    void detach();

    const std::weak_ptr<Mount> mount;
    std::mutex mu;                     // guards what follows
    int fd;                            // the open file's source descriptor; -1 once detached
    PollHandle handle;
    uint32_t pending = 0;              // poll bits heard since the last FUSE poll
    PollWatcher* watcher = nullptr;    // set while registered
    uint64_t id = 0;
};

// Watches the sources of polled open files, one-shot per FUSE poll, on a thread that serves no
// requests, and tells the kernel when one is ready (fuse_lowlevel_notify_poll), which makes the
// caller's poll ask again. It waits with poll(2), not epoll: epoll polls a source once when a
// watch is added and again before reporting it, and a source whose poll consumes its event
// (mountinfo, sysctl, PSI) would report the first time and be lost the second. With poll(2),
// each report is one call of the source's poll, and what it says is kept in the state.
class PollWatcher {
public:
    PollWatcher();
    PollWatcher(const PollWatcher&) = delete;
    PollWatcher& operator=(const PollWatcher&) = delete;
    ~PollWatcher();

    void start();
    void stop();

    // Watches state's source for `events` (poll bits) until something is reported once.
    // Returns 0 or -errno (-EMFILE past the budget of watched sources).
    int arm(const std::shared_ptr<PollState>& state, uint32_t events);

private:
    friend struct PollState;
    // A watched source: a duplicate of the open file's descriptor, so that its number cannot
    // name another file while the watcher polls it, closed by the watcher thread only.
    struct Armed {
        UniqueFd fd;
        short events = 0;
    };
    void forget(uint64_t id); // with the state's lock held
    static size_t armed_budget();
    void run();

    std::mutex mu_; // guards what follows
    std::unordered_map<uint64_t, std::weak_ptr<PollState>> states_;
    std::unordered_map<uint64_t, Armed> armed_;
    std::vector<UniqueFd> retired_; // forgotten while maybe being polled: closed by run()
    uint64_t next_id_ = 1;
    Worker worker_; // woken when the set changed; last: stopped before what it uses goes
};

} // namespace procfsd
