// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/pid_namespace.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <spdlog/spdlog.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <array>
#include <utility>

// Linux 6.10's pid translations; Debian 12's headers predate them.
#ifndef NS_GET_PID_FROM_PIDNS
#define NS_GET_PID_FROM_PIDNS _IOR(NSIO, 0x6, int)
#define NS_GET_TGID_FROM_PIDNS _IOR(NSIO, 0x7, int)
#define NS_GET_PID_IN_PIDNS _IOR(NSIO, 0x8, int)
#define NS_GET_TGID_IN_PIDNS _IOR(NSIO, 0x9, int)
#endif

namespace procfsd {

namespace {

// The kind of namespace an nsfs file is, as its link names it.
std::string_view namespace_kind(int type) noexcept
{
    constexpr std::array<std::pair<int, std::string_view>, 8> kinds{{
        {CLONE_NEWPID, "pid"},
        {CLONE_NEWNET, "net"},
        {CLONE_NEWNS, "mnt"},
        {CLONE_NEWUTS, "uts"},
        {CLONE_NEWIPC, "ipc"},
        {CLONE_NEWUSER, "user"},
        {CLONE_NEWCGROUP, "cgroup"},
        {CLONE_NEWTIME, "time"},
    }};
    for (auto [flag, name] : kinds)
        if (flag == type)
            return name;
    return "unknown";
}

bool same_file(int fd, const struct stat& other) noexcept
{
    struct stat st{};
    return ::fstat(fd, &st) == 0 && st.st_dev == other.st_dev && st.st_ino == other.st_ino;
}

// Whether the namespace behind `fd` is `own` or below it: its parents, walked up, reach `own`.
// NS_GET_PARENT refuses with EPERM to step above the daemon's own namespace, so an ancestor or
// a sibling's branch ends there.
bool descends_from(int fd, const struct stat& own)
{
    UniqueFd walk(::fcntl(fd, F_DUPFD_CLOEXEC, 0));
    for (int depth = 0; walk && depth < 64; ++depth) { // the kernel nests at most 32 levels
        if (same_file(walk.get(), own))
            return true;
        walk.reset(::ioctl(walk.get(), NS_GET_PARENT));
    }
    return false;
}

pid_t translate(int fd, unsigned long request, pid_t pid) noexcept
{
    if (pid <= 0)
        return 0;
    int rv = ::ioctl(fd, request, pid);
    return rv > 0 ? rv : 0;
}

} // namespace

sys::Result<PidNamespace> PidNamespace::open(const std::string& path, sys::Failure& why)
{
    auto refuse = [&](int err, const std::string& reason) {
        why = {-err, fmt::format("pidns={}: {}", path, reason)};
        return sys::Result<PidNamespace>{PidNamespace{}, -err};
    };
    PidNamespace ns;
    ns.fd_.reset(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns.fd_) {
        int err = errno;
        return refuse(err, err == ENOENT ? "no such file" : "cannot open it");
    }
    struct statfs fs{};
    if (::fstatfs(ns.fd_.get(), &fs) != 0 || fs.f_type != NSFS_MAGIC)
        return refuse(EINVAL, "not a namespace file such as /proc/<pid>/ns/pid");
    int type = ::ioctl(ns.fd_.get(), NS_GET_NSTYPE);
    if (type != CLONE_NEWPID)
        return refuse(EINVAL, fmt::format("a {} namespace, not a pid namespace", namespace_kind(type)));
    struct stat own{};
    if (::stat("/proc/thread-self/ns/pid", &own) != 0)
        return refuse(errno, "cannot read the daemon's own pid namespace");
    if (!descends_from(ns.fd_.get(), own))
        return refuse(EINVAL, "neither the daemon's pid namespace nor a descendant of it");
    // Every lookup translates through these; kernels before 6.10 lack them (ENOTTY), where
    // the daemon's own pid gives ESRCH or its number there.
    if (::ioctl(ns.fd_.get(), NS_GET_PID_IN_PIDNS, ::getpid()) < 0 && errno == ENOTTY)
        return refuse(EINVAL, "this kernel lacks the nsfs pid translations that pidns= needs "
                              "(NS_GET_PID_FROM_PIDNS, Linux 6.10+)");
    struct stat st{};
    ::fstat(ns.fd_.get(), &st);
    ns.name_ = fmt::format("pid:[{}]", st.st_ino);
    return {std::move(ns), 0};
}

pid_t PidNamespace::to_daemon(pid_t shown) const noexcept
{
    return foreign() ? translate(fd_.get(), NS_GET_PID_FROM_PIDNS, shown) : shown;
}

pid_t PidNamespace::shown_tid(pid_t tid) const noexcept
{
    return foreign() ? translate(fd_.get(), NS_GET_PID_IN_PIDNS, tid) : tid;
}

pid_t PidNamespace::shown_tgid(pid_t tid) const noexcept
{
    return foreign() ? translate(fd_.get(), NS_GET_TGID_IN_PIDNS, tid) : tid;
}

bool PidNamespace::empty() const noexcept { return foreign() && to_daemon(1) == 0; }

} // namespace procfsd
