// SPDX-License-Identifier: GPL-2.0-or-later
#include "process_tools.hpp"

#include "file_tools.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace procfsd::support {

namespace {

int64_t now_ns()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
               std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::vector<char*> c_strings(const std::vector<std::string>& v)
{
    std::vector<char*> out;
    out.reserve(v.size() + 1);
    for (auto& s : v)
        out.push_back(const_cast<char*>(s.c_str()));
    out.push_back(nullptr);
    return out;
}

// Whether `p` ended (is a zombie or gone) within `deadline`, without reaping it. A pidfd turns
// readable at the exit; without one (an old kernel) it is polled.
bool ended_within(pid_t p, std::chrono::milliseconds deadline)
{
    int pfd = static_cast<int>(::syscall(SYS_pidfd_open, p, 0));
    if (pfd < 0) {
        return wait_until(
            [&] {
                siginfo_t info{};
                return ::waitid(P_PID, static_cast<id_t>(p), &info, WEXITED | WNOHANG | WNOWAIT) !=
                           0 ||
                       info.si_pid == p;
            },
            deadline, 5ms);
    }
    auto end = std::chrono::steady_clock::now() + deadline;
    struct pollfd pf {
        pfd, POLLIN, 0
    };
    int rc;
    do {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            end - std::chrono::steady_clock::now());
        rc = ::poll(&pf, 1, static_cast<int>(std::max<long long>(0, left.count())));
    } while (rc < 0 && errno == EINTR);
    ::close(pfd);
    return rc > 0;
}

} // namespace

bool tie_to_parent(pid_t parent, int death_signal)
{
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE})
        ::signal(s, SIG_DFL);
    ::prctl(PR_SET_PDEATHSIG, death_signal);
    return ::getppid() == parent;
}

void close_fds_from(unsigned first)
{
    ::syscall(SYS_close_range, first, ~0U, 0);
}

pid_t spawn(const std::vector<std::string>& argv, const SpawnOptions& options)
{
    auto args = c_strings(argv);
    std::vector<char*> env = options.env ? c_strings(*options.env) : std::vector<char*>{};
    pid_t parent = ::getpid();
    pid_t p = ::fork();
    if (p != 0)
        return p;
    if (!tie_to_parent(parent, options.death_signal))
        ::_exit(1);
    if (options.quiet) {
        int null_fd = ::open("/dev/null", O_RDWR);
        ::dup2(null_fd, 0);
        ::dup2(null_fd, 1);
    }
    close_fds_from(3);
    if (options.env)
        ::execvpe(args[0], args.data(), env.data());
    else
        ::execvp(args[0], args.data());
    ::_exit(127);
}

ProgramRun run_program(const std::vector<std::string>& argv, bool capture, double timeout_s)
{
    ProgramRun r;
    int out_fd = capture ? ::memfd_create("program-out", MFD_CLOEXEC) : -1;
    int err_fd = capture ? ::memfd_create("program-err", MFD_CLOEXEC) : -1;
    auto args = c_strings(argv);
    pid_t parent = ::getpid();
    int64_t t0 = now_ns();
    pid_t p = ::fork();
    if (p < 0) {
        r.err = std::string("fork: ") + std::strerror(errno);
        for (int fd : {out_fd, err_fd})
            if (fd >= 0)
                ::close(fd);
        return r;
    }
    if (p == 0) {
        if (!tie_to_parent(parent, SIGKILL))
            ::_exit(127);
        int null_fd = ::open("/dev/null", O_RDWR);
        ::dup2(null_fd, 0);
        ::dup2(capture ? out_fd : null_fd, 1);
        ::dup2(capture ? err_fd : null_fd, 2);
        close_fds_from(3);
        ::execvp(args[0], args.data());
        ::_exit(127);
    }
    r.status = wait_child(p, timeout_s, &r.timed_out);
    r.seconds = static_cast<double>(now_ns() - t0) / 1e9;
    if (r.timed_out) {
        char why[64];
        std::snprintf(why, sizeof why, "timed out after %.0f s; ", timeout_s);
        r.err = why;
    }
    auto slurp = [](int fd, std::string& into) {
        if (fd < 0)
            return;
        ::lseek(fd, 0, SEEK_SET);
        read_all(fd, into);
        ::close(fd);
    };
    slurp(out_fd, r.out);
    slurp(err_fd, r.err);
    return r;
}

bool exited_ok(int status)
{
    return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

int wait_child(pid_t p, double timeout_s, bool* timed_out)
{
    if (timed_out)
        *timed_out = false;
    if (timeout_s > 0 &&
        !ended_within(p, std::chrono::milliseconds(static_cast<long long>(timeout_s * 1000)))) {
        if (timed_out)
            *timed_out = true;
        ::kill(p, SIGKILL);
    }
    int status = 0;
    while (::waitpid(p, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
}

bool reaped_within(pid_t p, std::chrono::milliseconds deadline)
{
    return ended_within(p, deadline) && ::waitpid(p, nullptr, WNOHANG) == p;
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds deadline,
                std::chrono::milliseconds poll)
{
    auto end = std::chrono::steady_clock::now() + deadline;
    for (;;) {
        if (pred())
            return true;
        if (std::chrono::steady_clock::now() >= end)
            return pred();
        std::this_thread::sleep_for(poll);
    }
}

long rss_kib(pid_t pid)
{
    std::string s = read_text("/proc/" + std::to_string(pid) + "/status");
    auto pos = s.find("\nVmRSS:");
    return pos == std::string::npos ? -1 : std::atol(s.c_str() + pos + 7);
}

long count_fds(pid_t pid)
{
    DIR* d = ::opendir(("/proc/" + std::to_string(pid) + "/fd").c_str());
    if (!d)
        return -1;
    long n = 0;
    while (auto* e = ::readdir(d))
        if (e->d_name[0] != '.')
            ++n;
    ::closedir(d);
    return n;
}

} // namespace procfsd::support
