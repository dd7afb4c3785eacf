// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/worker.hpp"

#include <fmt/format.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <stdexcept>

#include "procfsd/sys.hpp"

namespace procfsd {

Worker::Worker() : wakeup_(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK))
{
    if (!wakeup_)
        throw std::runtime_error(fmt::format("eventfd: {}", sys::errno_name(errno)));
}

void Worker::start(std::function<void()> body) { thread_ = std::thread(std::move(body)); }

void Worker::stop()
{
    if (!thread_.joinable())
        return;
    stopping_ = true;
    wake();
    thread_.join();
}

void Worker::wake() const noexcept
{
    uint64_t one = 1;
    [[maybe_unused]] auto n = ::write(wakeup_.get(), &one, sizeof one);
}

void Worker::drain() const noexcept
{
    uint64_t count;
    [[maybe_unused]] auto n = ::read(wakeup_.get(), &count, sizeof count);
}

} // namespace procfsd
