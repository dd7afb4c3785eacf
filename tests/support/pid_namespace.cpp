// SPDX-License-Identifier: GPL-2.0-or-later
#include "pid_namespace.hpp"

#include "process_tools.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace procfsd::support {

namespace {

constexpr unsigned long ns_get_pid_from_pidns = _IOR(0xb7, 0x6, int);
constexpr unsigned long ns_get_pid_in_pidns = _IOR(0xb7, 0x8, int);

// Reads one pid a child writes on `fd` (then closes it); 0 if it wrote none.
pid_t read_pid(int fd)
{
    pid_t pid = 0;
    ssize_t n;
    while ((n = ::read(fd, &pid, sizeof pid)) < 0 && errno == EINTR) {
    }
    ::close(fd);
    return n == sizeof pid ? pid : 0;
}

void write_pid(int fd, pid_t pid)
{
    [[maybe_unused]] auto n = ::write(fd, &pid, sizeof pid);
}

// Waits for `child` and exits with its status (a helper's last act).
[[noreturn]] void exit_with(pid_t child)
{
    int status = 0;
    while (::waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    ::_exit(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status));
}

} // namespace

UniqueFd kernel_procfs(int nsfd)
{
    UniqueFd ctx(::fsopen("proc", FSOPEN_CLOEXEC));
    if (!ctx)
        return {};
    if (::fsconfig(ctx.get(), FSCONFIG_SET_FD, "pidns", nullptr, nsfd) != 0 ||
        ::fsconfig(ctx.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
        return {};
    return UniqueFd(::fsmount(ctx.get(), FSMOUNT_CLOEXEC, 0));
}

NsChild fork_into(int nsfd, const std::function<int()>& body)
{
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0)
        return {};
    pid_t self = ::getpid();
    pid_t helper = ::fork();
    if (helper < 0) {
        int e = errno;
        ::close(p[0]);
        ::close(p[1]);
        errno = e;
        return {};
    }
    if (helper == 0) {
        ::close(p[0]);
        if (!tie_to_parent(self, SIGKILL) || ::setns(nsfd, CLONE_NEWPID) != 0)
            ::_exit(126);
        pid_t child = ::fork();
        if (child == 0) {
            ::close(p[1]);
            // Its parent is outside its namespace, where getppid() gives 0.
            if (!tie_to_parent(0, SIGKILL))
                ::_exit(126);
            ::_exit(body());
        }
        // Its number there, while it cannot have been reaped (we reap it).
        pid_t numbers[2] = {child, ::ioctl(nsfd, ns_get_pid_in_pidns, child)};
        [[maybe_unused]] auto n = ::write(p[1], numbers, sizeof numbers);
        ::close(p[1]);
        exit_with(child);
    }
    ::close(p[1]);
    pid_t numbers[2] = {-1, 0};
    ssize_t n;
    while ((n = ::read(p[0], numbers, sizeof numbers)) < 0 && errno == EINTR) {
    }
    ::close(p[0]);
    if (n != sizeof numbers)
        return {helper, -1, 0};
    return {helper, numbers[0], numbers[1] > 0 ? numbers[1] : 0};
}

PidNamespace::PidNamespace(const std::string& script, int parent_ns)
{
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
        fail("pipe");
        return;
    }
    pid_t self = ::getpid();
    reaper_ = ::fork();
    if (reaper_ < 0) {
        fail("fork");
        ::close(p[0]);
        ::close(p[1]);
        return;
    }
    if (reaper_ == 0) {
        ::close(p[0]);
        // Nested: the namespace is made below `parent_ns`, by a process in it.
        if (!tie_to_parent(self, SIGKILL) ||
            (parent_ns >= 0 && ::setns(parent_ns, CLONE_NEWPID) != 0))
            ::_exit(126);
        if (parent_ns >= 0) {
            pid_t inner = ::fork(); // in parent_ns: it may unshare a child of it
            if (inner != 0)
                exit_with(inner);
            if (!tie_to_parent(0, SIGKILL)) // its parent is outside parent_ns
                ::_exit(126);
        }
        if (::unshare(CLONE_NEWPID) != 0)
            ::_exit(126);
        pid_t init = ::fork();
        if (init == 0) {
            ::close(p[1]);
            if (!tie_to_parent(0, SIGKILL)) // its parent is outside the namespace
                ::_exit(126);
            ::execl("/bin/sh", "sh", "-c", script.c_str(), nullptr);
            ::_exit(127);
        }
        // The init as the reaper's namespace numbers it: ours, unless nested.
        write_pid(p[1], init);
        ::close(p[1]);
        exit_with(init);
    }
    ::close(p[1]);
    pid_t init = read_pid(p[0]);
    if (init <= 0) {
        fail("the namespace's init did not start");
        return;
    }
    if (parent_ns >= 0) {
        // Nested, that number is parent_ns's: ours for the same task.
        int rv = ::ioctl(parent_ns, ns_get_pid_from_pidns, init);
        if (rv <= 0) {
            fail("NS_GET_PID_FROM_PIDNS");
            return;
        }
        init = rv;
    }
    init_ = init;
    ns_ = UniqueFd(::open(ns_path().c_str(), O_RDONLY | O_CLOEXEC));
    if (!ns_) {
        fail(ns_path());
        return;
    }
    kernel_ = kernel_procfs(ns_.get());
    if (!kernel_)
        fail("a kernel procfs instance for it (fsconfig pidns=, Linux 6.18+)");
}

PidNamespace::~PidNamespace()
{
    // The init's death ends the namespace; without one known, the reaper's ends the init.
    if (init_ > 0)
        ::kill(init_, SIGKILL);
    else if (reaper_ > 0)
        ::kill(reaper_, SIGKILL);
    if (reaper_ > 0)
        wait_child(reaper_);
}

std::string PidNamespace::ns_path() const
{
    return "/proc/" + std::to_string(init_) + "/ns/pid";
}

void PidNamespace::fail(const std::string& what)
{
    problem_ = what + ": " + std::strerror(errno);
}

} // namespace procfsd::support
