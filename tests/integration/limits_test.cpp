// SPDX-License-Identifier: GPL-2.0-or-later
// No caller can exhaust the daemon for the others: files held open across their process's reap
// leave nothing behind, the counters say what the daemon holds, and a caller that opens without
// closing, on any number of mounts, is refused while everyone else keeps opening.
#include <catch2/catch_test_macros.hpp>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>
#include <utility>
#include <map>
#include <sstream>

#include "harness.hpp"

using namespace procfsd::test;

namespace {

struct DaemonFds {
    long all = -1;
    long pidfds = -1;
};

// What the daemon really holds, from its fd table.
DaemonFds daemon_fds(pid_t daemon)
{
    std::string dir = "/proc/" + std::to_string(daemon) + "/fd";
    auto names = list_dir(dir);
    DaemonFds out;
    if (!names)
        return out;
    out.all = out.pidfds = 0;
    for (auto& n : *names) {
        if (n == "." || n == "..")
            continue;
        ++out.all;
        if (auto link = read_link(dir + "/" + n); link && *link == "anon_inode:[pidfd]")
            ++out.pidfds;
    }
    return out;
}

// The `pidfds` counter equals the pidfds in the daemon's fd table. A FORGET may close one
// between the two readings, so a reading counts only when the counter did not move around it.
bool pidfd_counter_is_true(const TestMount& m, std::string& why)
{
    for (int attempt = 0; attempt < 20; ++attempt) {
        long long before = m.counter("pidfds");
        DaemonFds held = daemon_fds(m.daemon_pid());
        long long after = m.counter("pidfds");
        if (before != after)
            continue;
        why = "counter " + std::to_string(before) + ", fd table " + std::to_string(held.pidfds);
        return before == held.pidfds;
    }
    why = "the counter never held still";
    return false;
}

// A child that waits until its pipe closes, then exits.
struct Waiter {
    pid_t pid = -1;
    int release = -1;
};

Waiter spawn_waiter()
{
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0)
        return {};
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(p[1]);
        char b;
        [[maybe_unused]] auto n = ::read(p[0], &b, 1);
        ::_exit(0);
    }
    ::close(p[0]);
    return {pid, p[1]};
}

} // namespace

TEST_CASE("files open across their process's reap leave no pidfd behind, on two mounts", "[limits]")
{
    TestMount m("entry_timeout=3600", {"hidepid=invisible"});
    // Settle what the daemon holds for the test's own processes, then take the baseline.
    REQUIRE(read_file(m.path("self/status")));
    REQUIRE(read_file(m.mount_path(1, "self/status")));
    auto base = m.counters();
    DaemonFds base_fds = daemon_fds(m.daemon_pid());
    REQUIRE(base_fds.all > 0);

    constexpr int rounds = 100, batch = 50; // 5,000 processes
    const char* entries[] = {"status", "cmdline", "task", "fd", "fdinfo", "ns", "stat"};
    long long reaped = 0;
    std::string why;
    for (int round = 0; round < rounds; ++round) {
        std::vector<Waiter> waiters;
        std::vector<int> open_fds;
        for (int i = 0; i < batch; ++i) {
            Waiter w = spawn_waiter();
            REQUIRE(w.pid > 0);
            std::string pid = std::to_string(w.pid);
            const char* entry = entries[(round + i) % std::size(entries)];
            for (size_t mount = 0; mount < 2; ++mount) {
                int fd = ::open(m.mount_path(mount, pid + "/" + entry).c_str(), O_RDONLY | O_CLOEXEC);
                INFO(m.mount_path(mount, pid + "/" + entry) << ": " << strerrorname_np(errno));
                REQUIRE(fd >= 0);
                open_fds.push_back(fd);
            }
            waiters.push_back(w);
        }
        // Let every child exit and reap it while its files are open, then close them.
        for (auto& w : waiters)
            ::close(w.release);
        for (auto& w : waiters)
            REQUIRE(::waitpid(w.pid, nullptr, 0) == w.pid);
        reaped += batch;
        for (int fd : open_fds)
            ::close(fd);
        if (round % 20 == 19) {
            // Once the watcher has handled this batch's reaps, the counter must be true.
            REQUIRE(wait_until([&] { return m.counter("reaps_seen") >= base["reaps_seen"] + reaped; }, 10s));
            INFO(why);
            CHECK(pidfd_counter_is_true(m, why));
        }
    }
    REQUIRE(wait_until([&] { return m.counter("reaps_seen") >= base["reaps_seen"] + reaped; }, 10s));
    // Without drop_caches: what the kernel still caches of the dead holds no descriptor.
    auto fds_now = [&] { return daemon_fds(m.daemon_pid()); };
    CHECK(wait_until([&] { return fds_now().all <= base_fds.all; }, 5s));
    auto end = m.counters();
    DaemonFds end_fds = fds_now();
    INFO("fds " << base_fds.all << " -> " << end_fds.all << ", pidfds held " << base_fds.pidfds << " -> "
                << end_fds.pidfds << ", counter " << base["pidfds"] << " -> " << end["pidfds"]
                << ", tracked " << base["tracked_processes"] << " -> " << end["tracked_processes"]);
    CHECK(end_fds.pidfds <= base_fds.pidfds);
    CHECK(end["pidfds"] <= base["pidfds"]);
    CHECK(end["tracked_processes"] <= base["tracked_processes"]);
    CHECK(end["open_files"] == 0);
    INFO(why);
    CHECK(pidfd_counter_is_true(m, why));
}

