// SPDX-License-Identifier: GPL-2.0-or-later
// procfsd-bench: the benchmark of the README's Performance section. Starts N background processes, mounts procfsd twice
// (hidepid=off with entry_timeout=3600, hidepid=invisible), the FUSE floor (procfsd-floor) and
// bindfs over /proc, and compares them with the kernel's /proc on six workloads:
//
//   W1  ps-like scan: in process (readdir of the root; per pid: stat of the directory, then
//       open/read/close of stat, status, cmdline), and the real `ps -eo pid,user,comm,args` with
//       the target bind-mounted over /proc in a private mount namespace
//   W2  warm stat: stat of every <pid> and <pid>/status twice; the second pass is timed and its
//       FUSE requests counted from the daemon's counters
//   W3  single files: open/read/close of meminfo, uptime, self/stat, 10,000 times each
//   W4  exit latency: reap of a looked-up process to ENOENT for <pid> on the mount; stale answers
//   W5  churn: 20,000 short-lived processes looked up through the mount while W1 scans in a
//       loop; throughput, stale answers, and the daemon's counters and RSS against the baseline
//   W6  memory and scale: daemon RSS and fds with 2,000 / 10,000 / 30,000 processes looked up
//
// Targets alternate within each round (rotated order); several rounds; medians, min/max and
// ratios to native (and to the floor). A table goes to stdout, everything to a JSON file.
// Everything started is stopped by pid; every mount is unmounted (lazily if need be).

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <concepts>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <deque>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#ifndef PROCFSD_BENCH_PROCFSD
#define PROCFSD_BENCH_PROCFSD "procfsd"
#endif
#ifndef PROCFSD_BENCH_FLOOR
#define PROCFSD_BENCH_FLOOR "procfsd-floor"
#endif
#ifndef PROCFSD_BENCH_JSON
#define PROCFSD_BENCH_JSON "bench-results.json"
#endif

namespace {

using Clock = std::chrono::steady_clock;

int64_t now_ns()
{
    return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

double seconds_since(int64_t t0) { return static_cast<double>(now_ns() - t0) / 1e9; }

void sleep_ms(long ms) { std::this_thread::sleep_for(std::chrono::milliseconds(ms)); }

std::string strprintf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string strprintf(const char* fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0)
        return {};
    if (static_cast<size_t>(n) < sizeof buf)
        return std::string(buf, static_cast<size_t>(n));
    std::string out(static_cast<size_t>(n) + 1, '\0');
    va_start(ap, fmt);
    std::vsnprintf(out.data(), out.size(), fmt, ap);
    va_end(ap);
    out.resize(static_cast<size_t>(n));
    return out;
}

void note(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void note(const char* fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    std::fputs("-- ", stderr);
    std::vfprintf(stderr, fmt, ap);
    std::fputc('\n', stderr);
    va_end(ap);
}

// ---------------------------------------------------------------------------------------------
// A small JSON value, enough for the results file.

class Json {
public:
    enum class Kind { null, boolean, number, string, array, object };

    Json() = default;
    Json(bool v) : kind_(Kind::boolean), b_(v) {}
    template <class T>
        requires(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>)
    Json(T v) : kind_(Kind::number), n_(static_cast<double>(v))
    {
    }
    Json(const char* s) : kind_(Kind::string), s_(s) {}
    Json(std::string s) : kind_(Kind::string), s_(std::move(s)) {}
    Json(const std::vector<double>& v) : kind_(Kind::array)
    {
        for (double d : v)
            a_.emplace_back(d);
    }

    static Json array() { Json j; j.kind_ = Kind::array; return j; }
    static Json object() { Json j; j.kind_ = Kind::object; return j; }

    Json& operator[](const std::string& key)
    {
        if (kind_ != Kind::object) {
            kind_ = Kind::object;
            o_.clear();
        }
        for (auto& [k, v] : o_)
            if (k == key)
                return v;
        o_.emplace_back(key, Json{});
        return o_.back().second;
    }
    void push(Json v)
    {
        if (kind_ != Kind::array) {
            kind_ = Kind::array;
            a_.clear();
        }
        a_.push_back(std::move(v));
    }

    std::string dump(int indent = 0) const
    {
        std::string out;
        write(out, indent);
        out += '\n';
        return out;
    }

private:
    static void quote(std::string& out, const std::string& s)
    {
        out += '"';
        for (unsigned char c : s) {
            switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20)
                    out += strprintf("\\u%04x", c);
                else
                    out += static_cast<char>(c);
            }
        }
        out += '"';
    }

    void write(std::string& out, int indent) const
    {
        std::string pad(static_cast<size_t>(indent + 2), ' ');
        std::string end_pad(static_cast<size_t>(indent), ' ');
        switch (kind_) {
        case Kind::null: out += "null"; break;
        case Kind::boolean: out += b_ ? "true" : "false"; break;
        case Kind::number:
            if (!std::isfinite(n_))
                out += "null";
            else if (n_ == std::floor(n_) && std::fabs(n_) < 1e15)
                out += strprintf("%lld", static_cast<long long>(n_));
            else
                out += strprintf("%.6g", n_);
            break;
        case Kind::string: quote(out, s_); break;
        case Kind::array: {
            bool scalars = std::all_of(a_.begin(), a_.end(), [](const Json& j) {
                return j.kind_ != Kind::array && j.kind_ != Kind::object;
            });
            out += '[';
            for (size_t i = 0; i < a_.size(); ++i) {
                if (i)
                    out += scalars ? ", " : ",";
                if (!scalars)
                    out += "\n" + pad;
                a_[i].write(out, indent + 2);
            }
            if (!scalars && !a_.empty())
                out += "\n" + end_pad;
            out += ']';
            break;
        }
        case Kind::object:
            out += '{';
            for (size_t i = 0; i < o_.size(); ++i) {
                out += i ? ",\n" : "\n";
                out += pad;
                quote(out, o_[i].first);
                out += ": ";
                o_[i].second.write(out, indent + 2);
            }
            if (!o_.empty())
                out += "\n" + end_pad;
            out += '}';
            break;
        }
    }

    Kind kind_ = Kind::null;
    bool b_ = false;
    double n_ = 0;
    std::string s_;
    std::vector<Json> a_;
    std::vector<std::pair<std::string, Json>> o_;
};

// ---------------------------------------------------------------------------------------------
// Statistics.

struct Series {
    std::vector<double> v;

    void add(double x) { v.push_back(x); }
    bool empty() const { return v.empty(); }
    double pct(double p) const
    {
        if (v.empty())
            return NAN;
        auto s = v;
        std::sort(s.begin(), s.end());
        double rank = std::ceil(p / 100.0 * static_cast<double>(s.size()));
        size_t i = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
        return s[std::min(i, s.size() - 1)];
    }
    double median() const
    {
        if (v.empty())
            return NAN;
        auto s = v;
        std::sort(s.begin(), s.end());
        size_t n = s.size();
        return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    }
    double min() const { return v.empty() ? NAN : *std::min_element(v.begin(), v.end()); }
    double max() const { return v.empty() ? NAN : *std::max_element(v.begin(), v.end()); }
    double mean() const
    {
        if (v.empty())
            return NAN;
        double s = 0;
        for (double x : v)
            s += x;
        return s / static_cast<double>(v.size());
    }
    Json json() const
    {
        Json j;
        j["samples"] = Json(v);
        j["median"] = median();
        j["min"] = min();
        j["max"] = max();
        return j;
    }
};

// ---------------------------------------------------------------------------------------------
// Emergency cleanup: whatever we started, by pid, and our mounts, also on SIGINT/SIGTERM.

constexpr size_t max_tracked_pids = 65536;
pid_t g_sleeper_pids[max_tracked_pids];
std::atomic<size_t> g_sleeper_count{0};
pid_t g_daemon_pids[32];
std::atomic<size_t> g_daemon_count{0};
char g_mount_paths[32][256];
std::atomic<size_t> g_mount_count{0};

void emergency_cleanup(int sig)
{
    size_t nd = g_daemon_count.load();
    for (size_t i = 0; i < nd; ++i)
        if (g_daemon_pids[i] > 0)
            ::kill(g_daemon_pids[i], SIGTERM);
    size_t ns = g_sleeper_count.load();
    for (size_t i = 0; i < ns; ++i)
        if (g_sleeper_pids[i] > 0)
            ::kill(g_sleeper_pids[i], SIGKILL);
    size_t nm = g_mount_count.load();
    for (size_t i = 0; i < nm; ++i)
        if (g_mount_paths[i][0])
            ::umount2(g_mount_paths[i], MNT_DETACH);
    const char msg[] = "\nprocfsd-bench: interrupted; stopped what it started\n";
    [[maybe_unused]] auto w = ::write(2, msg, sizeof msg - 1);
    ::_exit(128 + sig);
}

void install_signal_handlers()
{
    struct sigaction sa{};
    sa.sa_handler = emergency_cleanup;
    sigemptyset(&sa.sa_mask);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT})
        ::sigaction(s, &sa, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
}

// In every child, first thing: default signal handling (our handler is for the bench only).
void child_reset_signals()
{
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE})
        ::signal(s, SIG_DFL);
}

void close_from(unsigned first) { ::syscall(SYS_close_range, first, ~0U, 0); }

// ---------------------------------------------------------------------------------------------
// Processes: sleepers (the N background processes) and commands.

class Sleepers {
public:
    // Spawns sleepers until there are `n`; stops at the first failure (its errno in *err).
    size_t grow_to(size_t n, int* err)
    {
        pid_t parent = ::getpid();
        while (pids_.size() < n) {
            if (pids_.size() >= max_tracked_pids) {
                *err = EMFILE;
                break;
            }
            pid_t p = ::fork();
            if (p < 0) {
                *err = errno;
                break;
            }
            if (p == 0) {
                child_reset_signals();
                ::prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (::getppid() != parent)
                    ::_exit(0);
                close_from(0);
                ::prctl(PR_SET_NAME, "bench-sleeper");
                for (;;)
                    ::pause();
            }
            g_sleeper_pids[pids_.size()] = p;
            pids_.push_back(p);
            g_sleeper_count.store(pids_.size());
        }
        return pids_.size();
    }

