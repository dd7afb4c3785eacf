// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/poll_watcher.hpp"

#include <spdlog/spdlog.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

#include "procfsd/descriptor_budget.hpp"
#include "procfsd/mount.hpp"
#include "procfsd/sys.hpp"

namespace procfsd {

PollState::~PollState()
{
    detach();
}

void PollState::detach()
{
    std::lock_guard lock(mu);
    if (watcher)
        watcher->forget(id);
    watcher = nullptr;
    fd = -1;
    handle.reset();
}

PollWatcher::PollWatcher() = default;

PollWatcher::~PollWatcher() { stop(); }

void PollWatcher::start()
{
    worker_.start([this] { run(); });
}

void PollWatcher::stop() { worker_.stop(); }

size_t PollWatcher::armed_budget()
{
    // Each watched source holds a descriptor, within its share of the daemon's, so that polls
    // cannot starve opens.
    return descriptor_budget().polls;
}

int PollWatcher::arm(const std::shared_ptr<PollState>& state, uint32_t events)
{
    {
        std::lock_guard state_lock(state->mu);
        if (state->fd < 0)
            return -EBADF;
        std::lock_guard lock(mu_);
        if (!state->watcher) {
            state->id = next_id_++;
            state->watcher = this;
            states_[state->id] = state;
        }
        auto known = armed_.find(state->id);
        if (known == armed_.end() && armed_.size() >= armed_budget())
            return -EMFILE; // that caller's poll ends at its own timeout
        auto& armed = armed_[state->id];
        if (armed.fd && armed.events == static_cast<short>(events))
            return 0; // already watched for that: the set need not change
        if (!armed.fd) {
            armed.fd.reset(::fcntl(state->fd, F_DUPFD_CLOEXEC, 0));
            if (!armed.fd) {
                int err = errno;
                armed_.erase(state->id);
                return -err;
            }
        }
        armed.events = static_cast<short>(events);
    }
    worker_.wake();
    return 0;
}

void PollWatcher::forget(uint64_t id)
{
    {
        std::lock_guard lock(mu_);
        states_.erase(id);
        auto it = armed_.find(id);
        if (it == armed_.end())
            return;
        retired_.push_back(std::move(it->second.fd));
        armed_.erase(it);
    }
    worker_.wake();
}

void PollWatcher::run()
{
    std::vector<struct pollfd> fds;
    std::vector<uint64_t> ids;
    while (!worker_.stopping()) {
        fds.clear();
        ids.clear();
        fds.push_back({worker_.wakeup_fd(), POLLIN, 0});
        {
            std::lock_guard lock(mu_);
            retired_.clear(); // not being polled now
            for (auto& [id, armed] : armed_) {
                fds.push_back({armed.fd.get(), armed.events, 0});
                ids.push_back(id);
            }
        }
        int n = ::poll(fds.data(), fds.size(), -1);
        if (n < 0) {
            // EINTR, or ENOMEM for a large set: try again; this thread must not end while
            // callers wait on it.
            if (errno != EINTR) {
                spdlog::warn("poll watcher: poll over {} descriptors: {}", fds.size(),
                             sys::errno_name(errno));
                std::this_thread::sleep_for(std::chrono::milliseconds(10));
            }
            continue;
        }
        if (fds[0].revents)
            worker_.drain();
        for (size_t i = 1; i < fds.size(); ++i) {
            if (!fds[i].revents)
                continue;
            std::shared_ptr<PollState> state;
            {
                std::lock_guard lock(mu_);
                auto it = armed_.find(ids[i - 1]);
                if (it == armed_.end() || it->second.fd.get() != fds[i].fd)
                    continue; // forgotten meanwhile: its report goes nowhere
                retired_.push_back(std::move(it->second.fd)); // one report per arming
                armed_.erase(it);
                auto s = states_.find(ids[i - 1]);
                if (s != states_.end())
                    state = s->second.lock();
            }
            if (!state)
                continue;
            PollHandle handle;
            {
                std::lock_guard lock(state->mu);
                state->pending |= static_cast<uint16_t>(fds[i].revents);
                handle = std::move(state->handle);
            }
            if (!handle)
                continue;
            if (auto mount = state->mount.lock())
                mount->notify_poll(handle.get());
        }
    }
}

} // namespace procfsd