namespace {

// Opens `path` in turn on every mount given until each refuses; returns the descriptors and the
// errno that ended each mount.
std::vector<int> open_until_refused(const std::vector<std::string>& paths, std::vector<int>& ended_by)
{
    std::vector<int> fds;
    ended_by.assign(paths.size(), 0);
    for (size_t open_mounts = paths.size(); open_mounts > 0;) {
        open_mounts = 0;
        for (size_t i = 0; i < paths.size(); ++i) {
            if (ended_by[i])
                continue;
            int fd = ::open(paths[i].c_str(), O_RDONLY | O_CLOEXEC);
            if (fd < 0) {
                ended_by[i] = errno;
                continue;
            }
            fds.push_back(fd);
            ++open_mounts;
        }
    }
    return fds;
}

// A child running as `uid` that takes as many opens as the daemon gives it on `paths` and holds
// them until it is killed (release(), or the destructor).
class Greedy {
public:
    Greedy(uid_t uid, const std::vector<std::string>& paths)
    {
        int report[2];
        if (::pipe2(report, O_CLOEXEC) != 0)
            throw std::runtime_error("pipe");
        pid_t pid = ::fork();
        if (pid == 0) {
            ::close(report[0]);
            run(uid, paths, report[1]);
        }
        child_ = Child(pid);
        ::close(report[1]);
        char buf[128]{};
        if (::read(report[0], buf, sizeof buf - 1) > 0)
            said_ = buf;
        ::close(report[0]);
    }

    // "held N refused EMFILE": what it got, and that the daemon (not its own limit) said no.
    [[nodiscard]] const std::string& said() const noexcept { return said_; }
    void release() { child_.kill_and_reap(); }

private:
    [[noreturn]] static void run(uid_t uid, const std::vector<std::string>& paths, int report)
    {
        struct rlimit rl{};
        ::getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NOFILE, &rl);
        if (::setgroups(0, nullptr) != 0 || ::setgid(uid) != 0 || ::setuid(uid) != 0)
            ::_exit(126);
        std::vector<int> ended_by;
        auto fds = open_until_refused(paths, ended_by);
        bool all_emfile = std::all_of(ended_by.begin(), ended_by.end(), [](int e) { return e == EMFILE; });
        int own = ::open("/dev/null", O_RDONLY);
        std::string line = "held " + std::to_string(fds.size()) + " refused " +
                           (all_emfile && own >= 0 ? "EMFILE" : "other") + "\n";
        [[maybe_unused]] auto w = ::write(report, line.data(), line.size());
        ::close(report);
        for (;;)
            ::pause();
    }

