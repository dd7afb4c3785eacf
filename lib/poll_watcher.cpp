// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/poll_watcher.hpp"

#include <spdlog/spdlog.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <array>
#include <stdexcept>

#include "procfsd/mount.hpp"
#include "procfsd/sys.hpp"

namespace procfsd {

namespace {
constexpr uint64_t wakeup_key = 0;
}

PollState::~PollState()
{
    detach();
}

void PollState::detach()
{
    std::lock_guard lock(mu);
    if (watcher)
        watcher->forget(id, fd);
    watcher = nullptr;
    fd = -1;
    if (handle)
        fuse_pollhandle_destroy(std::exchange(handle, nullptr));
}

PollWatcher::PollWatcher()
{
    epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
    wakeup_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    if (!epoll_ || !wakeup_)
        throw std::runtime_error(fmt::format("poll watcher epoll/eventfd: {}", sys::errno_name(errno)));
    struct epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u64 = wakeup_key;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, wakeup_.get(), &ev) != 0)
        throw std::runtime_error(fmt::format("poll watcher epoll_ctl: {}", sys::errno_name(errno)));
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
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wakeup_.get(), &one, sizeof one);
    if (thread_.joinable())
        thread_.join();
}

int PollWatcher::arm(const std::shared_ptr<PollState>& state, uint32_t events)
{
    std::lock_guard state_lock(state->mu);
    if (state->fd < 0)
        return -EBADF;
    struct epoll_event ev{};
    ev.events = events | EPOLLONESHOT;
    std::lock_guard lock(mu_);
    if (state->watcher) {
        ev.data.u64 = state->id;
        return ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, state->fd, &ev) == 0 ? 0 : -errno;
    }
    uint64_t id = next_id_++;
    ev.data.u64 = id;
    // Registering polls the source once: an event pending now is reported at the next wait.
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, state->fd, &ev) != 0)
        return -errno;
    states_[id] = state;
    state->id = id;
    state->watcher = this;
    return 0;
}

void PollWatcher::forget(uint64_t id, int fd)
{
    std::lock_guard lock(mu_);
    states_.erase(id);
    if (fd >= 0 && ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr) != 0 && errno != ENOENT)
        spdlog::debug("poll watcher: epoll_ctl DEL fd {}: {}", fd, sys::errno_name(errno));
}

void PollWatcher::run()
{
    std::array<struct epoll_event, 64> events{};
    while (!stopping_) {
        int n = ::epoll_wait(epoll_.get(), events.data(), static_cast<int>(events.size()), -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            spdlog::error("poll watcher: epoll_wait: {}", sys::errno_name(errno));
            return;
        }
        for (int i = 0; i < n; ++i) {
            // Copied out: struct epoll_event is packed, its fields unaligned.
            const uint64_t id = events[static_cast<size_t>(i)].data.u64;
            const uint32_t what = events[static_cast<size_t>(i)].events;
            if (id == wakeup_key)
                continue;
            std::shared_ptr<PollState> state;
            {
                std::lock_guard lock(mu_);
                auto it = states_.find(id);
                if (it != states_.end())
                    state = it->second.lock();
            }
            if (!state)
                continue; // closed meanwhile
            fuse_pollhandle* handle = nullptr;
            {
                std::lock_guard lock(state->mu);
                state->pending |= what;
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
