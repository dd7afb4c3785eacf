// SPDX-License-Identifier: GPL-2.0-or-later
#include "harness.hpp"

#include "file_tools.hpp"
#include "mount_tools.hpp"
#include "process_tools.hpp"

#include <catch2/catch_test_macros.hpp>
#include <dirent.h>
#include <sched.h>
#include <grp.h>
#include <linux/capability.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>

namespace procfsd::test {

namespace {

[[noreturn]] void exec_or_die(const std::vector<std::string>& argv, const std::vector<std::string>& env)
{
    std::vector<char*> a, e;
    for (auto& s : argv)
        a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    for (auto& s : env)
        e.push_back(const_cast<char*>(s.c_str()));
    e.push_back(nullptr);
    ::execve(a[0], a.data(), e.data());
    ::_exit(127);
}

// Forks with a pipe from the child to us: `fd` is its write end in the child (pid 0), its read
// end in the parent.
struct PipedChild {
    pid_t pid;
    int fd;
};

PipedChild fork_with_pipe()
{
    int fds[2];
    if (::pipe(fds) != 0)
        throw std::runtime_error("pipe");
    pid_t pid = ::fork();
    ::close(fds[pid == 0 ? 0 : 1]);
    return {pid, fds[pid == 0 ? 1 : 0]};
}

} // namespace

std::string procfsd_binary()
{
    const char* bin = std::getenv("PROCFSD_BIN");
    if (!bin)
        throw std::runtime_error("PROCFSD_BIN is not set (run the tests through meson test)");
    return bin;
}

ScratchDir::ScratchDir() : path(support::make_scratch_dir("procfsd-test"))
{
    if (path.empty())
        throw std::runtime_error("mkdtemp failed");
}

ScratchDir::~ScratchDir()
{
    support::detach_mounts_below(path);
    run_command("rm -rf " + path);
}

std::string ScratchDir::sub(const std::string& name) const
{
    std::string p = path + "/" + name;
    ::mkdir(p.c_str(), 0755);
    return p;
}

std::string ScratchDir::file(const std::string& name, const std::string& text) const
{
    std::string p = path + "/" + name;
    std::ofstream(p) << text;
    return p;
}

std::vector<std::string> readme_block(const std::string& heading)
{
    const char* readme = std::getenv("PROCFSD_README");
    if (!readme)
        throw std::runtime_error("PROCFSD_README is not set (run the tests through meson test)");
    std::ifstream in(readme);
    std::string line;
    std::vector<std::string> out;
    bool found = false;
    while (std::getline(in, line)) {
        if (!found) {
            found = line == heading;
            continue;
        }
        if (line.rfind("    ", 0) == 0)
            out.push_back(line.substr(4));
        else if (!out.empty())
            break;
    }
    return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to)
{
    for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
        s.replace(pos, from.size(), to);
    return s;
}

TestMount::TestMount(const std::string& options, const std::vector<std::string>& extra,
                     const std::vector<std::string>& daemon_args)
    : dir_(support::make_scratch_dir("procfsd-test"))
{
    if (dir_.empty())
        throw std::runtime_error("mkdtemp failed");
    control_ = "test" + dir_.substr(dir_.rfind('-'));
    std::vector<std::string> argv{procfsd_binary(), "-f", "--log-level", "warn", "--control", control_};
    argv.insert(argv.end(), daemon_args.begin(), daemon_args.end());
    mounts_.push_back(dir_ + "/m0");
    argv.push_back(mounts_[0]);
    if (!options.empty()) {
        argv.push_back("-o");
        argv.push_back(options);
    }
    for (size_t i = 0; i < extra.size(); ++i) {
        mounts_.push_back(dir_ + "/m" + std::to_string(i + 1));
        argv.push_back("--mount");
        argv.push_back(mounts_.back() + (extra[i].empty() ? "" : ":" + extra[i]));
    }
    for (auto& m : mounts_)
        ::mkdir(m.c_str(), 0755);

    // If the test dies, the daemon unmounts (SIGTERM): nothing is left behind.
    daemon_ = support::spawn(argv, {.death_signal = SIGTERM,
                                    .quiet = false,
                                    .env = std::vector<std::string>{"PATH=/usr/sbin:/usr/bin:/sbin:/bin"}});
    if (daemon_ < 0)
        throw std::runtime_error("fork failed");
    auto ready = support::wait_for_mounts(daemon_, mounts_, "fuse.procfsd", 10s);
    if (ready == support::MountWait::server_exited)
        daemon_ = -1;
    if (ready != support::MountWait::ready) {
        stop();
        throw std::runtime_error("procfsd did not mount " + dir_);
    }
    server_ = serving_pid();
    check_transport(options);
}

pid_t TestMount::serving_pid() const
{
    auto c = support::parse_counters(support::run_program({procfsd_binary(), "--control", control_, "stats", mounts_[0]},
                                                          true, 10)
                                         .out);
    auto it = c.find("daemon_pid");
    // 0, never -1, when no server answers: a caller that signals it must not signal every process.
    return it == c.end() || it->second <= 0 ? 0 : static_cast<pid_t>(it->second);
}

// scripts/dev test runs each suite on one transport and says which: a mount that does not
// ask otherwise must use it, so that a suite never passes on the other transport unnoticed.
void TestMount::check_transport(const std::string& options)
{
    const char* expected = std::getenv("PROCFSD_EXPECT_TRANSPORT");
    if (!expected || !*expected || options.find("io_uring=") != std::string::npos)
        return;
    struct stat st{};
    ::lstat((mounts_[0] + "/self").c_str(), &st); // a first request: INIT has been answered
    std::string stats = support::run_program({procfsd_binary(), "--control", control_, "stats", mounts_[0]},
                                             true, 10)
                            .out;
    if (stats.find(std::string("transport ") + expected + "\n") == std::string::npos) {
        stop();
        throw std::runtime_error(mounts_[0] + ": expected transport " + std::string(expected) + ", the daemon says:\n" + stats);
    }
}

void TestMount::stop()
{
    if (daemon_ > 0) {
        ::kill(daemon_, SIGTERM);
        if (!support::reaped_within(daemon_, 10s)) {
            ::kill(daemon_, SIGKILL);
            ::waitpid(daemon_, nullptr, 0);
        }
        daemon_ = -1;
    }
    for (auto& m : mounts_)
        if (auto e = support::mount_at(m); e && e->type == "fuse.procfsd")
            support::detach_left_behind(m, *e);
}

TestMount::~TestMount()
{
    stop();
    for (auto& m : mounts_)
        ::rmdir(m.c_str());
    // Directories a case made beside the mounts (mountpoints of its own); only empty ones go,
    // since rmdir removes nothing else.
    std::error_code ec;
    for (auto& e : std::filesystem::directory_iterator(dir_, ec))
        if (e.is_directory(ec) && !e.is_symlink(ec))
            ::rmdir(e.path().c_str());
    ::rmdir(dir_.c_str());
}

std::string TestMount::path(const std::string& rel) const { return mount_path(0, rel); }

std::string TestMount::mount_path(size_t i, const std::string& rel) const
{
    return rel.empty() ? mounts_.at(i) : mounts_.at(i) + "/" + rel;
}

std::string TestMount::ctl(const std::string& args, int* status) const
{
    return run_command(command() + " ctl " + args + " 2>&1", status);
}

std::string TestMount::command() const
{
    return procfsd_binary() + " --control " + control_;
}

std::map<std::string, long long> TestMount::counters() const
{
    return support::parse_counters(run_command(procfsd_binary() + " stats " + mounts_[0]));
}

long long TestMount::counter(const std::string& name) const
{
    auto all = counters();
    auto it = all.find(name);
    return it == all.end() ? -1 : it->second;
}

Child& Child::operator=(Child&& other) noexcept
{
    if (this != &other) {
        kill_and_reap();
        pid_ = other.pid_;
        other.pid_ = -1;
    }
    return *this;
}

Child::~Child() { kill_and_reap(); }

void Child::wait_exited() const
{
    siginfo_t info{};
    ::waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOWAIT);
}

