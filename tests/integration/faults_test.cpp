// SPDX-License-Identifier: GPL-2.0-or-later
// Faults lose nothing: a mount torn away, the daemon killed or stopped under load, a source that
// is not there. No other mount loses its service.
#include <catch2/catch_test_macros.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <fstream>
#include <thread>

#include "harness.hpp"

using namespace procfsd::test;

TEST_CASE("one mount unmounted by force, the others keep serving", "[faults]")
{
    TestMount m("", {"", ""});
    int status = -1;
    run_command("umount -l " + m.mount_path(1), &status);
    CHECK(status == 0);
    run_command("fusermount3 -uz " + m.mount_path(2), &status);
    CHECK(status == 0);
    CHECK(read_file(m.path("self/status")).has_value());
    CHECK(list_dir(m.path()).has_value());
    CHECK(::kill(m.keeper_pid(), 0) == 0);
    CHECK(m.counter("requests_lookup") > 0);
}

TEST_CASE("a keeper killed with SIGKILL takes its server along and leaves ENOTCONN; a restart mounts again by itself", "[faults]")
{
    TestMount first;
    std::string dir = first.path();
    REQUIRE(read_file(dir + "/uptime").has_value());
    ::kill(first.keeper_pid(), SIGKILL);
    REQUIRE(wait_until([&] { return lstat_errno(dir + "/uptime") == ENOTCONN; }, 5s));
    // Same mountpoint, new daemon: it clears its own stale mount first.
    pid_t daemon = ::fork();
    if (daemon == 0) {
        ::execl(procfsd_binary().c_str(), "procfsd", "-f", "--control", "test-restart",
                "--log-level", "warn", dir.c_str(), nullptr);
        ::_exit(127);
    }
    Child guard(daemon);
    CHECK(wait_until([&] { return read_file(dir + "/uptime").has_value(); }, 10s));
    ::kill(daemon, SIGTERM);
    int status = 0;
    REQUIRE(::waitpid(daemon, &status, 0) == daemon);
    guard = Child();
    CHECK(WIFEXITED(status));
    CHECK_FALSE(is_mounted(dir));
}

namespace {

// Starts procfsd in directory `cwd` on the relative mountpoint `rel`.
pid_t start_in(const std::string& cwd, const std::string& rel, const char* control)
{
    pid_t daemon = ::fork();
    if (daemon == 0) {
        if (::chdir(cwd.c_str()) != 0)
            ::_exit(126);
        ::execl(procfsd_binary().c_str(), "procfsd", "-f", "--control", control, "--log-level",
                "warn", rel.c_str(), nullptr);
        ::_exit(127);
    }
    return daemon;
}

// Detaches whatever a failed test left mounted on `path`.
struct LazyUnmount {
    std::string path;
    ~LazyUnmount()
    {
        if (is_mounted(path))
            ::umount2(path.c_str(), MNT_DETACH);
    }
};

} // namespace

TEST_CASE("a restart after SIGKILL mounts again on a relative mountpoint", "[faults]")
{
    char tmpl[] = "/tmp/procfsd-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    std::string top = tmpl;
    std::string dir = top + "/f/a";
    ::mkdir((top + "/f").c_str(), 0755);
    ::mkdir(dir.c_str(), 0755);
    {
        LazyUnmount guard{dir};
        Child first(start_in(top, "f/a", "test-relative"));
        REQUIRE(wait_until([&] { return read_file(dir + "/uptime").has_value(); }, 10s));
        // The daemon names its mount by its absolute path.
        std::string listed = run_command(procfsd_binary() + " --control test-relative ctl list");
        CHECK(listed.find(dir + " ") != std::string::npos);
        first.kill_and_reap();
        REQUIRE(wait_until([&] { return lstat_errno(dir + "/uptime") == ENOTCONN; }, 5s));
        Child second(start_in(top, "f/a", "test-relative"));
        CHECK(wait_until([&] { return read_file(dir + "/uptime").has_value(); }, 10s));
        ::kill(second.pid(), SIGTERM);
        int status = second.reap();
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
        CHECK_FALSE(is_mounted(dir));
    }
    ::rmdir(dir.c_str());
    ::rmdir((top + "/f").c_str());
    ::rmdir(top.c_str());
}

TEST_CASE("SIGTERM under load: requests finish, then a clean unmount", "[faults]")
{
    TestMount m;
    std::atomic<bool> stop{false};
    std::atomic<long> ok{0}, odd{0};
    std::atomic<int> last_odd{0};
    std::vector<std::thread> readers;
    for (int t = 0; t < 4; ++t)
        readers.emplace_back([&] {
            while (!stop) {
                auto s = read_file(m.path("self/status"));
                if (s)
                    ++ok;
                else if (errno != ENOTCONN && errno != ENOENT && errno != ENODEV) {
                    last_odd = errno;
                    ++odd;
                }
            }
        });
    REQUIRE(wait_until([&] { return ok > 200; }, 10s));
    pid_t daemon = m.keeper_pid();
    auto t0 = std::chrono::steady_clock::now();
    ::kill(daemon, SIGTERM);
    int status = 0;
    bool exited = wait_until([&] { return ::waitpid(daemon, &status, WNOHANG) == daemon; }, 10s);
    if (exited)
        m.daemon_reaped();
    stop = true;
    for (auto& t : readers)
        t.join();
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0);
    CHECK(exited);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK_FALSE(is_mounted(m.path()));
    INFO("stop took " << took.count() << " ms; odd errno " << last_odd.load());
    CHECK(odd == 0);
    CHECK(took < 2s);
}

// Each mount still held when the daemon stops waits out a grace period before its connection is
// aborted; the mounts wait for it together, so six held mounts stop in one period, not six.
TEST_CASE("SIGTERM with six held mounts stops them together", "[faults]")
{
    TestMount m("", {"", "", "", "", ""});
    std::vector<int> held;
    for (size_t i = 0; i < 6; ++i) {
        int fd = ::open(m.mount_path(i, "self").c_str(), O_RDONLY | O_DIRECTORY);
        REQUIRE(fd >= 0);
        held.push_back(fd);
    }
    pid_t daemon = m.keeper_pid();
    auto t0 = std::chrono::steady_clock::now();
    ::kill(daemon, SIGTERM);
    int status = 0;
    bool exited = wait_until([&] { return ::waitpid(daemon, &status, WNOHANG) == daemon; }, 20s);
    auto took = std::chrono::steady_clock::now() - t0;
    if (exited)
        m.daemon_reaped();
    for (int fd : held)
        ::close(fd);
    CHECK(exited);
    CHECK(WIFEXITED(status));
    for (size_t i = 0; i < 6; ++i)
        CHECK_FALSE(is_mounted(m.mount_path(i)));
    // One grace period is 2 s; one after the other they took 12 s.
    INFO("stop took " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
    CHECK(took < 6s);
}

TEST_CASE("a source that is not there refuses the mount", "[faults]")
{
    char tmpl[] = "/tmp/procfsd-test-XXXXXX";
    REQUIRE(::mkdtemp(tmpl));
    std::string dir = tmpl;
    int status = 0;
    std::string out = run_command(procfsd_binary() + " -f " + dir + " -o source=/nonexistent 2>&1", &status);
    INFO(out);
    CHECK(status != 0);
    CHECK(out.find("/nonexistent") != std::string::npos);
    CHECK_FALSE(is_mounted(dir));
    ::rmdir(dir.c_str());
}
