// SPDX-License-Identifier: GPL-2.0-or-later
#include "fuse/source.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <optional>

#include "procfsd/sys.hpp"

namespace procfsd::source {

namespace {

// The caller's credentials for one source call, when the plan says so. A caller as privileged
// as the daemon needs no switch, nor what deciding one costs (its thread group, its status).
class As {
public:
    As(const Request& r, const Plan& plan)
    {
        if (plan.as_caller && !r.caller.as_privileged_as_daemon())
            scope_.emplace(r.caller, plan.stand_in);
    }
    [[nodiscard]] int status() const noexcept { return scope_ ? scope_->status() : 0; }

private:
    std::optional<CredentialScope> scope_;
};

Plan reading(const Request& r, const Plan& opened, const Node& node)
{
    Plan p;
    p.as_caller = opened.as_caller;
    p.stand_in = opened.as_caller ? stand_in_capabilities(node, r.caller) : 0;
    return p;
}

} // namespace

int stat(const Request& r, const Plan& plan, const Node& node, struct stat* st)
{
    {
        As as(r, plan);
        if (int rv = as.status(); rv < 0)
            return rv;
        if (int rv = sys::fstatat(r.mount.source_fd(), node.path.c_str(), st,
                                  AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH);
            rv < 0)
            return rv;
    }
    return check_alive(node);
}

int stat_as_daemon(const Request& r, const Node& node, struct stat* st)
{
    return sys::fstatat(r.mount.source_fd(), node.path.c_str(), st, AT_SYMLINK_NOFOLLOW | AT_EMPTY_PATH);
}

int check_mode(const Request& r, const Plan& plan, const Node& dir)
{
    if (plan.mode_check == 0)
        return 0;
    struct stat st{};
    if (int rv = stat_as_daemon(r, dir, &st); rv < 0)
        return rv;
    return directory_permits(r.caller, st, plan.mode_check) ? 0 : -EACCES;
}

sys::Result<UniqueFd> open(const Request& r, const Plan& plan, const Node& node, int flags)
{
    As as(r, plan);
    if (int rv = as.status(); rv < 0)
        return {UniqueFd{}, rv};
    return sys::openat(r.mount.source_fd(), node.path.c_str(), flags);
}

sys::Result<UniqueFd> open_for_caller(const Request& r, Plan& plan, const Node& node, int flags)
{
    auto src = open(r, plan, node, flags);
    struct stat st{};
    if (!src.ok() || plan.as_caller || (::fstat(src.value.get(), &st) == 0 && readable_by_all(st.st_mode)))
        return src;
    plan.as_caller = true;
    plan.pids_with_entries = false;
    plan.stand_in = stand_in_capabilities(node, r.caller);
    return open(r, plan, node, flags);
}

sys::Result<std::string> readlink(const Request& r, const Plan& plan, const Node& node)
{
    As as(r, plan);
    if (int rv = as.status(); rv < 0)
        return {{}, rv};
    return sys::readlinkat(r.mount.source_fd(), node.path.c_str());
}

int object_behind(const Request& r, const Plan& plan, const Node& dir, std::string_view text,
                  std::string_view hint, std::string& name, struct stat* st)
{
    auto find = [&]() -> int {
        As as(r, plan);
        if (int rv = as.status(); rv < 0)
            return rv;
        UniqueFd d(::openat(r.mount.source_fd(), dir.path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (!d)
            return -errno;
        auto shows = [&](const std::string& link) {
            char buf[256];
            ssize_t n = ::readlinkat(d.get(), link.c_str(), buf, sizeof buf);
            if (n <= 0 || std::string_view(buf, static_cast<size_t>(n)) != text ||
                ::fstatat(d.get(), link.c_str(), st, 0) != 0)
                return false;
            name = link;
            return true;
        };
        if (!hint.empty() && shows(std::string(hint)))
            return 0;
        alignas(8) char buf[8192];
        for (size_t seen = 0; seen < 65536;) {
            ssize_t n = ::getdents64(d.get(), buf, sizeof buf);
            if (n <= 0)
                return n < 0 ? -errno : -ENOENT;
            for (ssize_t at = 0; at < n; ++seen) {
                const auto* e = reinterpret_cast<const struct dirent64*>(buf + at);
                at += e->d_reclen;
                if (e->d_name[0] != '.' && shows(e->d_name))
                    return 0;
            }
        }
        return -ENOENT;
    };
    if (int rv = find(); rv < 0)
        return rv;
    return check_alive(dir);
}

int access(const Request& r, const Plan& plan, const Node& node, int mask)
{
    As as(r, plan);
    if (int rv = as.status(); rv < 0)
        return rv;
    if (::faccessat(r.mount.source_fd(), node.path.c_str(), mask, AT_EACCESS | AT_SYMLINK_NOFOLLOW) != 0)
        return -errno;
    return 0;
}

ssize_t pread(const Request& r, const Plan& opened, const Node& node, int fd, void* buf,
              size_t size, off_t off)
{
    // Some entries (syscall, personality, stat's address fields, wchan, io) check the reader at
    // every read, so files opened as the caller are read as the caller, not as the opener.
    As as(r, reading(r, opened, node));
    if (int rv = as.status(); rv < 0)
        return rv;
    return sys::pread(fd, buf, size, off);
}

ssize_t pwrite(const Request& r, const Plan& opened, const Node& node, int fd, const void* buf,
               size_t size, off_t off)
{
    As as(r, reading(r, opened, node));
    if (int rv = as.status(); rv < 0)
        return rv;
    return sys::pwrite(fd, buf, size, off);
}

ssize_t getdents(const Request& r, const Plan& plan, const Node&, int fd, std::span<char> buf)
{
    As as(r, plan);
    if (int rv = as.status(); rv < 0)
        return rv;
    long n = ::syscall(SYS_getdents64, fd, buf.data(), buf.size());
    return n < 0 ? -errno : n;
}

std::vector<bool> visible_to_caller(const Request& r, const std::vector<std::string_view>& names)
{
    std::vector<bool> out(names.size(), false);
    CredentialScope as(r.caller, 0);
    if (as.status() < 0)
        return out;
    std::string path;
    for (size_t i = 0; i < names.size(); ++i) {
        struct stat st{};
        path.assign(names[i]);
        out[i] = ::fstatat(r.mount.source_fd(), path.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
    }
    return out;
}

int run(const Request& r, const Plan& plan, const Node&, const std::function<int()>& call)
{
    As as(r, plan);
    if (int rv = as.status(); rv < 0)
        return rv;
    return call();
}

} // namespace procfsd::source