int Child::reap()
{
    int status = 0;
    if (pid_ > 0)
        ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
}

void Child::kill_and_reap()
{
    if (pid_ <= 0)
        return;
    ::kill(pid_, SIGKILL);
    reap();
}

const std::vector<std::string> sleeper_argv{"/bin/sleep", "3600"};
const std::vector<std::string> sleeper_env{"PROCFSD_TEST=sleeper", "LANG=C", "X=a b c"};

namespace {

// Starts the sleeper, as `uid` when given, and waits for its exec so that comm and cmdline are
// the sleeper's.
Child start_sleeper(std::optional<uid_t> uid)
{
    pid_t pid = ::fork();
    if (pid == 0) {
        if (uid && (::setgroups(0, nullptr) != 0 || ::setgid(*uid) != 0 || ::setuid(*uid) != 0))
            ::_exit(126);
        exec_or_die(sleeper_argv, sleeper_env);
    }
    Child c(pid);
    wait_until([&] {
        auto comm = read_file("/proc/" + std::to_string(pid) + "/comm");
        return comm && *comm == "sleep\n";
    });
    return c;
}

} // namespace

Child spawn_sleeper() { return start_sleeper(std::nullopt); }

std::vector<Child> spawn_sleepers(int n)
{
    std::vector<Child> out;
    out.reserve(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i)
        out.push_back(spawn_sleeper());
    return out;
}