    Child child_;
    std::string said_;
};

// What a reader (another user) gets from every file it tries on every mount: "" if all worked.
std::string read_everything(const TestMount& m, size_t mounts)
{
    std::string out;
    for (size_t i = 0; i < mounts; ++i) {
        for (const char* f : {"uptime", "meminfo", "self/status", "self/stat", "self/cmdline",
                              "self/limits", "loadavg", "self/mountinfo"})
            if (!read_file(m.mount_path(i, f)))
                out += m.mount_path(i, f) + ": " + strerrorname_np(errno) + "\n";
        for (const char* d : {"", "self", "self/fd", "self/task", "sys/kernel"})
            if (!list_dir(m.mount_path(i, d)))
                out += m.mount_path(i, d) + "/: " + strerrorname_np(errno) + "\n";
    }
    return out;
}

} // namespace

TEST_CASE("a caller holding every open it can get on four mounts starves no other caller",
          "[limits]")
{
    TestMount m("", {"", "hidepid=invisible", "", ""});
    std::vector<std::string> greedy_paths;
    for (size_t i = 0; i < 4; ++i)
        greedy_paths.push_back(m.mount_path(i, i % 2 ? "meminfo" : "uptime"));

    SECTION("one greedy user")
    {
        Greedy greedy(65534, greedy_paths);
        INFO("greedy user: " << greedy.said() << "daemon: open_files " << m.counter("open_files"));
        CHECK(greedy.said().find("refused EMFILE") != std::string::npos);
        CHECK(m.counter("open_files") > 100);
        // Another user reads every file it tries, on all five mounts, the greedy user's too.
        CHECK(run_as_capture(Identity{4244, 4244}, [&] { return read_everything(m, 5); }) == "");
        // And the greedy user stays refused on the mount it never touched, too.
        CHECK(run_as(65534, 65534, [&] {
                  int fd = ::open(m.mount_path(4, "uptime").c_str(), O_RDONLY);
                  return fd < 0 && errno == EMFILE ? 0 : 1;
              }) == 0);
        greedy.release();
        CHECK(wait_until([&] { return m.counter("open_files") == 0; }, 5s));
    }

    SECTION("four greedy users, one per uid, fill the daemon; the reserve still serves others")
    {
        std::vector<Greedy> greedy;
        greedy.reserve(4);
        std::string said;
        for (uid_t uid : {4301u, 4302u, 4303u, 4304u}) {
            greedy.emplace_back(uid, greedy_paths);
            said += std::to_string(uid) + ": " + greedy.back().said();
        }
        INFO(said << "daemon: open_files " << m.counter("open_files"));
        CHECK(said.find("refused other") == std::string::npos);
        CHECK(run_as_capture(Identity{4244, 4244}, [&] { return read_everything(m, 5); }) == "");
        CHECK(read_everything(m, 5) == ""); // root too
        greedy.clear();
        CHECK(wait_until([&] { return m.counter("open_files") == 0; }, 5s));
    }
}

// The counter tells what is held: files still open when their mount goes are freed with it (no
// RELEASE comes from a dead connection), and counted out.
TEST_CASE("open_files counts the handles a removed mount frees", "[limits]")
{
    TestMount m("", {""});
    std::vector<int> fds;
    for (int i = 0; i < 5; ++i) {
        int fd = ::open(m.mount_path(1, "uptime").c_str(), O_RDONLY | O_CLOEXEC);
        REQUIRE(fd >= 0);
        fds.push_back(fd);
    }
    CHECK(m.counter("open_files") == 5);
    int status = -1;
    std::string out = m.ctl("umount " + m.mount_path(1), &status);
    INFO(out);
    CHECK(status == 0);
    CHECK(m.counter("open_files") == 0);
    for (int fd : fds)
        ::close(fd);
    CHECK(m.counter("open_files") == 0);
}
