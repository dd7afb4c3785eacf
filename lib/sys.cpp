// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/sys.hpp"

#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstring>

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL
#endif

namespace procfsd::sys {

int fstatat(int dirfd, const char* path, struct stat* st, int flags) noexcept
{
    return ::fstatat(dirfd, path, st, flags) == 0 ? 0 : -errno;
}

Result<UniqueFd> openat(int dirfd, const char* path, int flags, mode_t mode) noexcept
{
    int fd = ::openat(dirfd, path, flags | O_CLOEXEC, mode);
    if (fd < 0)
        return {UniqueFd{}, -errno};
    return {UniqueFd{fd}, 0};
}

Result<std::string> readlinkat(int dirfd, const char* path)
{
    std::string buf(256, '\0');
    for (;;) {
        ssize_t n = ::readlinkat(dirfd, path, buf.data(), buf.size());
        if (n < 0)
            return {{}, -errno};
        if (static_cast<size_t>(n) < buf.size()) {
            buf.resize(static_cast<size_t>(n));
            return {std::move(buf), 0};
        }
        if (buf.size() >= 64 * 1024)
            return {{}, -ENAMETOOLONG};
        buf.resize(buf.size() * 2);
    }
}

// A few procfs files (kmsg, some pipes of /proc/<pid>/fd) cannot seek: they are read and
// written sequentially, as the kernel does for them.
ssize_t pread(int fd, void* buf, size_t size, off_t off) noexcept
{
    ssize_t n = ::pread(fd, buf, size, off);
    if (n < 0 && errno == ESPIPE)
        n = ::read(fd, buf, size);
    return n < 0 ? -errno : n;
}

ssize_t pwrite(int fd, const void* buf, size_t size, off_t off) noexcept
{
    ssize_t n = ::pwrite(fd, buf, size, off);
    if (n < 0 && errno == ESPIPE)
        n = ::write(fd, buf, size);
    return n < 0 ? -errno : n;
}

Result<std::string> read_small_file(int dirfd, const char* path, size_t limit)
{
    auto file = openat(dirfd, path, O_RDONLY);
    if (!file.ok())
        return {{}, file.error};
    return read_to_end(file.value.get(), limit);
}

Result<std::string> read_to_end(int fd, size_t limit)
{
    std::string out;
    char chunk[4096];
    for (;;) {
        ssize_t n = ::read(fd, chunk, sizeof chunk);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return {{}, -errno};
        }
        if (n == 0)
            return {std::move(out), 0};
        // Never a silent truncation: a caller that reads a file whole means all of it.
        if (out.size() + static_cast<size_t>(n) > limit)
            return {{}, -EFBIG};
        out.append(chunk, static_cast<size_t>(n));
    }
}

Result<UniqueFd> pidfd_open(pid_t pid, unsigned flags) noexcept
{
    long fd = ::syscall(SYS_pidfd_open, pid, flags);
    if (fd < 0)
        return {UniqueFd{}, -errno};
    return {UniqueFd{static_cast<int>(fd)}, 0};
}

int pidfd_probe(int pidfd) noexcept
{
    // Signal 0 checks existence and permission; only ESRCH says the process is gone. EPERM (the
    // thread may be running with a caller's credentials) still means it exists.
    if (::syscall(SYS_pidfd_send_signal, pidfd, 0, nullptr, 0) == 0 || errno != ESRCH)
        return 0;
    return -ESRCH;
}

std::string_view errno_name(int err) noexcept
{
    const char* name = ::strerrorname_np(err < 0 ? -err : err);
    return name ? name : "E?";
}

} // namespace procfsd::sys
