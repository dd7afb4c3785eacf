// SPDX-License-Identifier: GPL-2.0-or-later
// poll() and epoll on procfsd's files wake as on /proc's: mountinfo on a mount change,
// kernel/hostname on a hostname change, and a file without a poll method is always ready.
// Each wait is checked twice: with the change made while the poller sleeps (the daemon must
// notify the kernel) and with nothing changing (it must not).
#include <catch2/catch_test_macros.hpp>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <thread>

#include "harness.hpp"

using namespace procfsd::test;

namespace {

// Opens `path` and reads it whole: a poll reports what changed after that.
int open_and_read(const std::string& path)
{
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    char buf[4096];
    while (::read(fd, buf, sizeof buf) > 0) {
    }
    return fd;
}

// Polls `fd` for `events` on a thread, makes `change` once that thread sleeps in poll (its
// wchan says so), and returns what the poll reported, or -1 if only its timeout ended it: at the
// timeout the kernel polls once more, which would find the change without any wake-up.
int poll_across(int fd, short events, const std::function<void()>& change)
{
    const int timeout_ms = change ? 10000 : 300;
    std::atomic<pid_t> tid{0};
    int result = 0;
    std::thread poller([&] {
        tid = static_cast<pid_t>(::syscall(SYS_gettid));
        struct pollfd p{fd, events, 0};
        auto start = std::chrono::steady_clock::now();
        int n = ::poll(&p, 1, timeout_ms);
        bool woken = std::chrono::steady_clock::now() - start < std::chrono::milliseconds(timeout_ms);
        result = n > 0 ? (woken ? p.revents : -1) : 0;
    });
    wait_until([&] {
        auto wchan = tid ? read_file("/proc/self/task/" + std::to_string(tid) + "/wchan") : std::nullopt;
        return wchan && wchan->find("poll") != std::string::npos;
    }, 2s);
    if (change)
        change();
    poller.join();
    return result;
}

short poll_now(int fd, short events)
{
    struct pollfd p{fd, events, 0};
    return ::poll(&p, 1, 0) > 0 ? p.revents : 0;
}

} // namespace

TEST_CASE("poll on mountinfo wakes on a mount change as on /proc", "[poll]")
{
    // A private mount namespace: the tmpfs mounted here changes no one else's table.
    REQUIRE(::unshare(CLONE_NEWNS) == 0);
    REQUIRE(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0);
    TestMount m;
    std::string dir = m.dir() + "/tmpfs";
    ::mkdir(dir.c_str(), 0755);
    // Removed before the mount's directory, which must be empty by then (in every path).
    struct RemovedAtEnd {
        std::string path;
        ~RemovedAtEnd() { ::rmdir(path.c_str()); }
    } removed{dir};
    auto mount_and_unmount = [&] {
        REQUIRE(::mount("none", dir.c_str(), "tmpfs", 0, nullptr) == 0);
        REQUIRE(::umount2(dir.c_str(), 0) == 0);
    };
    for (const std::string& path : {std::string("/proc/self/mountinfo"), m.path("self/mountinfo")}) {
        INFO(path);
        int fd = open_and_read(path);
        CHECK(poll_now(fd, POLLPRI) == 0);
        CHECK(poll_now(fd, POLLIN) == POLLIN);
        CHECK(poll_across(fd, POLLPRI, nullptr) == 0);
        CHECK(poll_across(fd, POLLPRI, mount_and_unmount) == (POLLPRI | POLLERR));
        // Reported once per change seen: the unmount may still be pending, then nothing is.
        poll_now(fd, POLLPRI);
        CHECK(poll_now(fd, POLLPRI) == 0);
        // epoll, edge-triggered, as systemd and libmount watch it.
        int ep = ::epoll_create1(EPOLL_CLOEXEC);
        struct epoll_event ev{};
        ev.events = EPOLLPRI | EPOLLET;
        REQUIRE(::epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0);
        mount_and_unmount();
        struct epoll_event got{};
        CHECK(::epoll_wait(ep, &got, 1, 2000) == 1);
        CHECK((got.events & EPOLLPRI) != 0);
        ::close(ep);
        ::close(fd);
    }
}

TEST_CASE("poll on kernel/hostname wakes when a hostname is set", "[poll]")
{
    TestMount m;
    for (const std::string& path : {std::string("/proc/sys/kernel/hostname"), m.path("sys/kernel/hostname")}) {
        INFO(path);
        int fd = open_and_read(path);
        CHECK(poll_across(fd, POLLPRI, nullptr) == 0);
        CHECK(poll_across(fd, POLLPRI, set_hostname_elsewhere) == (POLLPRI | POLLERR));
        CHECK(poll_now(fd, POLLPRI) == 0);
        ::close(fd);
    }
}

TEST_CASE("a file without a poll method is always ready", "[poll]")
{
    TestMount m;
    auto sleeper = spawn_sleeper();
    std::string rel = std::to_string(sleeper.pid()) + "/status";
    for (const std::string& path : {"/proc/" + rel, m.path(rel)}) {
        INFO(path);
        int fd = open_and_read(path);
        CHECK(poll_now(fd, POLLIN | POLLOUT | POLLPRI) == (POLLIN | POLLOUT));
        CHECK(poll_across(fd, POLLIN, nullptr) == POLLIN);
        ::close(fd);
    }
}
