// SPDX-License-Identifier: GPL-2.0-or-later
// How requests reach the daemon: FUSE over io_uring where the kernel allows it (io_uring=auto),
// /dev/fuse otherwise or with io_uring=off, and io_uring=on refused without it. What still
// travels over /dev/fuse on an io_uring mount (invalidations at reap, poll wake-ups, FORGET,
// INTERRUPT) works on both. The kernel's switch is set for each case and restored after it.
#include <catch2/catch_test_macros.hpp>
#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/sysinfo.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "harness.hpp"
#include "uring_switch.hpp"

using namespace procfsd::test;

namespace {

using procfsd::support::enable_uring_path;
using procfsd::support::io_uring_allowed;
using procfsd::support::UringSwitch;

// The line `transport X` of `procfsd stats MOUNTPOINT`.
std::string transport_of(const TestMount& m, size_t i)
{
    std::string out = run_command(procfsd_binary() + " stats " + m.mount_path(i));
    auto at = out.find("transport ");
    return at == std::string::npos ? "" : out.substr(at + 10, out.find('\n', at) - at - 10);
}

// Threads of `pid` named like libfuse's ring threads (fuse-ring-N).
int ring_threads(pid_t pid)
{
    int n = 0;
    std::string dir = "/proc/" + std::to_string(pid) + "/task";
    for (auto& tid : list_dir(dir).value_or(std::vector<std::string>{}))
        if (read_file(dir + "/" + tid + "/comm").value_or("").rfind("fuse-ring-", 0) == 0)
            ++n;
    return n;
}

// A mount of `m`'s whose io_uring use the test asserts: one on the ring, one on /dev/fuse.
struct Both {
    UringSwitch on{'Y'};
    std::unique_ptr<TestMount> m;
    Both()
    {
        if (!on.usable() || !io_uring_allowed())
            SKIP("this kernel has no FUSE over io_uring (" << enable_uring_path << ")");
        // Both said, so that the suite's transport is not expected of them.
        m = std::make_unique<TestMount>("io_uring=auto", std::vector<std::string>{"io_uring=off"});
        REQUIRE(lstat_errno(m->path("self")) == 0);
        REQUIRE(lstat_errno(m->mount_path(1, "self")) == 0);
        REQUIRE(transport_of(*m, 0) == "io_uring");
        REQUIRE(transport_of(*m, 1) == "dev_fuse");
    }
};

} // namespace

TEST_CASE("io_uring=auto carries requests over the rings when the kernel allows it, and says so",
          "[transport]")
{
    Both both;
    TestMount& m = *both.m;
    for (int i = 0; i < 20; ++i) {
        REQUIRE(read_file(m.path("self/stat")));
        REQUIRE(read_file(m.mount_path(1, "meminfo")));
    }
    auto stats = run_command(procfsd_binary() + " stats " + m.path());
    INFO(stats);
    // Each mount line counts its requests by the way they came.
    auto line_of = [&](size_t i) {
        auto at = stats.find("mount " + m.mount_path(i) + " ");
        return at == std::string::npos ? std::string() : stats.substr(at, stats.find('\n', at) - at);
    };
    auto field = [](const std::string& line, const std::string& key) {
        auto at = line.find(" " + key + "=");
        return at == std::string::npos ? -1 : std::stoll(line.substr(at + key.size() + 2));
    };
    std::string ring = line_of(0), dev = line_of(1);
    CHECK(ring.find("transport=io_uring") != std::string::npos);
    CHECK(field(ring, "requests_io_uring") >= 40); // 20 x (open, read), at least
    CHECK(dev.find("transport=dev_fuse") != std::string::npos);
    CHECK(field(dev, "requests_io_uring") == 0);
    CHECK(field(dev, "requests_dev_fuse") >= 40);
    // One ring thread per CPU for the io_uring mount, none for the other.
    CHECK(ring_threads(m.daemon_pid()) == get_nprocs_conf());
    // ctl list and OpenMetrics say it too.
    std::string list = m.ctl("list");
    CHECK(list.find(m.path() + " rw transport=io_uring") != std::string::npos);
    CHECK(list.find(m.mount_path(1) + " rw,io_uring=off transport=dev_fuse") != std::string::npos);
    std::string om = run_command(procfsd_binary() + " stats --format openmetrics " + m.path());
    CHECK(om.find("procfsd_mount_transport{mountpoint=\"" + m.path() +
                  "\",procfsd_mount_transport=\"io_uring\"} 1") != std::string::npos);
    CHECK(om.find("procfsd_mount_transport{mountpoint=\"" + m.mount_path(1) +
                  "\",procfsd_mount_transport=\"dev_fuse\"} 1") != std::string::npos);
}

TEST_CASE("without the kernel's io_uring, auto serves over /dev/fuse and on refuses to mount",
          "[transport]")
{
    UringSwitch off('N');
    if (!off.usable())
        SKIP("this kernel has no FUSE over io_uring (" << enable_uring_path << ")");
    TestMount m("io_uring=auto"); // said, so the suite's transport is not expected of it
    REQUIRE(lstat_errno(m.path("self")) == 0);
    CHECK(transport_of(m, 0) == "dev_fuse");
    CHECK(ring_threads(m.daemon_pid()) == 0);
    std::string dir = m.dir() + "/on";
    ::mkdir(dir.c_str(), 0755);
    int status = 0;
    std::string out = m.ctl("mount " + dir + " -o io_uring=on", &status);
    INFO(out);
    CHECK(status != 0);
    CHECK(out.find("EOPNOTSUPP") != std::string::npos);
    CHECK(out.find(enable_uring_path) != std::string::npos);
    CHECK_FALSE(is_mounted(dir));
    ::rmdir(dir.c_str());
}

