// SPDX-License-Identifier: GPL-2.0-or-later
// A crash or an upgrade of the serving process goes unnoticed (README, Restarts and upgrades):
// readers on three kinds of mounts see no error and no long wait while the server is killed or
// replaced, descriptors and working directories opened before keep working, a process reaped
// while no server ran is gone, a pid reused meanwhile never shows through an old node, and a
// write in flight is applied once.
#include <catch2/catch_test_macros.hpp>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <thread>

#include "fake_systemd.hpp"
#include "harness.hpp"
#include "mount_tools.hpp"
#include "pid_namespace.hpp"
#include "process_tools.hpp"
#include "uring_switch.hpp"

using namespace procfsd::test;

// Every mount here is on /dev/fuse (io_uring=off): the kernel resends only /dev/fuse requests
// after a crash (README, Restarts and upgrades, Limits); an io_uring mount's upgrade is refused
// with the reason (the last case).

namespace {

// Four threads loop over open/read/close of a few files and a listing of the root, on every
// mount given, counting every failure and the longest wait.
class Readers {
public:
    // `targets`: per mount, the files to read (relative); the root is listed on each.
    explicit Readers(std::vector<std::pair<std::string, std::vector<std::string>>> targets)
        : targets_(std::move(targets))
    {
        for (int i = 0; i < 4; ++i)
            threads_.emplace_back([this, i] { run(i); });
    }
    ~Readers() { stop(); }

    void stop()
    {
        stop_ = true;
        for (auto& t : threads_)
            if (t.joinable())
                t.join();
    }
    // Stops, and checks that nobody noticed: no error of any kind, no wait of 2 s or more.
    void expect_unnoticed()
    {
        stop();
        INFO("first error: " << first_error());
        CHECK(errors() == 0);
        CHECK(longest() < std::chrono::seconds(2));
    }
    [[nodiscard]] long rounds() const { return rounds_.load(); }
    [[nodiscard]] long errors() const { return errors_.load(); }
    [[nodiscard]] std::chrono::milliseconds longest() const { return std::chrono::milliseconds(longest_ms_.load()); }
    [[nodiscard]] std::string first_error() const
    {
        std::lock_guard lock(mu_);
        return first_error_;
    }

private:
    void failed(const std::string& what)
    {
        if (errors_.fetch_add(1) == 0) {
            std::lock_guard lock(mu_);
            first_error_ = what;
        }
    }

    void run(int i)
    {
        char buf[65536];
        while (!stop_) {
            for (size_t k = 0; k < targets_.size(); ++k) {
                auto& [dir, files] = targets_[(k + static_cast<size_t>(i)) % targets_.size()];
                for (auto& f : files) {
                    auto t0 = std::chrono::steady_clock::now();
                    std::string path = dir + "/" + f;
                    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
                    if (fd < 0) {
                        failed("open " + path + ": " + std::strerror(errno));
                    } else {
                        if (::read(fd, buf, sizeof buf) <= 0)
                            failed("read " + path + ": " + std::strerror(errno));
                        ::close(fd);
                    }
                    note(t0);
                }
                auto t0 = std::chrono::steady_clock::now();
                auto listed = list_dir(dir);
                if (!listed || listed->size() < 3)
                    failed("list " + dir + ": " + std::strerror(errno));
                note(t0);
            }
            ++rounds_;
        }
    }

    void note(std::chrono::steady_clock::time_point t0)
    {
        long ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
        long seen = longest_ms_.load();
        while (ms > seen && !longest_ms_.compare_exchange_weak(seen, ms)) {
        }
    }

