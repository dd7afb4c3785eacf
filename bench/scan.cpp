// SPDX-License-Identifier: GPL-2.0-or-later
#include "scan.hpp"

#include "clock.hpp"
#include "file_tools.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <vector>

namespace procfsd::bench {

long read_whole(int root_fd, const char* path, char* buf, size_t cap)
{
    int fd = ::openat(root_fd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    long total = 0;
    for (;;) {
        ssize_t n = ::read(fd, buf, cap);
        if (n < 0) {
            int e = errno;
            ::close(fd);
            return -e;
        }
        total += n;
        if (n == 0 || static_cast<size_t>(n) < cap)
            break;
    }
    ::close(fd);
    return total;
}

ScanStats scan_once(int root_fd)
{
    static thread_local std::vector<char> buf(1 << 16);
    ScanStats s;
    int64_t t0 = now_ns();
    auto pids = support::list_pids(root_fd);
    char path[64];
    for (auto& pid : pids) {
        struct stat st {
        };
        if (::fstatat(root_fd, pid.c_str(), &st, 0) != 0) {
            ++s.errors;
            continue;
        }
        for (const char* f : {"stat", "status", "cmdline"}) {
            std::snprintf(path, sizeof path, "%s/%s", pid.c_str(), f);
            if (read_whole(root_fd, path, buf.data(), buf.size()) < 0)
                ++s.errors;
            else
                ++s.files;
        }
    }
    s.pids = static_cast<long>(pids.size());
    s.seconds = seconds_since(t0);
    return s;
}

} // namespace procfsd::bench