TEST_CASE("on both transports a reaped process vanishes from the kernel's cache", "[transport][exit]")
{
    Both both;
    TestMount& m = *both.m;
    for (size_t i = 0; i < 2; ++i) {
        INFO("mount " << i);
        long long forgets = m.counter("requests_forget");
        auto sleeper = spawn_sleeper();
        std::string pid = std::to_string(sleeper.pid());
        REQUIRE(lstat_errno(m.mount_path(i, pid + "/status")) == 0);
        long long sent = m.counter("invalidations_sent");
        sleeper.kill_and_reap();
        // The invalidation travels over /dev/fuse; the next lookup comes over the mount's own
        // transport and finds nothing.
        CHECK(wait_until([&] { return m.counter("invalidations_sent") > sent; }, 5s));
        CHECK(lstat_errno(m.mount_path(i, pid)) == ENOENT);
        // The kernel dropped those entries and forgot their nodes (FORGET, over /dev/fuse).
        CHECK(wait_until([&] { return m.counter("requests_forget") > forgets; }, 5s));
    }
}

TEST_CASE("on both transports poll wakes on a mount change", "[transport][poll]")
{
    // A private mount namespace: the tmpfs mounted here changes no one else's table.
    REQUIRE(::unshare(CLONE_NEWNS) == 0);
    REQUIRE(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0);
    Both both;
    TestMount& m = *both.m;
    std::string dir = m.dir() + "/tmpfs";
    ::mkdir(dir.c_str(), 0755);
    for (size_t i = 0; i < 2; ++i) {
        INFO("mount " << i);
        int fd = ::open(m.mount_path(i, "self/mountinfo").c_str(), O_RDONLY | O_CLOEXEC);
        REQUIRE(fd >= 0);
        char buf[4096];
        while (::read(fd, buf, sizeof buf) > 0) {
        }
        std::atomic<int> revents{-1};
        std::atomic<pid_t> tid{0};
        std::thread poller([&] {
            tid = static_cast<pid_t>(::syscall(SYS_gettid));
            struct pollfd p{fd, POLLPRI, 0};
            revents = ::poll(&p, 1, 10000) > 0 ? p.revents : 0;
        });
        // Asleep in poll: the daemon answered its POLL request, and the change comes after.
        CHECK(wait_until([&] {
            auto wchan = tid ? read_file("/proc/self/task/" + std::to_string(tid) + "/wchan") : std::nullopt;
            return wchan && wchan->find("poll") != std::string::npos;
        }, 5s));
        REQUIRE(::mount("none", dir.c_str(), "tmpfs", 0, nullptr) == 0);
        poller.join();
        REQUIRE(::umount2(dir.c_str(), 0) == 0);
        CHECK(revents == (POLLPRI | POLLERR));
        ::close(fd);
    }
    ::rmdir(dir.c_str());
}

TEST_CASE("on both transports callers interrupted by signals get whole answers", "[transport]")
{
    Both both;
    TestMount& m = *both.m;
    // A handler without SA_RESTART: a request the signal interrupts makes the kernel send an
    // INTERRUPT (over /dev/fuse); the daemon says it has none (ENOSYS, once), and the caller
    // gets its answer.
    struct sigaction sa{};
    sa.sa_handler = [](int) {};
    struct sigaction old{};
    REQUIRE(::sigaction(SIGUSR2, &sa, &old) == 0);
    for (size_t i = 0; i < 2; ++i) {
        INFO("mount " << i);
        std::atomic<bool> stop{false};
        std::atomic<pid_t> tid{0};
        std::atomic<int> reads{0}, bad{0};
        std::string path = m.mount_path(i, "self/status");
        std::thread reader([&] {
            tid = static_cast<pid_t>(::syscall(SYS_gettid));
            while (!stop) {
                int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
                if (fd < 0) {
                    bad += errno != EINTR;
                    continue;
                }
                std::string text;
                char buf[4096];
                ssize_t n;
                while ((n = ::read(fd, buf, sizeof buf)) > 0)
                    text.append(buf, static_cast<size_t>(n));
                if (n < 0 && errno != EINTR)
                    ++bad;
                if (n == 0 && text.rfind("Name:", 0) != 0)
                    ++bad;
                ::close(fd);
                ++reads;
            }
        });
        REQUIRE(wait_until([&] { return tid != 0; }, 2s));
        for (int s = 0; s < 2000; ++s)
            ::syscall(SYS_tgkill, ::getpid(), tid.load(), SIGUSR2);
        REQUIRE(wait_until([&] { return reads > 200; }, 20s));
        stop = true;
        reader.join();
        CHECK(bad == 0);
        // The mount still serves.
        CHECK(read_file(m.mount_path(i, "self/stat")));
    }
    ::sigaction(SIGUSR2, &old, nullptr);
}