    void kill_all()
    {
        for (pid_t p : pids_)
            ::kill(p, SIGKILL);
        for (size_t i = 0; i < pids_.size(); ++i) {
            while (::waitpid(pids_[i], nullptr, 0) < 0 && errno == EINTR) {
            }
            g_sleeper_pids[i] = 0;
        }
        pids_.clear();
        g_sleeper_count.store(0);
    }

    const std::vector<pid_t>& pids() const { return pids_; }
    size_t size() const { return pids_.size(); }

private:
    std::vector<pid_t> pids_;
};

struct RunResult {
    int status = -1;     // waitpid status; -1 if it could not start
    std::string out;     // stdout, when captured
    std::string err;     // stderr, when captured
    double seconds = 0;  // fork to reap
};

// Runs argv (PATH lookup); stdout/stderr captured in memfds (no pipe to keep open) or dropped.
// Waits for a child; with a timeout (seconds > 0) it is killed (SIGKILL) when the time is up.
// Returns the waitpid status; *timed_out tells whether it had to be killed.
int wait_child(pid_t p, double timeout_s, bool* timed_out = nullptr)
{
    if (timed_out)
        *timed_out = false;
    if (timeout_s > 0) {
        int pfd = static_cast<int>(::syscall(SYS_pidfd_open, p, 0));
        if (pfd >= 0) {
            struct pollfd pf{pfd, POLLIN, 0};
            int rc;
            while ((rc = ::poll(&pf, 1, static_cast<int>(timeout_s * 1000))) < 0 && errno == EINTR) {
            }
            ::close(pfd);
            if (rc == 0) {
                if (timed_out)
                    *timed_out = true;
                ::kill(p, SIGKILL);
            }
        }
    }
    int status = 0;
    while (::waitpid(p, &status, 0) < 0 && errno == EINTR) {
    }
    return status;
}

RunResult run_command(const std::vector<std::string>& argv, bool capture, double timeout_s = 0)
{
    RunResult r;
    int out_fd = capture ? ::memfd_create("bench-out", MFD_CLOEXEC) : -1;
    int err_fd = capture ? ::memfd_create("bench-err", MFD_CLOEXEC) : -1;
    std::vector<char*> a;
    for (auto& s : argv)
        a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    int64_t t0 = now_ns();
    pid_t p = ::fork();
    if (p < 0) {
        r.err = strprintf("fork: %s", std::strerror(errno));
        return r;
    }
    if (p == 0) {
        child_reset_signals();
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        int null_fd = ::open("/dev/null", O_RDWR);
        ::dup2(null_fd, 0);
        ::dup2(capture ? out_fd : null_fd, 1);
        ::dup2(capture ? err_fd : null_fd, 2);
        close_from(3);
        ::execvp(a[0], a.data());
        ::_exit(127);
    }
    bool timed_out = false;
    int status = wait_child(p, timeout_s, &timed_out);
    r.seconds = seconds_since(t0);
    r.status = status;
    if (timed_out)
        r.err = strprintf("timed out after %.0f s; ", timeout_s);
    auto slurp = [](int fd) {
        std::string s;
        if (fd < 0)
            return s;
        char buf[65536];
        ssize_t n;
        ::lseek(fd, 0, SEEK_SET);
        while ((n = ::read(fd, buf, sizeof buf)) > 0)
            s.append(buf, static_cast<size_t>(n));
        ::close(fd);
        return s;
    };
    r.out = slurp(out_fd);
    r.err += slurp(err_fd);
    return r;
}

bool ok_status(int status) { return status >= 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0; }

