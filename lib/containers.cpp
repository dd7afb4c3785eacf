// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/containers.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/nsfs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>

#include "procfsd/caller.hpp"
#include "procfsd/sys.hpp"

#ifndef NS_GET_PID_FROM_PIDNS
#define NS_GET_PID_FROM_PIDNS _IOR(NSIO, 0x6, int)
#endif

namespace procfsd {

namespace {

// Namespaces with a cached init; beyond it the dead are dropped first, then any.
constexpr size_t max_cached = 4096;

bool alive(int pidfd) noexcept
{
    return ::syscall(SYS_pidfd_send_signal, pidfd, 0, nullptr, 0) == 0;
}

} // namespace

Containers::Containers(cgroup::Layout layout) : layout_(std::move(layout))
{
    struct stat st{};
    if (::stat("/proc/self/ns/pid", &st) == 0)
        own_ns_ = st.st_ino;
}

std::optional<pid_t> Containers::namespace_init(const Caller& reader)
{
    pid_t tid = reader.tid();
    struct stat st{};
    if (tid <= 0 || ::stat(fmt::format("/proc/{}/ns/pid", tid).c_str(), &st) != 0) {
        errno = ESRCH;
        return std::nullopt;
    }
    if (st.st_ino == own_ns_)
        return 0;
    pid_t init = init_of(st.st_ino, tid);
    if (init <= 0)
        return std::nullopt;
    return init;
}

std::optional<cgroup::Membership> Containers::of(const Caller& reader)
{
    auto init = namespace_init(reader);
    if (!init)
        return std::nullopt;
    // In the daemon's namespace there is no container's init to ask: the reader's own cgroup
    // (its process's: v1 lets threads of a process sit in different cgroups).
    pid_t whose = *init != 0 ? *init : reader.tgid() > 0 ? reader.tgid() : reader.tid();
    auto m = cgroup::membership_of(whose, layout_);
    if (!m)
        errno = ESRCH;
    return m;
}

pid_t Containers::init_of(ino_t ns, pid_t reader_tid)
{
    {
        std::lock_guard lock(mu_);
        if (auto it = inits_.find(ns); it != inits_.end()) {
            if (alive(it->second.pidfd.get()))
                return it->second.pid;
            inits_.erase(it);
        }
    }
    UniqueFd nsfd(::open(fmt::format("/proc/{}/ns/pid", reader_tid).c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st{};
    if (!nsfd || ::fstat(nsfd.get(), &st) != 0 || st.st_ino != ns) {
        errno = ESRCH;
        return 0;
    }
    int init = ::ioctl(nsfd.get(), NS_GET_PID_FROM_PIDNS, 1);
    if (init <= 0)
        return 0;
    auto pidfd = sys::pidfd_open(init, 0);
    // The pid may have been given to another process between the two calls: asked again.
    if (!pidfd.ok() || ::ioctl(nsfd.get(), NS_GET_PID_FROM_PIDNS, 1) != init) {
        errno = ESRCH;
        return 0;
    }
    std::lock_guard lock(mu_);
    if (inits_.size() >= max_cached) {
        std::erase_if(inits_, [](const auto& kv) { return !alive(kv.second.pidfd.get()); });
        if (inits_.size() >= max_cached)
            inits_.erase(inits_.begin());
    }
    inits_[ns] = Init{init, std::move(pidfd.value)};
    return init;
}

size_t Containers::cached() const
{
    std::lock_guard lock(mu_);
    return inits_.size();
}

std::optional<cgroup::Membership> ResourceScope::of(const Caller& reader) const
{
    return pinned.empty() ? containers.of(reader) : cgroup::everywhere(pinned);
}

} // namespace procfsd
