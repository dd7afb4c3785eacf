// SPDX-License-Identifier: GPL-2.0-or-later
// Reaped processes and exited threads vanish from every mount at once, however long the kernel
// may cache entries (the kernel's per-pid inode list, driven by pidfds: README, How it works).
#include <catch2/catch_test_macros.hpp>
#include <algorithm>
#include <pthread.h>
#include <signal.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "harness.hpp"

using namespace procfsd::test;

namespace {

// A process whose one extra thread exits when told to (by closing `release`).
struct ThreadExiter {
    Child child;
    pid_t tid = 0;
    int release = -1;

    ThreadExiter()
    {
        int tid_pipe[2], go_pipe[2];
        REQUIRE(::pipe(tid_pipe) == 0);
        REQUIRE(::pipe(go_pipe) == 0);
        pid_t pid = ::fork();
        if (pid == 0) {
            ::close(tid_pipe[0]);
            ::close(go_pipe[1]);
            static int fds[2];
            fds[0] = go_pipe[0];
            fds[1] = tid_pipe[1];
            pthread_t t;
            ::pthread_create(&t, nullptr, [](void*) -> void* {
                pid_t self = static_cast<pid_t>(::syscall(SYS_gettid));
                [[maybe_unused]] auto w = ::write(fds[1], &self, sizeof self);
                char c;
                [[maybe_unused]] auto r = ::read(fds[0], &c, 1);
                return nullptr; // the thread exits; the process lives on
            }, nullptr);
            for (;;)
                ::pause();
        }
        ::close(tid_pipe[1]);
        ::close(go_pipe[0]);
        child = Child(pid);
        REQUIRE(::read(tid_pipe[0], &tid, sizeof tid) == sizeof tid);
        ::close(tid_pipe[0]);
        release = go_pipe[1];
    }
    void end_thread()
    {
        ::close(release);
        release = -1;
    }
    ~ThreadExiter()
    {
        if (release >= 0)
            ::close(release);
    }
};

} // namespace

TEST_CASE("a reaped process disappears although its entries are cached for an hour", "[exit]")
{
    TestMount m("entry_timeout=3600");
    auto sleeper = spawn_sleeper();
    std::string pid = std::to_string(sleeper.pid());
    REQUIRE(lstat_errno(m.path(pid)) == 0);
    REQUIRE(lstat_errno(m.path(pid + "/status")) == 0);
    REQUIRE(list_dir(m.path(pid + "/task")));
    ::kill(sleeper.pid(), SIGKILL);
    sleeper.wait_exited();
    // A zombie is still there, as in /proc.
    CHECK(lstat_errno("/proc/" + pid) == 0);
    CHECK(lstat_errno(m.path(pid)) == 0);
    sleeper.reap();
    CHECK(wait_until([&] { return lstat_errno(m.path(pid)) == ENOENT; }, 1s));
    CHECK(lstat_errno(m.path(pid + "/status")) == ENOENT);
}

TEST_CASE("an exited thread disappears from task/ and from the root", "[exit]")
{
    TestMount m("entry_timeout=3600");
    ThreadExiter p;
    std::string pid = std::to_string(p.child.pid());
    std::string tid = std::to_string(p.tid);
    REQUIRE(lstat_errno(m.path(pid + "/task/" + tid)) == 0);
    REQUIRE(lstat_errno(m.path(tid)) == 0);
    REQUIRE(lstat_errno(m.path(tid + "/status")) == 0);
    p.end_thread();
    CHECK(wait_until([&] { return lstat_errno("/proc/" + tid) == ENOENT; }, 2s));
    CHECK(wait_until([&] { return lstat_errno(m.path(pid + "/task/" + tid)) == ENOENT; }, 1s));
    CHECK(wait_until([&] { return lstat_errno(m.path(tid)) == ENOENT; }, 1s));
    // The process itself is still there.
    CHECK(lstat_errno(m.path(pid)) == 0);
}

TEST_CASE("a reaped process disappears from both mounts of one daemon", "[exit]")
{
    TestMount m("entry_timeout=3600", {"entry_timeout=3600"});
    auto sleeper = spawn_sleeper();
    std::string pid = std::to_string(sleeper.pid());
    REQUIRE(lstat_errno(m.mount_path(0, pid + "/status")) == 0);
    REQUIRE(lstat_errno(m.mount_path(1, pid + "/status")) == 0);
    CHECK(m.counter("tracked_processes") >= 1);
    sleeper.kill_and_reap();
    CHECK(wait_until([&] { return lstat_errno(m.mount_path(0, pid)) == ENOENT; }, 1s));
    CHECK(wait_until([&] { return lstat_errno(m.mount_path(1, pid)) == ENOENT; }, 1s));
    CHECK(m.counter("invalidations_sent") >= 2);
}

