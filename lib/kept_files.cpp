// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/kept_files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>

namespace procfsd {

std::optional<std::string> read_at_start(int fd)
{
    std::string out;
    char buf[8192];
    for (;;) {
        ssize_t n = ::pread(fd, buf, sizeof buf, static_cast<off_t>(out.size()));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return std::nullopt;
        if (n == 0)
            return out;
        out.append(buf, static_cast<size_t>(n));
        // A file of one record (see kept_files.hpp) gives all of it to a read with room for
        // it: a short read is its end, and the read that would return 0 is saved.
        if (static_cast<size_t>(n) < sizeof buf)
            return out;
        if (out.size() > (1u << 20)) { // no cgroup or status file is this long
            errno = EFBIG;
            return std::nullopt;
        }
    }
}

std::optional<std::string> KeptFiles::read(const std::string& path)
{
    if (Fd fd = kept(path)) {
        if (auto text = read_at_start(fd->get()))
            return text;
        // Gone (ENODEV, ESRCH) or failing: closed, and the path opened anew.
        drop(path, fd);
    }
    auto fd = std::make_shared<const UniqueFd>(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd->valid())
        return std::nullopt;
    auto text = read_at_start(fd->get());
    if (text && max_ > 0)
        keep(path, std::move(fd));
    return text;
}

size_t KeptFiles::held() const
{
    std::lock_guard lock(mu_);
    return files_.size();
}

KeptFiles::Fd KeptFiles::kept(const std::string& path)
{
    std::lock_guard lock(mu_);
    auto it = files_.find(path);
    if (it == files_.end())
        return nullptr;
    order_.splice(order_.begin(), order_, it->second.at);
    return it->second.fd;
}

void KeptFiles::keep(const std::string& path, Fd fd)
{
    std::lock_guard lock(mu_);
    if (files_.count(path))
        return; // another reader kept it meanwhile: this one closes with its last use
    while (files_.size() >= max_) {
        files_.erase(order_.back());
        order_.pop_back();
    }
    order_.push_front(path);
    files_.emplace(path, Item{std::move(fd), order_.begin()});
}

void KeptFiles::drop(const std::string& path, const Fd& fd)
{
    std::lock_guard lock(mu_);
    auto it = files_.find(path);
    if (it == files_.end() || it->second.fd != fd)
        return;
    order_.erase(it->second.at);
    files_.erase(it);
}

} // namespace procfsd
