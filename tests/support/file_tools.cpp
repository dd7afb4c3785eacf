// SPDX-License-Identifier: GPL-2.0-or-later
#include "file_tools.hpp"

#include <cstdlib>

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

namespace procfsd::support {

bool read_all(int fd, std::string& out)
{
    char buf[16384];
    ssize_t n;
    while ((n = ::read(fd, buf, sizeof buf)) > 0)
        out.append(buf, static_cast<size_t>(n));
    return n == 0;
}

std::optional<std::string> read_file(const std::string& path)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return std::nullopt;
    std::string out;
    bool ok = read_all(fd, out);
    int err = errno;
    ::close(fd);
    if (!ok) {
        errno = err;
        return std::nullopt;
    }
    return out;
}

std::string read_text(const std::string& path)
{
    return read_file(path).value_or("");
}

bool is_pid_name(std::string_view name)
{
    return !name.empty() && name.front() >= '1' && name.front() <= '9' &&
           std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string> list_pids(int dir_fd)
{
    std::vector<std::string> out;
    int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return out;
    DIR* d = ::fdopendir(fd);
    if (!d) {
        ::close(fd);
        return out;
    }
    while (auto* e = ::readdir(d))
        if (is_pid_name(e->d_name))
            out.emplace_back(e->d_name);
    ::closedir(d);
    return out;
}

long long line_value(const std::string& text, const std::string& name)
{
    std::string key = name + ":";
    for (size_t at = 0; at < text.size();) {
        size_t end = text.find('\n', at);
        if (end == std::string::npos)
            end = text.size();
        if (text.compare(at, key.size(), key) == 0)
            return std::atoll(text.c_str() + at + key.size());
        at = end + 1;
    }
    return -1;
}

} // namespace procfsd::support