Child spawn_threaded(int threads, std::vector<pid_t>& tids)
{
    auto [pid, fd] = fork_with_pipe();
    if (pid == 0) {
        for (int i = 0; i < threads; ++i) {
            pthread_t t;
            ::pthread_create(&t, nullptr, [](void* arg) -> void* {
                int fd = static_cast<int>(reinterpret_cast<intptr_t>(arg));
                pid_t tid = static_cast<pid_t>(::syscall(SYS_gettid));
                [[maybe_unused]] auto n = ::write(fd, &tid, sizeof tid);
                for (;;)
                    ::pause();
                return nullptr;
            }, reinterpret_cast<void*>(static_cast<intptr_t>(fd)));
        }
        for (;;)
            ::pause();
    }
    tids.clear();
    for (int i = 0; i < threads; ++i) {
        pid_t tid = 0;
        if (::read(fd, &tid, sizeof tid) == sizeof tid)
            tids.push_back(tid);
    }
    ::close(fd);
    return Child(pid);
}

Child spawn_as_nobody() { return start_sleeper(65534); }

Child spawn_zombie()
{
    pid_t pid = ::fork();
    if (pid == 0)
        ::_exit(0);
    Child c(pid);
    c.wait_exited();
    return c;
}

bool is_mounted(const std::string& path) { return support::is_mounted(path); }

std::string run_as_capture(const Identity& who, const std::function<std::string()>& fn)
{
    auto [pid, fd] = fork_with_pipe();
    if (pid == 0) {
        if (who.caps)
            ::prctl(PR_SET_KEEPCAPS, 1);
        if (::setgroups(who.groups.size(), who.groups.data()) != 0 || ::setgid(who.gid) != 0 ||
            ::setuid(who.uid) != 0)
            ::_exit(126);
        if (who.caps) {
            __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
            __user_cap_data_struct data[2]{};
            data[0].effective = data[0].permitted = static_cast<uint32_t>(who.caps);
            data[1].effective = data[1].permitted = static_cast<uint32_t>(who.caps >> 32);
            if (::syscall(SYS_capset, &hdr, data) != 0)
                ::_exit(125);
        }
        std::string s = fn();
        for (size_t off = 0; off < s.size();) {
            ssize_t n = ::write(fd, s.data() + off, s.size() - off);
            if (n <= 0)
                break;
            off += static_cast<size_t>(n);
        }
        ::_exit(0);
    }
    std::string out;
    support::read_all(fd, out);
    ::close(fd);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        out += "\n(child ended with status " + std::to_string(status) + ")";
    return out;
}

int run_as(uid_t uid, gid_t gid, const std::function<int()>& fn)
{
    pid_t pid = ::fork();
    if (pid == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setgid(gid) != 0 || ::setuid(uid) != 0)
            ::_exit(126);
        ::_exit(fn());
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

std::optional<std::string> read_file(const std::string& path) { return support::read_file(path); }

std::optional<std::vector<std::string>> list_dir(const std::string& path)
{
    DIR* d = ::opendir(path.c_str());
    if (!d)
        return std::nullopt;
    std::vector<std::string> names;
    errno = 0;
    while (struct dirent* e = ::readdir(d))
        names.emplace_back(e->d_name);
    int err = errno;
    ::closedir(d);
    if (err) {
        errno = err;
        return std::nullopt;
    }
    return names;
}

std::optional<std::string> read_link(const std::string& path)
{
    char buf[4096];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
    if (n < 0)
        return std::nullopt;
    return std::string(buf, static_cast<size_t>(n));
}

int lstat_errno(const std::string& path, struct stat* st)
{
    struct stat tmp{};
    return ::lstat(path.c_str(), st ? st : &tmp) == 0 ? 0 : errno;
}

std::string run_command(const std::string& cmd, int* status)
{
    std::string out;
    FILE* p = ::popen(cmd.c_str(), "r");
    if (!p) {
        if (status)
            *status = -1;
        return out;
    }
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
        out.append(buf, n);
    int rc = ::pclose(p);
    if (status)
        *status = WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
    return out;
}

void set_hostname_elsewhere()
{
    pid_t pid = ::fork();
    if (pid == 0) {
        const char name[] = "procfsd-poll";
        ::_exit(::unshare(CLONE_NEWUTS) == 0 && ::sethostname(name, sizeof name - 1) == 0 ? 0 : 1);
    }
    int status = 0;
    ::waitpid(pid, &status, 0);
    REQUIRE((WIFEXITED(status) && WEXITSTATUS(status) == 0));
}

bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds deadline)
{
    return support::wait_until(pred, deadline);
}

} // namespace procfsd::test
