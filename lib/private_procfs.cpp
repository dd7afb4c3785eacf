// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/private_procfs.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/wait.h>

#include <cstring>
#include <string>

namespace procfsd {

namespace {

// How long the helper may take: it makes one syscall and sends one fd.
constexpr int helper_timeout_ms = 10'000;

// One message of `size` bytes at `data` with room for one fd (SCM_RIGHTS).
struct FdMessage {
    struct iovec iov;
    alignas(struct cmsghdr) char control[CMSG_SPACE(sizeof(int))] = {};
    struct msghdr msg{};

    FdMessage(void* data, size_t size) : iov{data, size}
    {
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
    }
    FdMessage(const FdMessage&) = delete;
    FdMessage& operator=(const FdMessage&) = delete;
};

// Sends `fd` over the socket `sock`. Async-signal-safe: it runs in a child forked from the
// threaded daemon.
bool send_fd(int sock, int fd)
{
    char byte = 0;
    FdMessage m(&byte, 1);
    struct cmsghdr* c = CMSG_FIRSTHDR(&m.msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    std::memcpy(CMSG_DATA(c), &fd, sizeof fd);
    return ::sendmsg(sock, &m.msg, MSG_NOSIGNAL) == 1;
}

// The fd the helper sent, or -errno: its error as one int when it has no fd to send.
int receive_fd(int sock)
{
    struct pollfd p{sock, POLLIN, 0};
    int ready;
    while ((ready = ::poll(&p, 1, helper_timeout_ms)) < 0 && errno == EINTR) {
    }
    if (ready == 0)
        return -ETIMEDOUT;
    int err = 0;
    FdMessage m(&err, sizeof err);
    ssize_t n = ::recvmsg(sock, &m.msg, MSG_CMSG_CLOEXEC);
    if (n < 0)
        return -errno;
    for (struct cmsghdr* c = CMSG_FIRSTHDR(&m.msg); c; c = CMSG_NXTHDR(&m.msg, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int fd = -1;
            std::memcpy(&fd, CMSG_DATA(c), sizeof fd);
            return fd;
        }
    // No fd: the helper sent its errno (or ended without a word).
    return n == sizeof err && err < 0 ? err : -ECHILD;
}

// In the forked helper: into the namespace (for its children), and a child there that opens
// the context. Only system calls: the daemon has threads.
[[noreturn]] void helper_main(int sock, int pidns)
{
    auto say_error = [&](int err) {
        FdMessage m(&err, sizeof err);
        m.msg.msg_controllen = 0; // no fd
        ::sendmsg(sock, &m.msg, MSG_NOSIGNAL);
        ::_exit(1);
    };
    if (::setns(pidns, CLONE_NEWPID) != 0)
        say_error(-errno);
    pid_t child = ::fork(); // its active pid namespace is `pidns`
    if (child < 0)
        say_error(-errno); // ENOMEM: the namespace's init is gone, it takes no new process
    if (child == 0) {
        int ctx = ::fsopen("proc", FSOPEN_CLOEXEC);
        if (ctx < 0)
            say_error(-errno);
        ::_exit(send_fd(sock, ctx) ? 0 : 1);
    }
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 1);
}

// Sets the mount's options on a procfs context and makes the detached instance.
sys::Result<UniqueFd> configure_and_mount(UniqueFd context, const MountOptions& options)
{
    auto set = [&](const char* key, const std::string& value) {
        if (::fsconfig(context.get(), FSCONFIG_SET_STRING, key, value.c_str(), 0) != 0) {
            int err = -errno;
            spdlog::error("procfs option {}={}: {}", key, value, sys::errno_name(err));
            return err;
        }
        return 0;
    };
    // Numbers rather than names, which kernels before 5.8's 1c6c4d112e81 did not know.
    if (int err = set("hidepid", fmt::format("{}", static_cast<int>(options.hidepid))))
        return {UniqueFd{}, err};
    if (options.gid)
        if (int err = set("gid", fmt::format("{}", *options.gid)))
            return {UniqueFd{}, err};
    if (options.subset_pid)
        if (int err = set("subset", "pid"))
            return {UniqueFd{}, err};
    if (::fsconfig(context.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
        return {UniqueFd{}, -errno};
    int mnt = ::fsmount(context.get(), FSMOUNT_CLOEXEC,
                        MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    if (mnt < 0)
        return {UniqueFd{}, -errno};
    return {UniqueFd{mnt}, 0};
}

// A procfs context for the pid namespace `pidns`, opened by a short-lived helper in it (a
// grandchild: setns moves only the children), sent back over a socket.
sys::Result<UniqueFd> procfs_context_made_in(int pidns)
{
    int sv[2];
    if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0)
        return {UniqueFd{}, -errno};
    UniqueFd ours(sv[0]), theirs(sv[1]);
    pid_t helper = ::fork();
    if (helper < 0)
        return {UniqueFd{}, -errno};
    if (helper == 0)
        helper_main(theirs.get(), pidns);
    theirs.reset();
    int fd = receive_fd(ours.get());
    if (fd == -ETIMEDOUT)
        ::kill(helper, SIGKILL);
    while (::waitpid(helper, nullptr, 0) < 0 && errno == EINTR) {
    }
    if (fd < 0) {
        spdlog::error("procfs instance made in the pid namespace by a helper: {}",
                      sys::errno_name(fd));
        return {UniqueFd{}, fd};
    }
    return {UniqueFd{fd}, 0};
}

} // namespace

sys::Result<UniqueFd> open_private_procfs(const MountOptions& options, int pidns)
{
    UniqueFd context(::fsopen("proc", FSOPEN_CLOEXEC));
    if (!context)
        return {UniqueFd{}, -errno};
    if (pidns >= 0 && ::fsconfig(context.get(), FSCONFIG_SET_FD, "pidns", nullptr, pidns) != 0) {
        int err = -errno;
        if (err != -EINVAL) {
            spdlog::error("procfs option pidns: {}{}", sys::errno_name(err),
                          err == -EPERM
                              ? " (the daemon lacks CAP_SYS_ADMIN over the namespace's owner)"
                              : "");
            return {UniqueFd{}, err};
        }
        // The namespace was checked when the mount was parsed: EINVAL is a procfs without
        // pidns= (before Linux 6.18). A context takes its creator's active pid namespace.
        spdlog::info("this kernel's procfs has no pidns= (Linux 6.18+): a helper process in the "
                     "namespace makes the instance");
        auto made = procfs_context_made_in(pidns);
        if (!made.ok())
            return made;
        context = std::move(made.value);
    }
    return configure_and_mount(std::move(context), options);
}

sys::Result<UniqueFd> open_private_procfs_by_helper(const MountOptions& options, int pidns)
{
    auto made = procfs_context_made_in(pidns);
    if (!made.ok())
        return made;
    return configure_and_mount(std::move(made.value), options);
}

} // namespace procfsd
