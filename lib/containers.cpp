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

#include <algorithm>

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

Containers::Containers(cgroup::Layout layout, size_t kept)
    : layout_(std::move(layout)), files_(kept / 2), max_readers_(std::max<size_t>(1, kept / 2))
{
    struct stat st{};
    if (::stat("/proc/self/ns/pid", &st) == 0)
        own_ns_ = st.st_ino;
}

std::optional<Containers::Seen> Containers::seen(const Caller& reader)
{
    pid_t tgid = reader.tgid() > 0 ? reader.tgid() : reader.tid();
    if (tgid <= 0) {
        errno = ESRCH;
        return std::nullopt;
    }
    std::shared_ptr<const UniqueFd> fd;
    ino_t ns = 0;
    {
        std::lock_guard lock(mu_);
        if (auto it = readers_.find(tgid); it != readers_.end())
            fd = it->second.cgroup, ns = it->second.ns;
    }
    if (fd) {
        if (auto text = read_at_start(fd->get()))
            return Seen{ns, std::move(*text)};
        std::lock_guard lock(mu_); // that process ended: this tgid is another's now
        if (auto it = readers_.find(tgid); it != readers_.end() && it->second.cgroup == fd)
            readers_.erase(it);
    }
    fd = std::make_shared<const UniqueFd>(
        ::open(fmt::format("/proc/{}/cgroup", tgid).c_str(), O_RDONLY | O_CLOEXEC));
    struct stat st{};
    if (!fd->valid() || ::stat(fmt::format("/proc/{}/ns/pid", tgid).c_str(), &st) != 0) {
        errno = ESRCH;
        return std::nullopt;
    }
    // Read after the namespace: if it still reads, the namespace was this process's.
    auto text = read_at_start(fd->get());
    if (!text) {
        errno = ESRCH;
        return std::nullopt;
    }
    std::lock_guard lock(mu_);
    if (readers_.size() >= max_readers_ && !readers_.count(tgid))
        readers_.erase(readers_.begin()); // any: it is only opened again
    readers_[tgid] = Reader{st.st_ino, std::move(fd)};
    return Seen{st.st_ino, std::move(*text)};
}

std::optional<pid_t> Containers::namespace_init(const Caller& reader)
{
    auto me = seen(reader);
    if (!me)
        return std::nullopt;
    if (me->ns == own_ns_)
        return 0;
    pid_t init = init_of(me->ns, reader.tgid() > 0 ? reader.tgid() : reader.tid());
    if (init <= 0)
        return std::nullopt;
    return init;
}

std::shared_ptr<const cgroup::Membership> Containers::of(const Caller& reader)
{
    auto me = seen(reader);
    if (!me)
        return nullptr;
    // In the daemon's namespace there is no container's init to ask: the reader's own cgroup
    // (its process's: v1 lets threads of a process sit in different cgroups).
    if (me->ns == own_ns_)
        return parsed(me->cgroup);
    pid_t init = init_of(me->ns, reader.tgid() > 0 ? reader.tgid() : reader.tid());
    if (init <= 0)
        return nullptr;
    auto text = files_.read(fmt::format("/proc/{}/cgroup", init));
    if (!text) {
        errno = ESRCH;
        return nullptr;
    }
    return parsed(*text);
}

std::shared_ptr<const cgroup::Membership> Containers::parsed(const std::string& text)
{
    std::lock_guard lock(mu_);
    if (auto it = parsed_.find(text); it != parsed_.end())
        return it->second;
    if (parsed_.size() >= max_readers_)
        parsed_.clear(); // only parsed again
    auto m = std::make_shared<const cgroup::Membership>(cgroup::parse_membership(text, layout_));
    parsed_.emplace(text, m);
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

size_t Containers::kept() const
{
    size_t readers = 0;
    {
        std::lock_guard lock(mu_);
        readers = readers_.size();
    }
    return readers + files_.held();
}

ResourceScope::ResourceScope(Containers& c, const std::string& pinned_path)
    : containers(c),
      pinned(pinned_path.empty() ? nullptr
                                 : std::make_shared<const cgroup::Membership>(cgroup::everywhere(pinned_path)))
{
}

std::shared_ptr<const cgroup::Membership> ResourceScope::of(const Caller& reader) const
{
    return pinned ? pinned : containers.of(reader);
}

} // namespace procfsd