std::string read_text(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

bool is_fusectl_mounted()
{
    std::ifstream mounts("/proc/self/mounts");
    std::string dev, point, type, rest;
    while (mounts >> dev >> point >> type && std::getline(mounts, rest))
        if (type == "fusectl")
            return true;
    return false;
}

// "MAJ:MIN" of the mount on `path` (the last one), from mountinfo; "" if none. Never stat()s the
// mount, which would hang on a server that stopped answering.
std::string mount_device(const std::string& path)
{
    std::ifstream info("/proc/self/mountinfo");
    std::string line, found;
    while (std::getline(info, line)) {
        std::istringstream in(line);
        std::string id, parent, dev, root, point;
        in >> id >> parent >> dev >> root >> point;
        if (point == path)
            found = dev;
    }
    return found;
}

// Aborts a FUSE connection through the fuse control file system (mounted if need be, as
// scripts/dev does): every request waiting on the server fails with ENOTCONN.
bool abort_fuse_connection(const std::string& device)
{
    auto colon = device.find(':');
    if (device.empty() || colon == std::string::npos)
        return false;
    if (::access("/sys/fs/fuse/connections/", F_OK) == 0 && !is_fusectl_mounted())
        ::mount("none", "/sys/fs/fuse/connections", "fusectl", 0, nullptr);
    std::ofstream abort_file("/sys/fs/fuse/connections/" + device.substr(colon + 1) + "/abort");
    abort_file << "1";
    return static_cast<bool>(abort_file);
}

bool is_mounted(const std::string& path)
{
    std::ifstream info("/proc/self/mountinfo");
    std::string line;
    while (std::getline(info, line)) {
        std::istringstream in(line);
        std::string id, parent, dev, root, point;
        in >> id >> parent >> dev >> root >> point;
        if (point == path)
            return true;
    }
    return false;
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

// ---------------------------------------------------------------------------------------------
// Targets: /proc and the FUSE mounts.

enum class Kind { native, procfsd, floor, bindfs };

struct Target {
    std::string name;
    Kind kind = Kind::native;
    std::string root;        // "/proc" or the mountpoint
    std::string control;     // procfsd: its control socket name
    pid_t daemon = -1;       // the server we started (not native)
    int fd = -1;             // O_PATH of the root
    std::string device;      // MAJ:MIN of the FUSE mount
    bool up = false;
    bool measured = false;   // was up for the workloads
    std::string problem;     // why it is not up

    bool is_procfsd() const { return kind == Kind::procfsd; }
};

bool valid_pid_name(const char* s)
{
    if (*s < '1' || *s > '9')
        return false;
    for (const char* p = s; *p; ++p)
        if (*p < '0' || *p > '9')
            return false;
    return true;
}

// Numeric names of the target's root, in getdents order.
std::vector<std::string> list_pids(int root_fd)
{
    std::vector<std::string> out;
    int fd = ::openat(root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return out;
    DIR* d = ::fdopendir(fd);
    if (!d) {
        ::close(fd);
        return out;
    }
    while (auto* e = ::readdir(d))
        if (valid_pid_name(e->d_name))
            out.emplace_back(e->d_name);
    ::closedir(d);
    return out;
}

// open/read/close as ps does (procps file2str): read until a short read. Returns bytes or -errno.
long read_whole(int root_fd, const char* path, char* buf, size_t cap)
{
    int fd = ::openat(root_fd, path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -errno;
    long total = 0;
    for (;;) {
        ssize_t n = ::read(fd, buf, cap);
        if (n < 0) {
            int e = errno;
            ::close(fd);
            return -e;
        }
        total += n;
        if (n == 0 || static_cast<size_t>(n) < cap)
            break;
    }
    ::close(fd);
    return total;
}

struct ScanStats {
    double seconds = 0;
    long pids = 0;
    long files = 0;
    long errors = 0;
};

// W1, in process: readdir of the root, then per pid stat of the directory and
// open/read/close of stat, status, cmdline.
ScanStats scan_once(int root_fd)
{
    static thread_local std::vector<char> buf(1 << 16);
    ScanStats s;
    int64_t t0 = now_ns();
    auto pids = list_pids(root_fd);
    char path[64];
    for (auto& pid : pids) {
        struct stat st{};
        if (::fstatat(root_fd, pid.c_str(), &st, 0) != 0) {
            ++s.errors;
            continue;
        }
        for (const char* f : {"stat", "status", "cmdline"}) {
            std::snprintf(path, sizeof path, "%s/%s", pid.c_str(), f);
            if (read_whole(root_fd, path, buf.data(), buf.size()) < 0)
                ++s.errors;
            else
                ++s.files;
        }
    }
    s.pids = static_cast<long>(pids.size());
    s.seconds = seconds_since(t0);
    return s;
}

// ---------------------------------------------------------------------------------------------
// procfsd counters, through the daemon's control socket (`procfsd --control NAME ctl list`
// prints the same counters as `procfsd stats MOUNT`, without the stat() of the mountpoint that
// would itself be a FUSE request).

using Counters = std::map<std::string, long long>;

std::string g_procfsd_bin;

Counters procfsd_counters(const Target& t)
{
    Counters c;
    auto r = run_command({g_procfsd_bin, "--control", t.control, "ctl", "list"}, true, 10);
    if (!ok_status(r.status)) {
        note("%s: procfsd ctl list failed (status %d): %s", t.name.c_str(), r.status,
             r.err.substr(0, 300).c_str());
        return c;
    }
    std::istringstream in(r.out);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream ls(line);
        std::string key, value;
        ls >> key;
        if (key == "mount") {
            std::string tok;
            while (ls >> tok)
                if (tok.rfind("nodes=", 0) == 0)
                    c["nodes"] += std::atoll(tok.c_str() + 6);
            continue;
        }
        if (!(ls >> value) || value.empty())
            continue;
        char* end = nullptr;
        long long v = std::strtoll(value.c_str(), &end, 10);
        if (end && *end == '\0')
            c[key] = v;
    }
    return c;
}

long long requests_total(const Counters& c)
{
    long long n = 0;
    for (auto& [k, v] : c)
        if (k.rfind("requests_", 0) == 0)
            n += v;
    return n;
}

long long counter(const Counters& c, const std::string& key)
{
    auto it = c.find(key);
    return it == c.end() ? -1 : it->second;
}

std::string request_breakdown(const Counters& before, const Counters& after)
{
    std::string out;
    for (auto& [k, v] : after) {
        if (k.rfind("requests_", 0) != 0)
            continue;
        long long d = v - counter(before, k);
        if (d > 0)
            out += (out.empty() ? "" : " ") + k.substr(9) + "=" + std::to_string(d);
    }
    return out;
}

pid_t daemon_pid_of(const Target& t, const Counters& c)
{
    long long p = counter(c, "daemon_pid");
    return p > 0 ? static_cast<pid_t>(p) : t.daemon;
}

// ---------------------------------------------------------------------------------------------
// Servers.

pid_t spawn_server(const std::vector<std::string>& argv)
{
    std::vector<char*> a;
    for (auto& s : argv)
        a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    pid_t parent = ::getpid();
    pid_t p = ::fork();
    if (p < 0)
        return -1;
    if (p == 0) {
        child_reset_signals();
        // If the bench dies, the server unmounts and ends.
        ::prctl(PR_SET_PDEATHSIG, SIGTERM);
        if (::getppid() != parent)
            ::_exit(1);
        int null_fd = ::open("/dev/null", O_RDWR);
        ::dup2(null_fd, 0);
        ::dup2(null_fd, 1);
        close_from(3);
        ::execvp(a[0], a.data());
        ::_exit(127);
    }
    size_t i = g_daemon_count.load();
    if (i < std::size(g_daemon_pids)) {
        g_daemon_pids[i] = p;
        g_daemon_count.store(i + 1);
    }
    return p;
}

void forget_daemon(pid_t p)
{
    size_t n = g_daemon_count.load();
    for (size_t i = 0; i < n; ++i)
        if (g_daemon_pids[i] == p)
            g_daemon_pids[i] = 0;
}

void register_mount(const std::string& path)
{
    size_t i = g_mount_count.load();
    if (i < std::size(g_mount_paths)) {
        std::snprintf(g_mount_paths[i], sizeof g_mount_paths[i], "%s", path.c_str());
        g_mount_count.store(i + 1);
    }
}

bool wait_ready(Target& t, double timeout_s)
{
    int64_t t0 = now_ns();
    while (seconds_since(t0) < timeout_s) {
        int status = 0;
        if (::waitpid(t.daemon, &status, WNOHANG) == t.daemon) {
            forget_daemon(t.daemon);
            t.daemon = -1;
            t.problem = strprintf("server exited (status %d) before the mount was ready", status);
            return false;
        }
        struct stat st{};
        if (is_mounted(t.root) && ::stat((t.root + "/self").c_str(), &st) == 0) {
            t.device = mount_device(t.root);
            t.fd = ::open(t.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
            t.up = t.measured = t.fd >= 0;
            return t.up;
        }
        sleep_ms(20);
    }
    t.problem = "mount not ready in time";
    return false;
}

// Stops a server we started (SIGTERM, then SIGKILL), then makes sure nothing stays mounted.
void stop_target(Target& t)
{
    if (t.fd >= 0 && t.kind != Kind::native) {
        ::close(t.fd);
        t.fd = -1;
    }
    if (t.daemon > 0) {
        auto gone_within = [&](double seconds) {
            int64_t t0 = now_ns();
            do {
                if (::waitpid(t.daemon, nullptr, WNOHANG) == t.daemon)
                    return true;
                sleep_ms(10);
            } while (seconds_since(t0) < seconds);
            return false;
        };
        ::kill(t.daemon, SIGTERM);
        if (!gone_within(10)) {
            note("%s: server %d did not stop on SIGTERM within 10 s: SIGKILL", t.name.c_str(), t.daemon);
            t.problem += (t.problem.empty() ? "" : "; ") + std::string("did not stop on SIGTERM");
            ::kill(t.daemon, SIGKILL);
            if (!gone_within(5)) {
                // A thread of it is stuck in the kernel (e.g. an invalidation waiting for a
                // directory lock that a request to this very server holds): abort the connection.
                note("%s: server %d still there 5 s after SIGKILL: aborting FUSE connection %s",
                     t.name.c_str(), t.daemon, t.device.c_str());
                t.problem += "; stuck after SIGKILL, connection aborted";
                abort_fuse_connection(t.device);
                if (!gone_within(10))
                    note("%s: server %d is still not gone; leaving it", t.name.c_str(), t.daemon);
            }
        }
        forget_daemon(t.daemon);
        t.daemon = -1;
    }
    if (t.kind != Kind::native) {
        for (int i = 0; i < 3 && is_mounted(t.root); ++i) {
            if (::umount2(t.root.c_str(), i == 0 ? 0 : MNT_DETACH) != 0)
                note("umount %s: %s", t.root.c_str(), std::strerror(errno));
        }
        ::rmdir(t.root.c_str());
    }
    t.up = false;
}

// ---------------------------------------------------------------------------------------------
// Options.

struct Options {
    std::string procfsd = PROCFSD_BENCH_PROCFSD;
    std::string floor = PROCFSD_BENCH_FLOOR;
    std::string bindfs = "bindfs";
    std::string json = PROCFSD_BENCH_JSON;
    size_t procs = 2000;
    int rounds = 5;
    long w3_iters = 10000;
    long w4_procs = 1000;
    long w5_procs = 20000;
    std::vector<size_t> w6_levels{2000, 10000, 30000};
    std::set<std::string> only; // W1..W6; empty: all
    bool no_bindfs = false;

    bool wants(const std::string& w) const { return only.empty() || only.count(w); }
};

void usage(FILE* f)
{
    std::fprintf(f,
                 "usage: procfsd-bench [options]\n"
                 "  --procfsd PATH     the procfsd binary (default: the one built with this bench)\n"
                 "  --floor PATH       the procfsd-floor binary (default: the one built here)\n"
                 "  --bindfs PATH      bindfs (default: bindfs from PATH); --no-bindfs to skip it\n"
                 "  --procs N          background processes (default 2000, at most 30000)\n"
                 "  --rounds R         rounds per workload (default 5)\n"
                 "  --json PATH        results file (default %s)\n"
                 "  --w3-iters N       W3 open/read/close per file (default 10000)\n"
                 "  --w4-procs N       W4 processes per target (default 1000)\n"
                 "  --w5-procs N       W5 short-lived processes per target (default 20000)\n"
                 "  --w6-levels A,B,C  W6 process counts (default 2000,10000,30000)\n"
                 "  --only W1,W3,...   run only these workloads\n",
                 PROCFSD_BENCH_JSON);
}

std::optional<Options> parse_options(int argc, char** argv)
{
    Options o;
    auto need = [&](int& i) -> const char* {
        if (i + 1 >= argc) {
            std::fprintf(stderr, "procfsd-bench: %s needs a value\n", argv[i]);
            return nullptr;
        }
        return argv[++i];
    };
    auto number = [](const char* s, long lo, long hi, long& out) {
        char* end = nullptr;
        long v = std::strtol(s, &end, 10);
        if (!end || *end || v < lo || v > hi) {
            std::fprintf(stderr, "procfsd-bench: bad number %s (%ld..%ld)\n", s, lo, hi);
            return false;
        }
        out = v;
        return true;
    };
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        const char* v = nullptr;
        long n = 0;
        if (a == "-h" || a == "--help") {
            usage(stdout);
            std::exit(0);
        } else if (a == "--no-bindfs") {
            o.no_bindfs = true;
        } else if (a == "--procfsd" || a == "--floor" || a == "--bindfs" || a == "--json") {
            if (!(v = need(i)))
                return std::nullopt;
            (a == "--procfsd" ? o.procfsd : a == "--floor" ? o.floor : a == "--bindfs" ? o.bindfs : o.json) = v;
        } else if (a == "--procs") {
            if (!(v = need(i)) || !number(v, 1, 30000, n))
                return std::nullopt;
            o.procs = static_cast<size_t>(n);
        } else if (a == "--rounds") {
            if (!(v = need(i)) || !number(v, 1, 100, n))
                return std::nullopt;
            o.rounds = static_cast<int>(n);
        } else if (a == "--w3-iters") {
            if (!(v = need(i)) || !number(v, 1, 10'000'000, o.w3_iters))
                return std::nullopt;
        } else if (a == "--w4-procs") {
            if (!(v = need(i)) || !number(v, 1, 1'000'000, o.w4_procs))
                return std::nullopt;
        } else if (a == "--w5-procs") {
            if (!(v = need(i)) || !number(v, 1, 10'000'000, o.w5_procs))
                return std::nullopt;
        } else if (a == "--w6-levels") {
            if (!(v = need(i)))
                return std::nullopt;
            o.w6_levels.clear();
            std::istringstream in(v);
            std::string tok;
            while (std::getline(in, tok, ','))
                if (!number(tok.c_str(), 1, 60000, n))
                    return std::nullopt;
                else
                    o.w6_levels.push_back(static_cast<size_t>(n));
            std::sort(o.w6_levels.begin(), o.w6_levels.end());
        } else if (a == "--only") {
            if (!(v = need(i)))
                return std::nullopt;
            std::istringstream in(v);
            std::string tok;
            while (std::getline(in, tok, ','))
                o.only.insert(tok);
        } else {
            std::fprintf(stderr, "procfsd-bench: unknown argument %s\n", argv[i]);
            usage(stderr);
            return std::nullopt;
        }
    }
    return o;
}

// ---------------------------------------------------------------------------------------------
// The benchmark.

struct Goal {
    std::string id;
    std::string text;
    std::string value;
    bool met = false;
    bool measured = false;
};

class Bench {
public:
    explicit Bench(Options o) : opt_(std::move(o)) {}
    ~Bench() { teardown(); }

    int run();

private:
    // setup / teardown
    void raise_limits();
    bool setup_targets();
    bool start_procfsd(Target& t, const std::string& name, const std::string& opts);
    bool start_floor(size_t pids);
    bool start_bindfs();
    void teardown();
    std::vector<Target*> rotated(const std::vector<Target*>& v, int round) const;
    std::vector<Target*> up(std::initializer_list<Target*> list) const;

    // workloads
    void w1_scan(int round, const std::vector<Target*>& order);
    void w1_ps(int round, const std::vector<Target*>& order);
    void w2(int round, const std::vector<Target*>& order);
    void w3(int round, const std::vector<Target*>& order);
    void warmup();
    void w4();
    void w5();
    void w6();

    // report
    void report();
    void table_row(const std::string& label, const Series& s, double native, double floor,
                   const std::string& unit, const std::string& extra = "");
    void evaluate_goals();

    Options opt_;
    std::string dir_;
    Sleepers sleepers_;
    Target native_, off_, inv_, floor_, bindfs_, native_ns_, w6_;
    std::vector<Target*> main_targets_; // native, off, inv, floor, bindfs (those up)
    Json json_ = Json::object();
    std::vector<Goal> goals_;
    size_t system_pids_ = 0;
    std::string bindfs_mode_;
    long nofile_ = 0;

    // results
    std::map<std::string, Series> w1_scan_ms_, w1_ps_ms_, w2_pass2_ms_, w2_req1_, w2_req2_;
    // Pass-2 requests beyond one LOOKUP per path that failed (a process that ended between the
    // passes is looked up again and found gone: that is correct, not a cache miss).
    std::map<std::string, Series> w2_unexplained_;
    std::map<std::string, std::string> w2_breakdown_;
    std::map<std::string, ScanStats> w1_last_;
    std::map<std::string, long> w1_ps_lines_;
    std::map<std::string, std::string> w1_ps_problem_;
    std::map<std::string, std::map<std::string, Series>> w3_us_; // target -> file -> µs/op
    std::map<std::string, long> w3_errors_;
    Json w4_json_ = Json::object(), w5_json_ = Json::object(), w6_json_ = Json::object();
    std::string w4_text_, w5_text_, w6_text_;
    struct W4Result {
        Series lat_us;
        long stale = 0, resurrected = 0, late = 0, lookup_failed = 0, other_errors = 0, done = 0;
        bool aborted = false;
        Counters before, after;
    };
    std::map<std::string, W4Result> w4_;
    struct W5Result {
        double churn_per_s = 0, scans_per_s = 0, pids_per_s = 0, seconds = 0;
        long lookups_failed = 0, stale = 0, reused = 0, checked = 0, scans = 0, scan_errors = 0;
        long long tracked_before = -1, tracked_after = -1, pidfds_before = -1, pidfds_after = -1;
        long long nodes_before = -1, nodes_after = -1;
        long long live_before = -1, live_after = -1; // pids in /proc when the counters were read
        long rss_before = -1, rss_after = -1;
        bool done = false;
    };
    std::map<std::string, W5Result> w5_;
    struct W6Level {
        size_t wanted = 0, sleepers = 0;
        long looked_up = 0, failed = 0;
        std::map<int, long> errors;
        long long tracked = -1, pidfds = -1, nodes = -1;
        long rss = -1, fds = -1;
        long total_ok = 0;        // processes looked up so far (all levels)
        double bytes_per_proc = NAN, marginal = NAN, bytes_per_lookedup = NAN;
    };
    std::vector<W6Level> w6_levels_;
    long w6_base_rss_ = -1, w6_base_fds_ = -1;
    long long w6_base_tracked_ = -1;
    std::string w6_limit_note_, w6_budget_note_;
    int64_t start_ns_ = now_ns();
};

void Bench::raise_limits()
{
    Json lim = Json::object();
    struct rlimit rl{};
    ::getrlimit(RLIMIT_NOFILE, &rl);
    lim["nofile_soft_before"] = static_cast<double>(rl.rlim_cur);
    lim["nofile_hard"] = static_cast<double>(rl.rlim_max);
    struct rlimit want{RLIM_INFINITY, RLIM_INFINITY};
    if (::setrlimit(RLIMIT_NOFILE, &want) != 0) {
        want = {1u << 20, 1u << 20};
        if (::setrlimit(RLIMIT_NOFILE, &want) != 0) {
            rl.rlim_cur = rl.rlim_max;
            ::setrlimit(RLIMIT_NOFILE, &rl);
        }
    }
    ::getrlimit(RLIMIT_NOFILE, &rl);
    lim["nofile_soft"] = static_cast<double>(rl.rlim_cur);
    lim["nofile_hard_after"] = static_cast<double>(rl.rlim_max);
    nofile_ = static_cast<long>(rl.rlim_cur);

    ::getrlimit(RLIMIT_NPROC, &rl);
    want = {RLIM_INFINITY, RLIM_INFINITY};
    if (::setrlimit(RLIMIT_NPROC, &want) != 0) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NPROC, &rl);
    }
    ::getrlimit(RLIMIT_NPROC, &rl);
    lim["nproc_soft"] = rl.rlim_cur == RLIM_INFINITY ? -1.0 : static_cast<double>(rl.rlim_cur);
    lim["pid_max"] = std::atol(read_text("/proc/sys/kernel/pid_max").c_str());
    lim["threads_max"] = std::atol(read_text("/proc/sys/kernel/threads-max").c_str());
    json_["limits"] = lim;
}

bool Bench::start_procfsd(Target& t, const std::string& name, const std::string& opts)
{
    t.name = name;
    t.kind = Kind::procfsd;
    t.root = dir_ + "/" + name;
    t.control = strprintf("bench-%d-%s", static_cast<int>(::getpid()), name.c_str());
    ::mkdir(t.root.c_str(), 0755);
    register_mount(t.root);
    t.daemon = spawn_server({opt_.procfsd, "-f", "--log-level", "warn", "--control", t.control,
                             t.root, "-o", opts});
    if (t.daemon < 0) {
        t.problem = "cannot fork";
        return false;
    }
    if (!wait_ready(t, 15)) {
        note("%s: %s", name.c_str(), t.problem.c_str());
        stop_target(t);
        return false;
    }
    return true;
}

bool Bench::start_floor(size_t pids)
{
    floor_.name = "floor";
    floor_.kind = Kind::floor;
    floor_.root = dir_ + "/floor";
    ::mkdir(floor_.root.c_str(), 0755);
    register_mount(floor_.root);
    floor_.daemon = spawn_server({opt_.floor, "--pids", std::to_string(pids), floor_.root});
    if (floor_.daemon < 0 || !wait_ready(floor_, 15)) {
        note("floor: %s", floor_.problem.c_str());
        stop_target(floor_);
        return false;
    }
    return true;
}

bool Bench::start_bindfs()
{
    bindfs_.name = "bindfs";
    bindfs_.kind = Kind::bindfs;
    bindfs_.root = dir_ + "/bindfs";
    if (opt_.no_bindfs) {
        bindfs_.problem = "skipped (--no-bindfs)";
        return false;
    }
    // bindfs >= 1.17 has --direct-io; older ones (Debian 12: 1.14.7, libfuse 2) take the
    // generic FUSE option. Without it, /proc files (size 0) would read empty.
    auto help = run_command({opt_.bindfs, "--help"}, true);
    if (help.status < 0 || (WIFEXITED(help.status) && WEXITSTATUS(help.status) == 127)) {
        bindfs_.problem = "bindfs not found (scripts/dev bench installs it)";
        note("%s", bindfs_.problem.c_str());
        return false;
    }
    bool has_flag = (help.out + help.err).find("--direct-io") != std::string::npos;
    bindfs_mode_ = has_flag ? "--direct-io" : "-o direct_io";
    ::mkdir(bindfs_.root.c_str(), 0755);
    register_mount(bindfs_.root);
    std::vector<std::string> argv{opt_.bindfs, "-f"};
    if (has_flag) {
        argv.push_back("--direct-io");
    } else {
        argv.push_back("-o");
        argv.push_back("direct_io");
    }
    argv.push_back("/proc");
    argv.push_back(bindfs_.root);
    bindfs_.daemon = spawn_server(argv);
    if (bindfs_.daemon < 0 || !wait_ready(bindfs_, 15)) {
        note("bindfs: %s", bindfs_.problem.c_str());
        stop_target(bindfs_);
        return false;
    }
    auto version = run_command({opt_.bindfs, "--version"}, true);
    json_["bindfs"]["version"] = version.out.substr(0, version.out.find('\n'));
    json_["bindfs"]["options"] = bindfs_mode_ + " (single-threaded: bindfs's default)";
    return true;
}

bool Bench::setup_targets()
{
    char tmpl[] = "/tmp/procfsd-bench-XXXXXX";
    if (!::mkdtemp(tmpl)) {
        note("mkdtemp: %s", std::strerror(errno));
        return false;
    }
    dir_ = tmpl;
    ::chmod(dir_.c_str(), 0755);

    native_.name = "native";
    native_.root = "/proc";
    native_.fd = ::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
    native_.up = native_.measured = native_.fd >= 0;
    native_ns_ = native_;
    native_ns_.name = "native+ns";

    start_procfsd(off_, "procfsd-off", "entry_timeout=3600");
    start_procfsd(inv_, "procfsd-inv", "hidepid=invisible");
    start_floor(system_pids_);
    start_bindfs();
    main_targets_ = up({&native_, &off_, &inv_, &floor_, &bindfs_});

    Json t = Json::object();
    for (Target* x : {&native_, &off_, &inv_, &floor_, &bindfs_}) {
        Json j;
        j["root"] = x->root;
        j["up"] = x->up;
        if (!x->problem.empty())
            j["problem"] = x->problem;
        t[x->name] = j;
    }
    t["procfsd-off"]["options"] = "entry_timeout=3600 (hidepid=off)";
    t["procfsd-inv"]["options"] = "hidepid=invisible";
    json_["targets"] = t;
    return off_.up || inv_.up;
}

std::vector<Target*> Bench::up(std::initializer_list<Target*> list) const
{
    std::vector<Target*> out;
    for (Target* t : list)
        if (t->up)
            out.push_back(t);
    return out;
}

std::vector<Target*> Bench::rotated(const std::vector<Target*>& v, int round) const
{
    std::vector<Target*> out(v);
    if (!out.empty())
        std::rotate(out.begin(), out.begin() + (round % static_cast<int>(out.size())), out.end());
    return out;
}

void Bench::teardown()
{
    for (Target* t : {&off_, &inv_, &floor_, &bindfs_, &w6_})
        if (t->daemon > 0 || (!t->root.empty() && is_mounted(t->root)))
            stop_target(*t);
    if (native_.fd >= 0) {
        ::close(native_.fd);
        native_.fd = -1;
    }
    if (sleepers_.size())
        sleepers_.kill_all();
    if (!dir_.empty()) {
        ::rmdir(dir_.c_str());
        dir_.clear();
    }
}

// --- W1 ---------------------------------------------------------------------------------------

void Bench::warmup()
{
    // One unmeasured pass per target: every mount has its inodes for the processes, as a
    // long-running mount would; and a check that ps works on each.
    for (Target* t : main_targets_) {
        auto s = scan_once(t->fd);
        w1_last_[t->name] = s;
        if (s.errors)
            note("warm-up scan of %s: %ld errors out of %ld pids", t->name.c_str(), s.errors, s.pids);
    }
    if (!opt_.wants("W1"))
        return;
    std::vector<Target*> ps_targets(main_targets_);
    ps_targets.push_back(&native_ns_);
    for (Target* t : ps_targets) {
        std::vector<std::string> argv;
        if (t == &native_)
            argv = {"ps", "-eo", "pid,user,comm,args"};
        else
            argv = {"unshare", "-m", "sh", "-c",
                    "mount --bind '" + t->root + "' /proc && exec ps -eo pid,user,comm,args"};
        auto r = run_command(argv, true);
        long lines = static_cast<long>(std::count(r.out.begin(), r.out.end(), '\n'));
        w1_ps_lines_[t->name] = lines;
        if (!ok_status(r.status)) {
            w1_ps_problem_[t->name] = strprintf("exit status %d: %s", r.status,
                                                r.err.substr(0, 200).c_str());
            note("ps on %s fails: %s", t->name.c_str(), w1_ps_problem_[t->name].c_str());
        }
    }
}

void Bench::w1_scan(int, const std::vector<Target*>& order)
{
    for (Target* t : order) {
        auto s = scan_once(t->fd);
        w1_scan_ms_[t->name].add(s.seconds * 1e3);
        w1_last_[t->name] = s;
    }
}

void Bench::w1_ps(int round, const std::vector<Target*>& order)
{
    std::vector<Target*> list(order);
    list.insert(list.begin() + (round % static_cast<int>(list.size() + 1)), &native_ns_);
    for (Target* t : list) {
        if (w1_ps_problem_.count(t->name))
            continue;
        std::vector<std::string> argv;
        if (t == &native_)
            argv = {"ps", "-eo", "pid,user,comm,args"};
        else
            argv = {"unshare", "-m", "sh", "-c",
                    "mount --bind '" + t->root + "' /proc && exec ps -eo pid,user,comm,args >/dev/null"};
        auto r = run_command(argv, false);
        if (!ok_status(r.status)) {
            w1_ps_problem_[t->name] = strprintf("exit status %d", r.status);
            continue;
        }
        w1_ps_ms_[t->name].add(r.seconds * 1e3);
    }
}

// --- W2 ---------------------------------------------------------------------------------------

void Bench::w2(int, const std::vector<Target*>& order)
{
    for (Target* t : order) {
        auto pids = list_pids(t->fd);
        std::vector<std::string> paths;
        paths.reserve(pids.size() * 2);
        for (auto& p : pids) {
            paths.push_back(p);
            paths.push_back(p + "/status");
        }
        auto pass = [&] {
            struct stat st{};
            long errors = 0;
            for (auto& p : paths)
                if (::fstatat(t->fd, p.c_str(), &st, 0) != 0)
                    ++errors;
            return errors;
        };
        Counters before, c0, c1;
        if (t->is_procfsd())
            before = procfsd_counters(*t);
        pass();
        if (t->is_procfsd())
            c0 = procfsd_counters(*t);
        int64_t t0 = now_ns();
        long vanished = pass();
        double ms = seconds_since(t0) * 1e3;
        if (t->is_procfsd()) {
            c1 = procfsd_counters(*t);
            long long req2 = requests_total(c1) - requests_total(c0);
            w2_req1_[t->name].add(static_cast<double>(requests_total(c0) - requests_total(before)));
            w2_req2_[t->name].add(static_cast<double>(req2));
            w2_unexplained_[t->name].add(static_cast<double>(std::max(0LL, req2 - vanished)));
            std::string b = request_breakdown(c0, c1);
            if (!b.empty())
                w2_breakdown_[t->name] = b;
        }
        w2_pass2_ms_[t->name].add(ms);
    }
}

// --- W3 ---------------------------------------------------------------------------------------

void Bench::w3(int, const std::vector<Target*>& order)
{
    static std::vector<char> buf(1 << 16);
    for (Target* t : order) {
        for (const char* f : {"meminfo", "uptime", "self/stat"}) {
            long errors = 0;
            int64_t t0 = now_ns();
            for (long i = 0; i < opt_.w3_iters; ++i)
                if (read_whole(t->fd, f, buf.data(), buf.size()) < 0)
                    ++errors;
            double us = seconds_since(t0) * 1e6 / static_cast<double>(opt_.w3_iters);
            w3_us_[t->name][f].add(us);
            w3_errors_[t->name] += errors;
        }
    }
}

// --- W4 ---------------------------------------------------------------------------------------

void Bench::w4()
{
    auto targets = up({&native_, &off_, &inv_});
    for (Target* t : targets)
        if (t->is_procfsd())
            w4_[t->name].before = procfsd_counters(*t);
    std::vector<std::pair<Target*, pid_t>> seen;
    pid_t parent = ::getpid();
    for (long i = 0; i < opt_.w4_procs; ++i) {
        for (Target* t : rotated(targets, static_cast<int>(i))) {
            auto& r = w4_[t->name];
            if (r.aborted)
                continue;
            pid_t p = ::fork();
            if (p < 0) {
                ++r.other_errors;
                sleep_ms(1);
                continue;
            }
            if (p == 0) {
                child_reset_signals();
                ::prctl(PR_SET_PDEATHSIG, SIGKILL);
                if (::getppid() != parent)
                    ::_exit(0);
                for (;;)
                    ::pause();
            }
            char name[16], status[32];
            std::snprintf(name, sizeof name, "%d", static_cast<int>(p));
            std::snprintf(status, sizeof status, "%d/status", static_cast<int>(p));
            struct stat st{};
            if (::fstatat(t->fd, status, &st, 0) != 0)
                ++r.lookup_failed;
            ::kill(p, SIGKILL);
            while (::waitpid(p, nullptr, 0) < 0 && errno == EINTR) {
            }
            int64_t reaped = now_ns();
            bool gone = false;
            for (;;) {
                int rc = ::fstatat(t->fd, name, &st, 0);
                int64_t now = now_ns();
                if (rc != 0) {
                    if (errno == ENOENT) {
                        r.lat_us.add(static_cast<double>(now - reaped) / 1e3);
                        gone = true;
                    } else {
                        ++r.other_errors;
                    }
                    break;
                }
                if (now - reaped > 1'000'000'000) {
                    ++r.stale;
                    break;
                }
            }
            if (gone)
                for (int k = 0; k < 2; ++k)
                    if (::fstatat(t->fd, name, &st, 0) == 0 && ::kill(p, 0) != 0)
                        ++r.resurrected;
            ++r.done;
            if (r.stale > 10) {
                r.aborted = true;
                note("W4 on %s: more than 10 stale answers; stopping it early", t->name.c_str());
            }
            seen.emplace_back(t, p);
        }
    }
    // Late check: a reaped pid (not reused meanwhile) must still be gone on every mount.
    for (auto& [t, p] : seen) {
        char name[16];
        std::snprintf(name, sizeof name, "%d", static_cast<int>(p));
        struct stat st{};
        if (::kill(p, 0) != 0 && errno == ESRCH && ::fstatat(t->fd, name, &st, 0) == 0 &&
            ::kill(p, 0) != 0)
            ++w4_[t->name].late;
    }
    for (Target* t : targets)
        if (t->is_procfsd())
            w4_[t->name].after = procfsd_counters(*t);
}

// --- W5 ---------------------------------------------------------------------------------------

void Bench::w5()
{
    for (Target* t : up({&native_, &off_, &inv_})) {
        W5Result r;
        pid_t daemon = -1;
        if (t->is_procfsd()) {
            // Every live process looked up (tracked), then the counters: tracked_processes minus
            // the processes alive is what the daemon holds beyond them (ideally 0 or so).
            scan_once(t->fd);
            auto c = procfsd_counters(*t);
            r.live_before = static_cast<long long>(list_pids(native_.fd).size());
            daemon = daemon_pid_of(*t, c);
            r.tracked_before = counter(c, "tracked_processes");
            r.pidfds_before = counter(c, "pidfds");
            r.nodes_before = counter(c, "nodes");
            r.rss_before = rss_kib(daemon);
        }
        std::atomic<bool> stop{false};
        std::atomic<long> scans{0}, scan_pids{0}, scan_errors{0};
        std::thread scanner([&] {
            while (!stop.load()) {
                auto s = scan_once(t->fd);
                if (stop.load())
                    break;
                scans.fetch_add(1);
                scan_pids.fetch_add(s.pids);
                scan_errors.fetch_add(s.errors);
            }
        });
        std::deque<std::pair<pid_t, int64_t>> pending;
        auto check = [&](pid_t p) {
            char name[16];
            std::snprintf(name, sizeof name, "%d", static_cast<int>(p));
            struct stat st{};
            if (::kill(p, 0) == 0) {
                ++r.reused; // the pid names another process now: nothing to check
                return;
            }
            ++r.checked;
            if (::fstatat(t->fd, name, &st, 0) == 0 && ::kill(p, 0) != 0)
                ++r.stale;
        };
        int64_t t0 = now_ns();
        long forked = 0;
        for (long i = 0; i < opt_.w5_procs; ++i) {
            pid_t p = ::fork();
            if (p < 0) {
                sleep_ms(1);
                continue;
            }
            if (p == 0)
                ::_exit(0);
            ++forked;
            char status[32];
            std::snprintf(status, sizeof status, "%d/status", static_cast<int>(p));
            struct stat st{};
            if (::fstatat(t->fd, status, &st, 0) != 0)
                ++r.lookups_failed;
            while (::waitpid(p, nullptr, 0) < 0 && errno == EINTR) {
            }
            int64_t now = now_ns();
            pending.emplace_back(p, now);
            while (!pending.empty() && now - pending.front().second >= 1'000'000'000) {
                check(pending.front().first);
                pending.pop_front();
            }
        }
        r.seconds = seconds_since(t0);
        stop.store(true);
        scanner.join();
        r.scans = scans.load();
        r.scan_errors = scan_errors.load();
        r.churn_per_s = static_cast<double>(forked) / r.seconds;
        r.scans_per_s = static_cast<double>(r.scans) / r.seconds;
        r.pids_per_s = static_cast<double>(scan_pids.load()) / r.seconds;
        // The rest once a second has passed since their reap.
        while (!pending.empty()) {
            int64_t wait = pending.front().second + 1'000'000'000 - now_ns();
            if (wait > 0)
                std::this_thread::sleep_for(std::chrono::nanoseconds(wait));
            check(pending.front().first);
            pending.pop_front();
        }
        if (t->is_procfsd()) {
            // Settle: every reap handled, the counters back where they were (up to 5 s).
            // Processes born on the machine meanwhile count once looked up, as they did before.
            Counters c;
            int64_t s0 = now_ns();
            do {
                scan_once(t->fd);
                c = procfsd_counters(*t);
                r.live_after = static_cast<long long>(list_pids(native_.fd).size());
                if (counter(c, "tracked_processes") - r.live_after <= r.tracked_before - r.live_before)
                    break;
                sleep_ms(200);
            } while (seconds_since(s0) < 5);
            r.tracked_after = counter(c, "tracked_processes");
            r.pidfds_after = counter(c, "pidfds");
            r.nodes_after = counter(c, "nodes");
            r.rss_after = rss_kib(daemon);
        }
        r.done = true;
        w5_[t->name] = r;
    }
}

// --- W6 ---------------------------------------------------------------------------------------

void Bench::w6()
{
    // A fresh daemon (hidepid=off), so that its RSS is what the tracked processes cost, not what
    // the earlier workloads left in its heap.
    if (!start_procfsd(w6_, "procfsd-w6", "entry_timeout=3600"))
        return;
    auto c = procfsd_counters(w6_);
    pid_t daemon = daemon_pid_of(w6_, c);
    w6_base_tracked_ = counter(c, "tracked_processes");
    w6_base_rss_ = rss_kib(daemon);
    w6_base_fds_ = count_fds(daemon);
    size_t looked = 0;
    W6Level prev;
    prev.tracked = w6_base_tracked_;
    prev.rss = w6_base_rss_;
    for (size_t level : opt_.w6_levels) {
        W6Level l;
        l.wanted = level;
        int err = 0;
        // Leave pids for everything else (the daemons' threads, our commands, other users):
        // pid_max minus the tasks that exist now (loadavg's 4th field) minus a reserve.
        long pid_max = std::atol(read_text("/proc/sys/kernel/pid_max").c_str());
        std::string loadavg = read_text("/proc/loadavg");
        auto slash = loadavg.find('/');
        long tasks = slash == std::string::npos ? 0 : std::atol(loadavg.c_str() + slash + 1);
        long room = pid_max - tasks - 1024 + static_cast<long>(sleepers_.size());
        size_t target = level;
        if (room > 0 && static_cast<long>(level) > room) {
            target = static_cast<size_t>(room);
            w6_limit_note_ = strprintf("%zu processes wanted, %zu started: pid_max is %ld and %ld tasks "
                                       "exist (1024 kept free)", level, target, pid_max, tasks);
            note("W6: %s", w6_limit_note_.c_str());
        }
        int64_t t0 = now_ns();
        l.sleepers = sleepers_.grow_to(target, &err);
        if (l.sleepers < target) {
            w6_limit_note_ = strprintf("%zu processes wanted, %zu started: fork failed with %s "
                                       "(pid_max %ld, processes on the machine %zu)",
                                       level, l.sleepers, std::strerror(err),
                                       std::atol(read_text("/proc/sys/kernel/pid_max").c_str()),
                                       list_pids(native_.fd).size());
            note("W6: %s", w6_limit_note_.c_str());
        }
        double spawn_s = seconds_since(t0);
        t0 = now_ns();
        auto& pids = sleepers_.pids();
        for (; looked < pids.size(); ++looked) {
            char name[16], status[32];
            std::snprintf(name, sizeof name, "%d", static_cast<int>(pids[looked]));
            std::snprintf(status, sizeof status, "%d/status", static_cast<int>(pids[looked]));
            struct stat st{};
            if (::fstatat(w6_.fd, name, &st, 0) != 0 || ::fstatat(w6_.fd, status, &st, 0) != 0) {
                ++l.errors[errno];
                ++l.failed;
            } else {
                ++l.looked_up;
            }
        }
        double lookup_s = seconds_since(t0);
        l.total_ok = prev.total_ok + l.looked_up;
        sleep_ms(200);
        c = procfsd_counters(w6_);
        l.tracked = counter(c, "tracked_processes");
        l.pidfds = counter(c, "pidfds");
        l.nodes = counter(c, "nodes");
        l.rss = rss_kib(daemon);
        l.fds = count_fds(daemon);
        if (l.tracked > w6_base_tracked_)
            l.bytes_per_proc = static_cast<double>(l.rss - w6_base_rss_) * 1024.0 /
                               static_cast<double>(l.tracked - w6_base_tracked_);
        if (l.tracked > prev.tracked)
            l.marginal = static_cast<double>(l.rss - prev.rss) * 1024.0 /
                         static_cast<double>(l.tracked - prev.tracked);
        if (l.total_ok > 0)
            l.bytes_per_lookedup = static_cast<double>(l.rss - w6_base_rss_) * 1024.0 /
                                   static_cast<double>(l.total_ok);
        note("W6 level %zu: %zu processes (spawned in %.1f s), looked up in %.1f s, tracked %lld, "
             "RSS %ld KiB",
             level, l.sleepers, spawn_s, lookup_s, l.tracked, l.rss);
        w6_levels_.push_back(l);
        prev = l;
        if (l.sleepers < level)
            break;
    }
    w6_budget_note_ = strprintf("pidfd budget: 3/4 of the daemon's RLIMIT_NOFILE (%ld) = %ld tracked "
                                "processes; beyond it processes are served untracked and uncached",
                                nofile_, nofile_ / 4 * 3);
    stop_target(w6_);
}

// --- report -----------------------------------------------------------------------------------

std::string fmt_num(double v, int prec = 1)
{
    if (!std::isfinite(v))
        return "-";
    return strprintf("%.*f", prec, v);
}

std::string fmt_ratio(double v)
{
    if (!std::isfinite(v))
        return "-";
    return strprintf("%.2fx", v);
}

void Bench::table_row(const std::string& label, const Series& s, double native, double floor,
                      const std::string& unit, const std::string& extra)
{
    double m = s.median();
    int prec = m < 10 ? 2 : 1;
    std::printf("  %-12s %10s %10s %10s %-5s %9s %9s  %s\n", label.c_str(), fmt_num(m, prec).c_str(),
                fmt_num(s.min(), prec).c_str(), fmt_num(s.max(), prec).c_str(), unit.c_str(),
                fmt_ratio(m / native).c_str(), fmt_ratio(m / floor).c_str(), extra.c_str());
}

Json series_json(const Series& s, double native, double floor)
{
    Json j = s.json();
    j["ratio_native"] = s.median() / native;
    if (std::isfinite(floor))
        j["ratio_floor"] = s.median() / floor;
    return j;
}

void Bench::report()
{
    auto header = [](const char* title) {
        std::printf("\n%s\n  %-12s %10s %10s %10s %-5s %9s %9s\n", title, "target", "median", "min",
                    "max", "unit", "x native", "x floor");
    };
    auto med = [](std::map<std::string, Series>& m, const std::string& k) {
        auto it = m.find(k);
        return it == m.end() ? NAN : it->second.median();
    };
    std::vector<std::string> names;
    for (Target* t : main_targets_)
        names.push_back(t->name);

    std::printf("\nprocfsd benchmark: %zu processes listed in /proc (%zu started by the "
                "bench), %d rounds, targets alternating\n",
                system_pids_, opt_.procs, opt_.rounds);
    for (Target* t : {&native_, &off_, &inv_, &floor_, &bindfs_, &w6_})
        if (!t->measured && !t->name.empty())
            std::printf("  (%s not measured: %s)\n", t->name.c_str(), t->problem.c_str());
        else if (!t->problem.empty())
            std::printf("  (%s: %s)\n", t->name.c_str(), t->problem.c_str());

    if (!w1_scan_ms_.empty()) {
        auto& last = w1_last_["native"];
        header(strprintf("W1 ps-like scan, in process: readdir + per pid stat(dir), read stat, status, "
                         "cmdline (%ld pids)", last.pids).c_str());
        Json j;
        double n = med(w1_scan_ms_, "native"), f = med(w1_scan_ms_, "floor");
        for (auto& name : names) {
            auto& s = w1_scan_ms_[name];
            auto& ls = w1_last_[name];
            table_row(name, s, n, f, "ms",
                      strprintf("%.1f us/pid%s", s.median() * 1e3 / std::max(1L, ls.pids),
                                ls.errors ? strprintf(", %ld errors", ls.errors).c_str() : ""));
            j[name] = series_json(s, n, f);
            j[name]["pids"] = ls.pids;
            j[name]["errors_last_round"] = ls.errors;
        }
        json_["W1_scan_ms"] = j;
    }
    if (!w1_ps_ms_.empty() || !w1_ps_problem_.empty()) {
        header("W1 ps -eo pid,user,comm,args (FUSE targets: unshare -m, mount --bind X /proc)");
        Json j;
        double n = med(w1_ps_ms_, "native"), f = med(w1_ps_ms_, "floor");
        std::vector<std::string> ps_names(names);
        ps_names.insert(ps_names.begin() + 1, "native+ns");
        for (auto& name : ps_names) {
            std::string extra = strprintf("%ld lines", w1_ps_lines_[name]);
            if (w1_ps_problem_.count(name))
                extra += "; FAILED: " + w1_ps_problem_[name];
            if (name == "native+ns")
                extra += " (ps over /proc bound in a new namespace: the unshare+mount cost)";
            table_row(name, w1_ps_ms_[name], n, f, "ms", extra);
            j[name] = series_json(w1_ps_ms_[name], n, f);
            j[name]["lines"] = w1_ps_lines_[name];
            if (w1_ps_problem_.count(name))
                j[name]["problem"] = w1_ps_problem_[name];
        }
        json_["W1_ps_ms"] = j;
    }
    if (!w2_pass2_ms_.empty()) {
        header("W2 warm stat: stat <pid> and <pid>/status for every pid, second pass");
        Json j;
        double n = med(w2_pass2_ms_, "native"), f = med(w2_pass2_ms_, "floor");
        for (auto& name : names) {
            std::string extra;
            if (w2_req2_.count(name))
                extra = strprintf("FUSE requests: pass 1 %.0f, pass 2 %.0f (median)%s",
                                  w2_req1_[name].median(), w2_req2_[name].median(),
                                  w2_breakdown_.count(name) ? (" [" + w2_breakdown_[name] + "]").c_str() : "");
            table_row(name, w2_pass2_ms_[name], n, f, "ms", extra);
            j[name] = series_json(w2_pass2_ms_[name], n, f);
            if (w2_req2_.count(name)) {
                j[name]["requests_pass1"] = w2_req1_[name].json();
                j[name]["requests_pass2"] = w2_req2_[name].json();
                j[name]["requests_pass2_not_for_vanished_processes"] = w2_unexplained_[name].json();
                if (w2_breakdown_.count(name))
                    j[name]["requests_pass2_last"] = w2_breakdown_[name];
            }
        }
        json_["W2_pass2_ms"] = j;
    }
    if (!w3_us_.empty()) {
        Json j;
        for (const char* f : {"meminfo", "uptime", "self/stat"}) {
            header(strprintf("W3 open/read/close %s, %ld times", f, opt_.w3_iters).c_str());
            double n = w3_us_["native"][f].median(), fl = w3_us_["floor"][f].median();
            for (auto& name : names) {
                table_row(name, w3_us_[name][f], n, fl, "us/op",
                          w3_errors_[name] ? strprintf("%ld errors in all", w3_errors_[name]) : "");
                j[name][f] = series_json(w3_us_[name][f], n, fl);
            }
        }
        json_["W3_us_per_op"] = j;
    }
    if (!w4_.empty()) {
        std::printf("\nW4 exit latency: reap (waitpid) to ENOENT for stat M/<pid>, %ld processes per target\n",
                    opt_.w4_procs);
        std::printf("  %-12s %6s %9s %9s %9s %9s %6s %6s %6s %6s\n", "target", "n", "p50 us", "p90 us",
                    "p99 us", "max us", "stale", "resur", "late", "lkfail");
        Json j;
        for (auto& [name, r] : w4_) {
            std::printf("  %-12s %6zu %9s %9s %9s %9s %6ld %6ld %6ld %6ld%s\n", name.c_str(),
                        r.lat_us.v.size(), fmt_num(r.lat_us.pct(50)).c_str(),
                        fmt_num(r.lat_us.pct(90)).c_str(), fmt_num(r.lat_us.pct(99)).c_str(),
                        fmt_num(r.lat_us.max()).c_str(), r.stale, r.resurrected, r.late,
                        r.lookup_failed, r.aborted ? "  (stopped early)" : "");
            Json x;
            x["n"] = static_cast<double>(r.lat_us.v.size());
            x["p50_us"] = r.lat_us.pct(50);
            x["p90_us"] = r.lat_us.pct(90);
            x["p99_us"] = r.lat_us.pct(99);
            x["max_us"] = r.lat_us.max();
            x["mean_us"] = r.lat_us.mean();
            x["stale_over_1s"] = r.stale;
            x["success_after_enoent"] = r.resurrected;
            x["success_at_late_check"] = r.late;
            x["lookups_failed"] = r.lookup_failed;
            x["other_errors"] = r.other_errors;
            x["stopped_early"] = r.aborted;
            if (!r.after.empty()) {
                // The daemon's own view: reap event to the end of its invalidations.
                Json h = Json::object();
                std::string hist;
                for (auto& [k, v] : r.after)
                    if (k.rfind("reap_latency_us_lt_", 0) == 0) {
                        long long d = v - std::max(0LL, counter(r.before, k));
                        if (d > 0) {
                            h[k.substr(19)] = d;
                            hist += strprintf(" <%sus:%lld", k.substr(19).c_str(), d);
                        }
                    }
                x["daemon_reap_to_invalidation_histogram"] = h;
                long long sent = counter(r.after, "invalidations_sent") - counter(r.before, "invalidations_sent");
                long long failed = counter(r.after, "invalidations_failed") - counter(r.before, "invalidations_failed");
                x["invalidations_sent"] = sent;
                x["invalidations_failed"] = failed;
                std::printf("  %-12s daemon: reap->invalidated%s; invalidations sent %lld, failed %lld\n", "",
                            hist.c_str(), sent, failed);
            }
            j[name] = x;
        }
        json_["W4"] = j;
    }
    if (!w5_.empty()) {
        std::printf("\nW5 churn: %ld short-lived processes (fork, stat M/<pid>/status, _exit, reap) "
                    "while W1 scans in a loop\n", opt_.w5_procs);
        std::printf("  %-12s %8s %8s %9s %7s %6s %7s %6s  %-30s %-15s %-17s\n", "target", "procs/s",
                    "scans/s", "pids/s", "lkfail", "stale", "checked", "reused", "tracked b->a",
                    "pidfds b->a", "RSS KiB b->a");
        Json j;
        for (auto& [name, r] : w5_) {
            std::string tr = r.tracked_before >= 0
                                 ? strprintf("%lld->%lld (alive %lld->%lld)", r.tracked_before, r.tracked_after,
                                             r.live_before, r.live_after)
                                 : "-";
            std::string pf = r.pidfds_before >= 0 ? strprintf("%lld->%lld", r.pidfds_before, r.pidfds_after) : "-";
            std::string rs = r.rss_before >= 0
                                 ? strprintf("%ld->%ld (%+.1f%%)", r.rss_before, r.rss_after,
                                             100.0 * static_cast<double>(r.rss_after - r.rss_before) /
                                                 static_cast<double>(r.rss_before))
                                 : "-";
            std::printf("  %-12s %8.0f %8.2f %9.0f %7ld %6ld %7ld %6ld  %-30s %-15s %-17s\n", name.c_str(),
                        r.churn_per_s, r.scans_per_s, r.pids_per_s, r.lookups_failed, r.stale,
                        r.checked, r.reused, tr.c_str(), pf.c_str(), rs.c_str());
            Json x;
            x["seconds"] = r.seconds;
            x["churn_procs_per_s"] = r.churn_per_s;
            x["scans_per_s"] = r.scans_per_s;
            x["scanned_pids_per_s"] = r.pids_per_s;
            x["scans"] = r.scans;
            x["scan_errors"] = r.scan_errors;
            x["lookups_failed"] = r.lookups_failed;
            x["stale"] = r.stale;
            x["checked"] = r.checked;
            x["pid_reused_skipped"] = r.reused;
            if (r.tracked_before >= 0) {
                x["tracked_before"] = r.tracked_before;
                x["tracked_after"] = r.tracked_after;
                x["pidfds_before"] = r.pidfds_before;
                x["pidfds_after"] = r.pidfds_after;
                x["nodes_before"] = r.nodes_before;
                x["nodes_after"] = r.nodes_after;
                x["rss_kib_before"] = r.rss_before;
                x["processes_alive_before"] = r.live_before;
                x["processes_alive_after"] = r.live_after;
                x["rss_kib_after"] = r.rss_after;
            }
            j[name] = x;
        }
        json_["W5"] = j;
    }
    if (!w6_levels_.empty()) {
        std::printf("\nW6 memory and scale (a fresh hidepid=off daemon; stat <pid> and <pid>/status of "
                    "each bench process): baseline RSS %ld KiB, %ld fds, %lld tracked\n",
                    w6_base_rss_, w6_base_fds_, w6_base_tracked_);
        std::printf("  %8s %8s %8s %7s %8s %8s %8s %9s %9s %9s %9s  %s\n", "wanted", "procs", "ok", "failed",
                    "tracked", "pidfds", "fds", "RSS KiB", "B/tracked", "B/trk-marg", "B/lookedup", "errors");
        Json j;
        Json levels = Json::array();
        for (auto& l : w6_levels_) {
            std::string errs;
            for (auto& [e, n] : l.errors)
                errs += strprintf("%s%s x%ld", errs.empty() ? "" : ", ", strerrorname_np(e) ? strerrorname_np(e) : "?", n);
            std::printf("  %8zu %8zu %8ld %7ld %8lld %8lld %8ld %9ld %9s %9s %9s  %s\n", l.wanted, l.sleepers,
                        l.total_ok, l.failed, l.tracked, l.pidfds, l.fds, l.rss,
                        fmt_num(l.bytes_per_proc, 0).c_str(), fmt_num(l.marginal, 0).c_str(),
                        fmt_num(l.bytes_per_lookedup, 0).c_str(), errs.c_str());
            Json x;
            x["wanted"] = l.wanted;
            x["processes"] = l.sleepers;
            x["looked_up"] = l.looked_up;
            x["lookup_failures"] = l.failed;
            x["lookup_errors"] = errs;
            x["tracked_processes"] = l.tracked;
            x["pidfds"] = l.pidfds;
            x["nodes"] = l.nodes;
            x["daemon_fds"] = l.fds;
            x["rss_kib"] = l.rss;
            x["bytes_per_tracked_process"] = l.bytes_per_proc;
            x["bytes_per_tracked_process_marginal"] = l.marginal;
            x["looked_up_total"] = l.total_ok;
            x["bytes_per_looked_up_process"] = l.bytes_per_lookedup;
            levels.push(x);
        }
        if (!w6_limit_note_.empty())
            std::printf("  limit: %s\n", w6_limit_note_.c_str());
        std::printf("  %s\n", w6_budget_note_.c_str());
        j["baseline_rss_kib"] = w6_base_rss_;
        j["baseline_fds"] = w6_base_fds_;
        j["baseline_tracked"] = w6_base_tracked_;
        j["levels"] = levels;
        if (!w6_limit_note_.empty())
            j["limit"] = w6_limit_note_;
        j["pidfd_budget"] = w6_budget_note_;
        json_["W6"] = j;
    }
    evaluate_goals();
    std::printf("\nTargets\n");
    Json g = Json::array();
    for (auto& goal : goals_) {
        // A target whose workload or baseline did not run has no figure to show.
        std::printf("  %-5s %-62s %s\n", !goal.measured ? "n/a" : goal.met ? "MET" : "MISS",
                    goal.text.c_str(), goal.measured ? goal.value.c_str() : "not run");
        Json x;
        x["id"] = goal.id;
        x["target"] = goal.text;
        x["measured"] = goal.measured;
        x["met"] = goal.met;
        if (goal.measured)
            x["value"] = goal.value;
        g.push(x);
    }
    json_["goals"] = g;
}

void Bench::evaluate_goals()
{
    auto med = [](std::map<std::string, Series>& m, const std::string& k) {
        auto it = m.find(k);
        return it == m.end() ? NAN : it->second.median();
    };
    auto add = [&](std::string id, std::string text, bool measured, bool met, std::string value) {
        goals_.push_back({std::move(id), std::move(text), std::move(value), measured && met, measured});
    };
    for (const char* m : {"procfsd-off", "procfsd-inv"}) {
        std::string tag = m == std::string("procfsd-off") ? "off" : "inv";
        double n = med(w1_ps_ms_, "native"), x = med(w1_ps_ms_, m), b = med(w1_ps_ms_, "bindfs");
        add("W1ps-native-" + tag, "W1 ps: " + std::string(m) + " <= 3.0x native", std::isfinite(n / x),
            x / n <= 3.0, strprintf("%.2fx (%.1f vs %.1f ms)", x / n, x, n));
        add("W1ps-bindfs-" + tag, "W1 ps: " + std::string(m) + " >= 2x faster than bindfs",
            std::isfinite(b / x), b / x >= 2.0, strprintf("%.2fx faster (%.1f vs %.1f ms)", b / x, x, b));
        double f = med(w1_scan_ms_, "floor"), s = med(w1_scan_ms_, m);
        add("W1scan-floor-" + tag, "W1 in-process: " + std::string(m) + " <= 1.2x floor",
            std::isfinite(s / f), s / f <= 1.2, strprintf("%.2fx (%.1f vs %.1f ms)", s / f, s, f));
        double r2 = w2_req2_.count(m) ? w2_req2_[m].max() : NAN;
        double u2 = w2_unexplained_.count(m) ? w2_unexplained_[m].max() : NAN;
        add("W2-requests-" + tag, "W2: " + std::string(m) + " second pass sends no FUSE request",
            std::isfinite(u2), u2 == 0,
            strprintf("%.0f requests at most per pass, %.0f not for processes gone meanwhile%s", r2, u2,
                      tag == "inv" ? "; hidepid= mounts never cache pid entries (by design)" : ""));
        double w2n = med(w2_pass2_ms_, "native"), w2x = med(w2_pass2_ms_, m);
        add("W2-native-" + tag, "W2: " + std::string(m) + " second pass <= 1.3x native",
            std::isfinite(w2x / w2n), w2x / w2n <= 1.3, strprintf("%.2fx (%.2f vs %.2f ms)", w2x / w2n, w2x, w2n));
        double tf = 0, tx = 0;
        std::string per;
        bool all = true;
        for (const char* file : {"meminfo", "uptime", "self/stat"}) {
            double a = w3_us_.count("floor") ? w3_us_["floor"][file].median() : NAN;
            double c = w3_us_.count(m) ? w3_us_[m][file].median() : NAN;
            tf += a;
            tx += c;
            all = all && c / a <= 1.2;
            per += strprintf("%s%s %.2fx", per.empty() ? "" : ", ", file, c / a);
        }
        add("W3-floor-" + tag, "W3: " + std::string(m) + " <= 1.2x floor (each file)", std::isfinite(tx / tf),
            all, strprintf("%s (sum %.1f vs %.1f us)", per.c_str(), tx, tf));
        if (w4_.count(m)) {
            auto& r = w4_[m];
            add("W4-p99-" + tag, "W4: " + std::string(m) + " exit latency p99 <= 1 ms", !r.lat_us.empty(),
                r.lat_us.pct(99) <= 1000 && r.stale == 0,
                strprintf("p99 %.0f us, p50 %.0f us, max %.0f us", r.lat_us.pct(99), r.lat_us.pct(50),
                          r.lat_us.max()));
            long stale = r.stale + r.resurrected + r.late;
            add("W4-stale-" + tag, "W4: " + std::string(m) + " zero stale answers", r.done > 0, stale == 0,
                strprintf("%ld stale (>1 s: %ld, after ENOENT: %ld, late: %ld) of %ld", stale, r.stale,
                          r.resurrected, r.late, r.done));
        }
        if (w5_.count(m)) {
            auto& r = w5_[m];
            add("W5-stale-" + tag, "W5: " + std::string(m) + " zero stale answers", r.done, r.stale == 0,
                strprintf("%ld stale of %ld checked", r.stale, r.checked));
            // Against the processes alive at each reading (others come and go on the machine):
            // tracked processes beyond those alive can only be dead ones still held. A few may
            // have died between the scan and the listing.
            long long excess_before = r.tracked_before - r.live_before;
            long long excess_after = r.tracked_after - r.live_after;
            long long pidfd_excess_after = r.pidfds_after - r.live_after;
            long long allowed = std::max(0LL, excess_before) + 5;
            bool back = excess_after <= allowed && pidfd_excess_after <= allowed;
            add("W5-counters-" + tag, "W5: " + std::string(m) + " tracked/pidfds back to baseline",
                r.done && r.tracked_before >= 0, back,
                strprintf("tracked %lld->%lld, pidfds %lld->%lld, with %lld->%lld processes alive "
                          "(excess %+lld -> %+lld)",
                          r.tracked_before, r.tracked_after, r.pidfds_before, r.pidfds_after,
                          r.live_before, r.live_after, excess_before, excess_after));
            double growth = static_cast<double>(r.rss_after - r.rss_before) / static_cast<double>(r.rss_before);
            add("W5-rss-" + tag, "W5: " + std::string(m) + " daemon RSS within 10% of baseline",
                r.done && r.rss_before > 0, std::fabs(growth) <= 0.10,
                strprintf("%+.1f%% (%ld -> %ld KiB)", growth * 100, r.rss_before, r.rss_after));
        }
    }
    if (!w6_levels_.empty()) {
        double worst = 0;
        std::string per;
        // Per process looked up (tracked or, past the pidfd budget, served untracked: both cost
        // their nodes); the same as per tracked process while every one is tracked.
        for (auto& l : w6_levels_) {
            if (std::isfinite(l.bytes_per_lookedup))
                worst = std::max(worst, l.bytes_per_lookedup);
            per += strprintf("%s%ld: %.0f B", per.empty() ? "" : ", ", l.total_ok, l.bytes_per_lookedup);
        }
        add("W6-bytes", "W6: <= 1 KiB of daemon RSS per tracked process", worst > 0, worst <= 1024,
            "per process looked up, " + per);
    }
}

int Bench::run()
{
    if (::geteuid() != 0) {
        std::fprintf(stderr, "procfsd-bench: run as root (FUSE mounts, mount namespaces)\n");
        return 1;
    }
    g_procfsd_bin = opt_.procfsd;
    for (auto* bin : {&opt_.procfsd, &opt_.floor})
        if (::access(bin->c_str(), X_OK) != 0) {
            std::fprintf(stderr, "procfsd-bench: %s: %s\n", bin->c_str(), std::strerror(errno));
            return 1;
        }
    install_signal_handlers();
    raise_limits();

    struct utsname u{};
    ::uname(&u);
    json_["kernel"] = std::string(u.release);
    json_["cpus"] = static_cast<double>(std::thread::hardware_concurrency());
    json_["started"] = static_cast<double>(std::time(nullptr));
    auto version = run_command({opt_.procfsd, "--version"}, true);
    json_["procfsd_version"] = version.out.substr(0, version.out.find('\n'));
    Json cfg;
    cfg["procs"] = opt_.procs;
    cfg["rounds"] = opt_.rounds;
    cfg["w3_iters"] = opt_.w3_iters;
    cfg["w4_procs"] = opt_.w4_procs;
    cfg["w5_procs"] = opt_.w5_procs;
    Json levels = Json::array();
    for (auto l : opt_.w6_levels)
        levels.push(l);
    cfg["w6_levels"] = levels;
    cfg["procfsd"] = opt_.procfsd;
    cfg["floor"] = opt_.floor;
    json_["config"] = cfg;

    int err = 0;
    int64_t t0 = now_ns();
    size_t got = sleepers_.grow_to(opt_.procs, &err);
    if (got < opt_.procs) {
        std::string msg = strprintf("started %zu of %zu background processes: %s", got, opt_.procs,
                                    std::strerror(err));
        note("%s", msg.c_str());
        json_["procs_problem"] = msg;
    }
    note("%zu background processes started in %.1f s", got, seconds_since(t0));
    json_["procs_started"] = got;

    system_pids_ = list_pids(::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC)).size();
    json_["pids_in_proc"] = system_pids_;
    if (!setup_targets()) {
        note("procfsd did not mount; nothing to measure");
        return 1;
    }
    std::string shown;
    for (Target* t : main_targets_)
        shown += " " + t->name;
    note("targets:%s (mounts under %s)", shown.c_str(), dir_.c_str());

    warmup();
    for (int round = 0; round < opt_.rounds; ++round) {
        int64_t r0 = now_ns();
        auto order = rotated(main_targets_, round);
        if (opt_.wants("W1")) {
            w1_scan(round, order);
            w1_ps(round, order);
        }
        if (opt_.wants("W2"))
            w2(round, order);
        if (opt_.wants("W3"))
            w3(round, order);
        note("round %d of %d done in %.1f s", round + 1, opt_.rounds, seconds_since(r0));
    }
    if (opt_.wants("W4")) {
        int64_t s = now_ns();
        w4();
        note("W4 done in %.1f s", seconds_since(s));
    }
    if (opt_.wants("W5")) {
        int64_t s = now_ns();
        w5();
        note("W5 done in %.1f s", seconds_since(s));
    }
    if (opt_.wants("W6")) {
        int64_t s = now_ns();
        w6();
        note("W6 done in %.1f s", seconds_since(s));
    }
    int64_t s = now_ns();
    teardown();
    note("stopped every server and process in %.1f s", seconds_since(s));

    report();
    double total = seconds_since(start_ns_);
    json_["seconds"] = total;
    std::printf("\ntotal time %.0f s\n", total);
    std::ofstream out(opt_.json);
    out << json_.dump();
    if (!out) {
        std::fprintf(stderr, "procfsd-bench: cannot write %s\n", opt_.json.c_str());
        return 1;
    }
    std::printf("results: %s\n", opt_.json.c_str());
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    auto opt = parse_options(argc, argv);
    if (!opt)
        return 2;
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    Bench bench(std::move(*opt));
    return bench.run();
}