TEST_CASE("a second stat of a cached pid path sends no LOOKUP", "[exit]")
{
    TestMount m("entry_timeout=3600");
    auto sleeper = spawn_sleeper();
    std::string path = m.path(std::to_string(sleeper.pid()) + "/status");
    REQUIRE(lstat_errno(path) == 0);
    long long before = m.counter("requests_lookup");
    REQUIRE(before > 0);
    REQUIRE(lstat_errno(path) == 0);
    CHECK(m.counter("requests_lookup") == before);
}

TEST_CASE("tracked processes and pidfds go back down when processes are reaped", "[exit]")
{
    TestMount m("entry_timeout=3600");
    {
        auto sleepers = spawn_sleepers(20);
        for (auto& s : sleepers)
            REQUIRE(lstat_errno(m.path(std::to_string(s.pid()) + "/status")) == 0);
        CHECK(m.counter("tracked_processes") >= 20);
    }
    // Every sleeper was killed and reaped: the kernel forgets the inodes, we untrack them.
    CHECK(wait_until([&] { return m.counter("pidfds") < 5; }, 3s));
    CHECK(m.counter("tracked_processes") < 5);
}

// READDIRPLUS: a listing of the root looks up every process it lists, so that ps finds them
// cached; those entries are on the processes' inode lists like any looked up.
TEST_CASE("a listing of the root caches its processes, and a listed process still vanishes at reap",
          "[exit][readdirplus]")
{
    TestMount m("entry_timeout=3600,attr_timeout=600");
    auto sleepers = spawn_sleepers(20);
    auto listed = list_dir(m.path());
    REQUIRE(listed);
    for (auto& s : sleepers)
        REQUIRE(std::find(listed->begin(), listed->end(), std::to_string(s.pid())) != listed->end());
    // Stats of the listed processes are answered by the kernel's cache alone.
    // (One stats call each side: it reads the mount's device from mountinfo, touching nothing.)
    auto before = m.counters();
    for (auto& s : sleepers)
        CHECK(lstat_errno(m.path(std::to_string(s.pid()))) == 0);
    auto after = m.counters();
    CHECK(after["requests_lookup"] == before["requests_lookup"]);
    CHECK(after["requests_getattr"] == before["requests_getattr"]);
    // Listed, never looked up by name: reaped, it is gone at once all the same.
    std::string pid = std::to_string(sleepers.front().pid());
    ::kill(sleepers.front().pid(), SIGKILL);
    sleepers.front().wait_exited();
    CHECK(lstat_errno(m.path(pid)) == 0); // the zombie stays
    sleepers.front().reap();
    CHECK(wait_until([&] { return lstat_errno(m.path(pid)) == ENOENT; }, 1s));
    auto again = list_dir(m.path());
    REQUIRE(again);
    CHECK(std::find(again->begin(), again->end(), pid) == again->end());
}

// On a per-caller mount the listing names processes only: each caller's lookups decide.
TEST_CASE("a hidepid= listing caches nothing a caller did not look up", "[exit][readdirplus]")
{
    TestMount m("hidepid=invisible");
    auto sleeper = spawn_sleeper();
    long long listed = m.counter("listed_inodes");
    long long tracked = m.counter("tracked_processes");
    auto names = list_dir(m.path());
    REQUIRE(names);
    REQUIRE(std::find(names->begin(), names->end(), std::to_string(sleeper.pid())) != names->end());
    CHECK(m.counter("listed_inodes") == listed);
    CHECK(m.counter("tracked_processes") == tracked);
    // Looked up by name, it is tracked like any other.
    long long before = m.counter("requests_lookup");
    CHECK(lstat_errno(m.path(std::to_string(sleeper.pid()))) == 0);
    CHECK(m.counter("requests_lookup") > before);
    CHECK(m.counter("listed_inodes") > listed);
}

// The kernel counts each entry a READDIRPLUS hands it as one lookup, also for an entry it
// already holds; when it drops them all, every inode, pidfd and tracked process must go.
TEST_CASE("entries handed out by listings are all forgotten when the kernel drops them",
          "[exit][readdirplus]")
{
    TestMount m("entry_timeout=3600,attr_timeout=600");
    auto sleepers = spawn_sleepers(20);
    REQUIRE(list_dir(m.path()));
    REQUIRE(list_dir(m.path())); // the second listing finds its entries cached
    CHECK(m.counter("listed_inodes") >= 20);
    CHECK(m.counter("pidfds") >= 20);
    // Dropping the dentry and inode caches sends FORGET for every unused entry of the mount.
    int status = 0;
    run_command("sync; echo 2 > /proc/sys/vm/drop_caches", &status);
    REQUIRE(status == 0);
    CHECK(wait_until([&] { return m.counter("listed_inodes") == 0; }, 5s));
    CHECK(m.counter("tracked_processes") == 0);
    CHECK(m.counter("pidfds") == 0);
    // And the processes are served afresh.
    CHECK(lstat_errno(m.path(std::to_string(sleepers.back().pid()) + "/status")) == 0);
}
