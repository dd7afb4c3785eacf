// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/poll_watcher.hpp"

#include <spdlog/spdlog.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/eventfd.h>
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
    if (handle)
        fuse_pollhandle_destroy(std::exchange(handle, nullptr));
}

PollWatcher::PollWatcher()
{
    wakeup_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!wakeup_)
        throw std::runtime_error(fmt::format("poll watcher eventfd: {}", sys::errno_name(errno)));
}

PollWatcher::~PollWatcher()
{
    stop();
}

void PollWatcher::start()
{
    thread_ = std::thread([this] { run(); });
}

void PollWatcher::stop()
{
    stopping_ = true;
    wake();
    if (thread_.joinable())
        thread_.join();
}

void PollWatcher::wake()
{
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wakeup_.get(), &one, sizeof one);
}

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
    wake();
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
    wake();
}

void PollWatcher::run()
{
    std::vector<struct pollfd> fds;
    std::vector<uint64_t> ids;
    while (!stopping_) {
        fds.clear();
        ids.clear();
        fds.push_back({wakeup_.get(), POLLIN, 0});
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
        if (fds[0].revents) {
            uint64_t count;
            [[maybe_unused]] auto r = ::read(wakeup_.get(), &count, sizeof count);
        }
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
            fuse_pollhandle* handle = nullptr;
            {
                std::lock_guard lock(state->mu);
                state->pending |= static_cast<uint16_t>(fds[i].revents);
                handle = std::exchange(state->handle, nullptr);
            }
            if (!handle)
                continue;
            if (auto mount = state->mount.lock())
                mount->notify_poll(handle);
            fuse_pollhandle_destroy(handle);
        }
    }
}

} // namespace procfsd