    std::vector<std::pair<std::string, std::vector<std::string>>> targets_;
    std::vector<std::thread> threads_;
    std::atomic<bool> stop_{false};
    std::atomic<long> rounds_{0}, errors_{0}, longest_ms_{0};
    mutable std::mutex mu_;
    std::string first_error_;
};

// A shell whose working directory is a pid directory of a mount: each line sent makes it read
// `stat` there and answer "ok" or "fail".
class ShellIn {
public:
    explicit ShellIn(const std::string& dir)
    {
        int in[2], out[2];
        REQUIRE(::pipe2(in, O_CLOEXEC) == 0);
        REQUIRE(::pipe2(out, O_CLOEXEC) == 0);
        pid_ = ::fork();
        if (pid_ == 0) {
            ::dup2(in[0], 0);
            ::dup2(out[1], 1);
            ::execl("/bin/sh", "sh", "-c",
                    ("cd '" + dir + "' || exit 9; while read x; do if head -c 1 stat >/dev/null 2>&1; "
                     "then echo ok; else echo fail; fi; done")
                        .c_str(),
                    nullptr);
            ::_exit(127);
        }
        ::close(in[0]);
        ::close(out[1]);
        to_ = in[1];
        from_ = out[0];
    }
    ~ShellIn()
    {
        ::close(to_);
        ::close(from_);
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, nullptr, 0);
    }
    // "ok", "fail", or "" when it does not answer within 5 s.
    std::string ask()
    {
        if (::write(to_, "x\n", 2) != 2)
            return "";
        std::string line;
        char c;
        pollfd p{from_, POLLIN, 0};
        while (::poll(&p, 1, 5000) == 1 && ::read(from_, &c, 1) == 1 && c != '\n')
            line += c;
        return line;
    }

private:
    pid_t pid_ = -1;
    int to_ = -1, from_ = -1;
};

// Waits until the main thread of `pid` (not a child of ours) has ended, on its pidfd. Not the
// whole process: a killed server's thread may still be held in the kernel by one of its own
// mounts (an invalidation waiting for a lookup that the next server answers; lib/keeper.cpp).
bool wait_gone(pid_t pid)
{
    int fd = static_cast<int>(::syscall(SYS_pidfd_open, pid, O_EXCL /* PIDFD_THREAD */));
    if (fd < 0)
        return errno == ESRCH;
    pollfd p{fd, POLLIN, 0};
    bool gone = ::poll(&p, 1, 10000) == 1;
    ::close(fd);
    return gone;
}

// While the keeper is stopped: waits until the killed `pid` serves no more (its main thread
// has ended; another may still be held in the kernel by its mount until a next server runs).
bool wait_killed(pid_t pid)
{
    return wait_until([&] {
        auto stat = read_file("/proc/" + std::to_string(pid) + "/stat");
        if (!stat)
            return true;
        auto close = stat->rfind(')');
        return close != std::string::npos && stat->size() > close + 2 && (*stat)[close + 2] == 'Z';
    }, 10s);
}

