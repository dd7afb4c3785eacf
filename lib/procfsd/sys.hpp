// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Thin system-call wrappers that return -errno instead of setting errno, so that operation code
// reads `if (rv < 0) return rv;` and an errno from the source procfs reaches the caller unchanged.
// One convention across the library: an error is -errno, in an int, a Result or a Failure.

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>

#include "procfsd/unique_fd.hpp"

namespace procfsd::sys {

// Result of a call that yields a value or -errno.
template <typename T>
struct Result {
    T value{};
    int error = 0; // 0 or -errno

    [[nodiscard]] bool ok() const noexcept { return error == 0; }
};

// A failed operation for the log and for the person who asked: the errno, and one line that
// names the path, the errno and the reason ("mount /srv/proc: ENOENT (no such directory)").
struct Failure {
    int error = 0; // -errno; 0 when nothing failed
    std::string reason;

    explicit operator bool() const noexcept { return error != 0; }
};

int fstatat(int dirfd, const char* path, struct stat* st, int flags) noexcept;
Result<UniqueFd> openat(int dirfd, const char* path, int flags, mode_t mode = 0) noexcept;
// Reads a symlink's text whole, whatever its length.
Result<std::string> readlinkat(int dirfd, const char* path);
ssize_t pread(int fd, void* buf, size_t size, off_t off) noexcept;
ssize_t pwrite(int fd, const void* buf, size_t size, off_t off) noexcept;
// Reads a small file (status, stat) whole into a string; EFBIG past `limit` bytes.
Result<std::string> read_small_file(int dirfd, const char* path, size_t limit = 64 * 1024);
// Reads an open file from its current position to the end; EFBIG past `limit` bytes.
Result<std::string> read_to_end(int fd, size_t limit);

Result<UniqueFd> pidfd_open(pid_t pid, unsigned flags) noexcept;
// 0 while the process behind the pidfd exists (a zombie included), -ESRCH once it was reaped.
int pidfd_probe(int pidfd) noexcept;

// The name of an errno value ("ENOENT"), for log lines.
std::string_view errno_name(int err) noexcept;

} // namespace procfsd::sys