// A sleeper with the given pid in our namespace (clone3's set_tid; the pid must be free).
pid_t sleeper_with_pid(pid_t want)
{
    clone_args args{};
    args.exit_signal = SIGCHLD;
    args.set_tid = reinterpret_cast<uint64_t>(&want);
    args.set_tid_size = 1;
    long pid = ::syscall(SYS_clone3, &args, sizeof args);
    if (pid == 0) {
        ::execl("/bin/sleep", "sleep", "3600", nullptr);
        ::_exit(127);
    }
    return static_cast<pid_t>(pid);
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// The keeper's descriptors and resident set, from /proc (ours, not the mount's).
long fd_count(pid_t pid)
{
    std::error_code ec;
    long n = 0;
    for ([[maybe_unused]] auto& e : std::filesystem::directory_iterator("/proc/" + std::to_string(pid) + "/fd", ec))
        ++n;
    return n;
}

// The process's own memory (heap, stack): what a leak grows. Not VmRSS, which also counts the
// pages of its binary and libraries that a path run for the first time brings in.
long anon_kb(pid_t pid)
{
    std::ifstream in("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(in, line))
        if (line.rfind("RssAnon:", 0) == 0)
            return std::stol(line.substr(8));
    return -1;
}

} // namespace

TEST_CASE("the server killed with SIGKILL five times under readers of three mounts: nobody notices", "[restart]")
{
    procfsd::support::PidNamespace ns("sleep 1000 & sleep 1000 & wait");
    REQUIRE(ns.ok());
    TestMount m("io_uring=off,entry_timeout=3600",
                {"io_uring=off,hidepid=invisible,entry_timeout=3600", "io_uring=off,pidns=" + ns.ns_path()});
    std::vector<std::string> all{"self/status", "1/stat", "meminfo"};
    // Through a pidns= mount, `self` of a process outside the namespace resolves to nothing.
    Readers readers({{m.mount_path(0), all}, {m.mount_path(1), all}, {m.mount_path(2), {"1/stat", "meminfo"}}});

    Child sleeper = spawn_sleeper();
    std::string pid = std::to_string(sleeper.pid());
    int held = ::open(m.path(pid + "/status").c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(held >= 0);
    ShellIn shell(m.path(pid));
    REQUIRE(shell.ask() == "ok");
    REQUIRE(wait_until([&] { return readers.rounds() > 20; }, 10s));

    pid_t keeper = m.keeper_pid();
    for (int kill = 0; kill < 5; ++kill) {
        pid_t server = m.serving_pid();
        REQUIRE(server > 0);
        long before = readers.rounds();
        REQUIRE(::kill(server, SIGKILL) == 0);
        REQUIRE(wait_gone(server));
        REQUIRE(wait_until([&] { return m.serving_pid() > 0 && m.serving_pid() != server; }, 10s));
        // Readers go on through the new server.
        CHECK(wait_until([&] { return readers.rounds() > before + 8; }, 10s));
        CHECK(shell.ask() == "ok");
    }
    readers.expect_unnoticed();
    CHECK(::kill(keeper, 0) == 0);
    CHECK(m.counter("incarnation") == 6);

    // The descriptor opened before the first kill reads what the kernel's file does.
    char buf[4096];
    ssize_t n = ::pread(held, buf, sizeof buf, 0);
    REQUIRE(n > 0);
    CHECK(first_line(std::string(buf, static_cast<size_t>(n))) == "Name:\tsleep");
    ::close(held);
}

TEST_CASE("a process reaped while no server ran is gone, and its reused pid never shows through an old node", "[restart]")
{
    TestMount m("io_uring=off,entry_timeout=3600");
    Child a = spawn_sleeper();
    pid_t pid = a.pid();
    std::string p = std::to_string(pid);
    struct stat st{};
    REQUIRE(lstat_errno(m.path(p), &st) == 0);
    int held = ::open(m.path(p + "/comm").c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(held >= 0);
    ShellIn shell(m.path(p));
    REQUIRE(shell.ask() == "ok");
    Child b; // the pid's next process
    {
        // No server between the kill and SIGCONT: the keeper waits, stopped.
        pid_t keeper = m.keeper_pid();
        pid_t server = m.serving_pid();
        REQUIRE(server > 0); // never kill(-1)
        REQUIRE(::kill(keeper, SIGSTOP) == 0);
        ::kill(server, SIGKILL);
        bool gone = wait_killed(server);
        a.kill_and_reap();
        b = Child(sleeper_with_pid(pid));
        ::kill(keeper, SIGCONT);
        REQUIRE(gone);
    }
    REQUIRE(b.pid() == pid);
    // The restarted server has invalidated the dead process's directory.
    REQUIRE(wait_until([&] { return m.counter("resume_invalidations") >= 1; }, 10s));
    REQUIRE(wait_until([&] { return read_file("/proc/" + p + "/comm") == "sleep\n"; }, 5s));
    // An old node (an open file, a working directory) is the dead process's: its reads fail as
    // the kernel's do; a new lookup finds the new process.
    char buf[64];
    CHECK(::pread(held, buf, sizeof buf, 0) < 0);
    CHECK(shell.ask() == "fail");
    ::close(held);
    auto now = read_file(m.path(p + "/status"));
    REQUIRE(now.has_value());
    auto native = read_file("/proc/" + p + "/status");
    REQUIRE(native.has_value());
    CHECK(now->substr(0, now->find("\nUmask")) == native->substr(0, native->find("\nUmask")));
    CHECK(m.counter("incarnation") == 2);
}

namespace {

// A sysctl the test may change for its duration, put back on every path.
struct SavedSysctl {
    std::string path = "/proc/sys/fs/lease-break-time";
    std::string value = read_file(path).value_or("45\n");
    ~SavedSysctl() { std::ofstream(path) << value; }
};

} // namespace

// A poll wait armed with the killed server: the next one wakes it, the poller asks again, and
// a change after that wakes it as on /proc.
TEST_CASE("a poller asleep across a restart is woken by a change after it", "[restart]")
{
    TestMount m("io_uring=off");
    int fd = ::open(m.path("sys/kernel/hostname").c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    char buf[256];
    while (::read(fd, buf, sizeof buf) > 0) {
    }
    std::atomic<pid_t> tid{0};
    std::atomic<int> revents{-1};
    std::thread poller([&] {
        tid = static_cast<pid_t>(::syscall(SYS_gettid));
        pollfd p{fd, POLLPRI, 0};
        int n = ::poll(&p, 1, 20000);
        revents = n > 0 ? p.revents : 0;
    });
    // Asleep in poll(2): the server answered its FUSE_POLL and watches the file.
    CHECK(wait_until([&] {
        auto wchan = tid ? read_file("/proc/self/task/" + std::to_string(tid) + "/wchan") : std::nullopt;
        return wchan && wchan->find("poll") != std::string::npos;
    }, 5s));
    pid_t server = m.serving_pid();
    REQUIRE(server > 0);
    ::kill(server, SIGKILL);
    CHECK(wait_until([&] { return m.counter("resume_poll_wakeups") >= 1; }, 10s));
    // A change may come before the poller asked the new server again (the reopened file then
    // starts after it): changed again until the poller wakes.
    auto give_up = std::chrono::steady_clock::now() + 10s;
    while (revents == -1 && std::chrono::steady_clock::now() < give_up) {
        set_hostname_elsewhere();
        wait_until([&] { return revents != -1; }, 200ms);
    }
    poller.join();
    CHECK(revents == (POLLPRI | POLLERR));
    ::close(fd);
}

TEST_CASE("a sysctl write in flight at the kill is applied exactly once", "[restart]")
{
    SavedSysctl saved;
    for (std::string when : {"after", "before"}) {
        DYNAMIC_SECTION("the server dies " << when << " applying it")
        {
            std::ofstream(saved.path) << "45\n";
            // The hook holds the write (its first sending only) before or after it is applied.
            TestMount held_mount("io_uring=off", {}, {"--test-hold-write", when + ":sys/fs/lease-break-time"});
            std::atomic<ssize_t> wrote{-2};
            std::atomic<int> write_errno{0};
            std::thread writer([&] {
                int fd = ::open(held_mount.path("sys/fs/lease-break-time").c_str(), O_WRONLY | O_CLOEXEC);
                ssize_t n = fd < 0 ? -1 : ::write(fd, "77\n", 3);
                write_errno = errno;
                wrote = n;
                if (fd >= 0)
                    ::close(fd);
            });
            pid_t keeper = held_mount.keeper_pid();
            pid_t server = held_mount.serving_pid();
            REQUIRE(server > 0); // never kill(-1)
            if (when == "after")
                REQUIRE(wait_until([&] { return read_file(saved.path) == "77\n"; }, 10s));
            else
                REQUIRE(wait_until([&] { return held_mount.counter("requests_write") >= 1; }, 10s));
            // While no server runs, the value changes natively: a second application would
            // put 77 back.
            REQUIRE(::kill(keeper, SIGSTOP) == 0);
            ::kill(server, SIGKILL);
            bool gone = wait_killed(server);
            std::ofstream(saved.path) << "46\n";
            ::kill(keeper, SIGCONT);
            REQUIRE(gone);
            writer.join();
            INFO("write errno " << write_errno.load());
            CHECK(wrote == 3);
            CHECK(read_file(saved.path) == (when == "after" ? "46\n" : "77\n"));
            CHECK(held_mount.counter("incarnation") == 2);
        }
    }
}

// A server that ended with a thread inside the kernel's read of /dev/fuse lost the request
// that thread was copying (EIO): under load about one in 20 upgrades did, before the server
// parked its readers (session_io.hpp).
TEST_CASE("ctl upgrade 20 times under readers: nobody notices, the keeper holds no more", "[restart][upgrade-load]")
{
    ScratchDir bin;
    std::string fresh = bin.path + "/procfsd-new";
    std::filesystem::copy_file(procfsd_binary(), fresh);
    ::chmod(fresh.c_str(), 0755);
    TestMount m("io_uring=off", {"io_uring=off,hidepid=invisible"});
    Readers readers({{m.mount_path(0), {"self/status", "1/stat", "meminfo"}},
                     {m.mount_path(1), {"self/status", "1/stat", "meminfo"}}});
    int held = ::open(m.path("self/status").c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(held >= 0);
    REQUIRE(wait_until([&] { return readers.rounds() > 20; }, 10s));
    pid_t keeper = m.keeper_pid();
    long fds_at_5 = 0, anon_at_5 = 0;
    for (int i = 0; i < 20; ++i) {
        int status = -1;
        std::string out = m.ctl("upgrade " + (i % 2 ? fresh : procfsd_binary()), &status);
        INFO(out);
        REQUIRE(status == 0);
        CHECK(out.find("upgraded: pid ") != std::string::npos);
        if (i == 4) {
            fds_at_5 = fd_count(keeper);
            anon_at_5 = anon_kb(keeper);
        }
    }
    CHECK(wait_until([&] { return readers.rounds() > 40; }, 10s));
    readers.expect_unnoticed();
    // No growth (the previous binary's descriptor is dropped once the next server is ready,
    // which may be just after the command returned).
    CHECK(wait_until([&] { return fd_count(keeper) <= fds_at_5; }, 5s));
    CHECK(anon_kb(keeper) <= anon_at_5 + 64);
    CHECK(m.counter("incarnation") == 21);
    char buf[4096];
    ssize_t n = ::pread(held, buf, sizeof buf, 0);
    REQUIRE(n > 0);
    CHECK(first_line(std::string(buf, static_cast<size_t>(n))).rfind("Name:\t", 0) == 0);
    ::close(held);
}

TEST_CASE("ctl upgrade to a binary that fails to start falls back to the one before", "[restart]")
{
    TestMount m("io_uring=off");
    pid_t before = m.serving_pid();
    int status = -1;
    std::string out = m.ctl("upgrade /bin/false", &status);
    INFO(out);
    CHECK(status == 1);
    CHECK(out.find("/bin/false did not start") != std::string::npos);
    CHECK(out.find("previous binary") != std::string::npos);
    CHECK(m.serving_pid() != before);
    CHECK(read_file(m.path("self/status")).has_value());
    // Not executable at all: refused before anything is handed over.
    ScratchDir tmp;
    std::string text = tmp.path + "/not-a-program";
    std::ofstream(text) << "text\n";
    ::chmod(text.c_str(), 0644);
    pid_t serving = m.serving_pid();
    out = m.ctl("upgrade " + text, &status);
    CHECK(status == 1);
    CHECK(out.find("not an executable file") != std::string::npos);
    CHECK(m.serving_pid() == serving);
}

namespace {

// A service under a stand-in systemd: its notify socket and fd store, and its D-Bus answers.
struct Unit {
    explicit Unit(const std::string& dir) : bus(dir) {}
    FakeSystemdBus bus;
    FakeSystemd systemd;
    std::vector<std::string> argv;
    [[nodiscard]] std::vector<std::string> env() const { return {"DBUS_SYSTEM_BUS_ADDRESS=" + bus.address()}; }

    // Starts the service with what the store holds, until it is ready.
    Child start()
    {
        Child c(systemd.start(argv, env()));
        REQUIRE(systemd.wait_for("READY=1"));
        return c;
    }
    // systemctl restart: SIGTERM during a restart job. The service ends, the mounts stay, and
    // so does the store (7 descriptors: each of two mounts' connection, state file and control
    // socket, and the daemon's control socket); then it starts again.
    Child restart(Child& service, const std::vector<std::string>& mounts)
    {
        bus.set_job("restart");
        pid_t pid = service.pid();
        ::kill(pid, SIGTERM);
        int status = service.reap();
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
        CHECK(bus.asked_about() == pid);
        for (auto& m : mounts)
            CHECK(is_mounted(m));
        systemd.drain();
        CHECK(systemd.stored() == 7);
        bus.set_job("");
        return start();
    }
    // systemctl stop: SIGTERM during a stop job ends it all, every mount unmounted.
    void stop(Child& service, const std::vector<std::string>& mounts)
    {
        bus.set_job("stop");
        ::kill(service.pid(), SIGTERM);
        int status = service.reap();
        CHECK(WIFEXITED(status));
        for (auto& m : mounts)
            CHECK_FALSE(is_mounted(m));
    }
};

// What restarts of two mounts `a` and `b` must not disturb: a descriptor opened before, a
// shell whose working directory is `a`/1, and readers of both.
struct Consumers {
    Consumers(const std::string& a, const std::string& b)
        : held(::open((a + "/self/status").c_str(), O_RDONLY | O_CLOEXEC)), shell(a + "/1"),
          readers({{a, {"self/status", "1/stat"}}, {b, {"self/status", "meminfo"}}})
    {
        REQUIRE(held >= 0);
        REQUIRE(shell.ask() == "ok");
        REQUIRE(wait_until([&] { return readers.rounds() > 10; }, 10s));
    }
    ~Consumers()
    {
        if (held >= 0)
            ::close(held);
    }
    // What was opened before still works: the descriptor reads, the shell's cwd answers.
    void check_kept()
    {
        CHECK(shell.ask() == "ok");
        char buf[4096];
        CHECK(::pread(held, buf, sizeof buf, 0) > 0);
    }
    // Waits for the readers to go on after a restart.
    void check_served_again()
    {
        long before = readers.rounds();
        CHECK(wait_until([&] { return readers.rounds() > before + 8; }, 10s));
    }

    int held;
    ShellIn shell;
    Readers readers;
};

// The server a daemon's control socket names (daemon_pid), 0 when none answers.
pid_t server_of(const std::string& control, const std::string& mountpoint)
{
    auto c = procfsd::support::parse_counters(
        procfsd::support::run_program({procfsd_binary(), "--control", control, "stats", mountpoint}, true, 10).out);
    auto it = c.find("daemon_pid");
    return it == c.end() || it->second <= 0 ? 0 : static_cast<pid_t>(it->second);
}

} // namespace

// --keeper=systemd: the service is the server, and the unit's fd store holds the connections.
TEST_CASE("under systemd the fd store keeps the mounts across a crash and a restart", "[restart]")
{
    ScratchDir tmp;
    Unit unit(tmp.path);
    REQUIRE(unit.bus.ok());
    std::string a = tmp.sub("a"), b = tmp.sub("b");
    unit.argv = {procfsd_binary(), "-f", "--keeper", "systemd", "--control", "test-fdstore-" + std::to_string(::getpid()),
                 "--log-level", "warn", a, "-o", "io_uring=off", "--mount", b + ":io_uring=off,hidepid=invisible"};
    Child first = unit.start();
    INFO(unit.systemd.messages());
    // No keeper process: the service is the server, and stores its descriptors itself.
    CHECK(unit.systemd.stored() == 7);
    CHECK(unit.systemd.messages().find("FDNAME=m") != std::string::npos);
    Consumers users(a, b);
    first.kill_and_reap(); // SIGKILL: systemd would start it again (Restart=on-failure)
    Child second = unit.start();
    users.check_served_again();
    Child third = unit.restart(second, {a, b});
    users.check_served_again();
    users.readers.expect_unnoticed();
    users.check_kept();
    unit.stop(third, {a, b});
}

// The default keeper under systemd: it puts what it keeps into the unit's fd store too. At the
// SIGTERM of `systemctl restart` (a restart job, asked on D-Bus) it leaves the mounts there and
// the next start resumes them; a crash of the keeper itself (Restart=on-failure) is survived
// the same way; `systemctl stop` unmounts and leaves nothing in the store.
TEST_CASE("under systemd, a restart and a crash of the keeper keep the mounts; a stop ends them", "[restart]")
{
    ScratchDir tmp;
    Unit unit(tmp.path);
    REQUIRE(unit.bus.ok());
    std::string a = tmp.sub("a"), b = tmp.sub("b");
    std::string control = "test-sysrestart-" + std::to_string(::getpid());
    unit.argv = {procfsd_binary(), "-f", "--control", control, "--log-level", "warn", a, "-o",
                 "io_uring=off", "--mount", b + ":io_uring=off,hidepid=invisible"};
    Child first = unit.start();
    unit.systemd.drain();
    INFO(unit.systemd.messages());
    CHECK(unit.systemd.stored() == 7); // what the keeper keeps, mirrored
    Consumers users(a, b);
    Child second = unit.restart(first, {a, b});
    users.check_served_again();
    users.readers.expect_unnoticed();

    // The keeper killed: its server dies with it (PDEATHSIG); the store still has everything.
    // systemd starts the unit again once its processes are gone, which a killed server's thread
    // stuck in the kernel can delay (README, Limits): no bound on the wait here.
    Readers during_crash({{a, {"self/status"}}, {b, {"meminfo"}}});
    REQUIRE(wait_until([&] { return during_crash.rounds() > 10; }, 10s));
    pid_t server = server_of(control, a);
    REQUIRE(server > 0);
    int server_fd = static_cast<int>(::syscall(SYS_pidfd_open, server, 0));
    second.kill_and_reap();
    if (server_fd >= 0) {
        pollfd p{server_fd, POLLIN, 0};
        ::poll(&p, 1, 3000); // as systemd's wait for the unit's processes, shortened
        ::close(server_fd);
    }
    unit.systemd.drain();
    CHECK(unit.systemd.stored() == 7);
    long before = during_crash.rounds();
    Child third = unit.start();
    CHECK(wait_until([&] { return during_crash.rounds() > before + 8; }, 10s));
    during_crash.stop();
    INFO("first error: " << during_crash.first_error());
    CHECK(during_crash.errors() == 0);
    users.check_kept();

    unit.stop(third, {a, b});
    unit.systemd.drain();
    CHECK(unit.systemd.stored() == 0); // nothing left in the store
}

TEST_CASE("ctl upgrade refuses a daemon with a mount on io_uring, and says why", "[restart]")
{
    procfsd::support::UringSwitch uring('Y');
    if (!uring.usable() || !procfsd::support::io_uring_allowed())
        SKIP("this kernel offers no FUSE over io_uring");
    TestMount m("io_uring=on", {"io_uring=off"});
    REQUIRE(read_file(m.path("self/status")).has_value()); // INIT answered, rings up
    pid_t before = m.serving_pid();
    int status = -1;
    std::string out = m.ctl("upgrade", &status);
    INFO(out);
    CHECK(status == 1);
    CHECK(out.find("EOPNOTSUPP") != std::string::npos);
    CHECK(out.find(m.mount_path(0)) != std::string::npos);
    CHECK(out.find("io_uring") != std::string::npos);
    CHECK(m.serving_pid() == before);
    CHECK(read_file(m.mount_path(1, "self/status")).has_value());
}
