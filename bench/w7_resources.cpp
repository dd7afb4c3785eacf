// SPDX-License-Identifier: GPL-2.0-or-later
// W7, a container's resource files (resources=cgroup): open/read/close of meminfo, --w3-iters
// times per round, by a reader in a 300 MiB cgroup, on procfsd's plain mount, on a
// resources=cgroup mount and on LXCFS, alternating; then loadavg's background cost: 100 cgroups
// of 100 threads each, each read once on both, and the two daemons' CPU over 30 s.

#include "cgroup_tools.hpp"
#include "clock.hpp"
#include "emergency_stop.hpp"
#include "file_tools.hpp"
#include "process_tools.hpp"
#include "report.hpp"
#include "text.hpp"
#include "workload.hpp"

#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <memory>
#include <thread>

namespace procfsd::bench {

namespace {

using namespace std::chrono_literals;

constexpr long long MiB = 1024 * 1024;
constexpr size_t load_cgroups = 100, load_threads = 100;
constexpr auto load_window = 30s;

// LXCFS 5.0.3 (Debian's, scripts/dev installs it) with loadavg on, stopped by pid and unmounted.
class Lxcfs {
public:
    explicit Lxcfs(const std::string& dir) : dir_(dir)
    {
        ::mkdir(dir_.c_str(), 0755);
        remember_mount(dir_);
        pid_ = support::spawn({"lxcfs", "-f", "-l", "-p", dir_ + ".pid", dir_},
                              {.death_signal = SIGTERM, .quiet = true, .env = std::nullopt});
        if (pid_ > 0)
            remember_server(pid_);
        up_ = pid_ > 0 && support::wait_until([&] { return ::access(path("meminfo").c_str(), R_OK) == 0; },
                                              10s, 10ms);
    }
    ~Lxcfs()
    {
        if (pid_ > 0) {
            ::kill(pid_, SIGTERM);
            if (!support::reaped_within(pid_, 5s)) {
                ::kill(pid_, SIGKILL);
                support::reaped_within(pid_, 5s);
            }
            forget_server(pid_);
        }
        ::umount2(dir_.c_str(), MNT_DETACH);
        ::rmdir(dir_.c_str());
        ::unlink((dir_ + ".pid").c_str());
    }
    [[nodiscard]] bool up() const noexcept { return up_; }
    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    [[nodiscard]] std::string path(const std::string& file) const { return dir_ + "/proc/" + file; }

private:
    std::string dir_;
    pid_t pid_ = -1;
    bool up_ = false;
};

// utime + stime of a process, in seconds.
double cpu_seconds(pid_t pid)
{
    std::string stat = support::read_text("/proc/" + std::to_string(pid) + "/stat");
    auto paren = stat.rfind(')');
    if (paren == std::string::npos)
        return NAN;
    std::istringstream fields(stat.substr(paren + 2));
    std::string f;
    double ticks = 0;
    for (int i = 3; i <= 15 && fields >> f; ++i)
        if (i == 14 || i == 15)
            ticks += std::atof(f.c_str());
    return ticks / static_cast<double>(::sysconf(_SC_CLK_TCK));
}

// Joins cgroup `cg` (a forked child, itself).
bool join(const support::TestCgroup& cg)
{
    return cg.add(::getpid());
}

// The meminfo reads: a child in the container reads each path `iters` times per round, the
// order rotating, and sends µs per read back.
void time_meminfo(Context& ctx, const support::TestCgroup& cg,
                  const std::vector<std::pair<std::string, std::string>>& paths,
                  ResourceFigures& out)
{
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0)
        return;
    long iters = ctx.options.w3_iters;
    int rounds = ctx.options.rounds;
    pid_t child = ::fork();
    if (child == 0) {
        ::close(p[0]);
        if (!join(cg))
            ::_exit(1);
        std::vector<char> buf(1 << 16);
        for (int r = 0; r < rounds; ++r)
            for (size_t k = 0; k < paths.size(); ++k) {
                auto& path = paths[(k + static_cast<size_t>(r)) % paths.size()].second;
                long errors = 0;
                int64_t t0 = now_ns();
                for (long i = 0; i < iters; ++i) {
                    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
                    if (fd < 0 || ::read(fd, buf.data(), buf.size()) <= 0)
                        ++errors;
                    if (fd >= 0)
                        ::close(fd);
                }
                double us[2] = {seconds_since(t0) * 1e6 / static_cast<double>(iters),
                                static_cast<double>(errors)};
                if (::write(p[1], us, sizeof us) != sizeof us)
                    ::_exit(1);
            }
        ::_exit(0);
    }
    ::close(p[1]);
    for (int r = 0; r < rounds && child > 0; ++r)
        for (size_t k = 0; k < paths.size(); ++k) {
            double us[2];
            if (::read(p[0], us, sizeof us) != sizeof us) {
                out.problem = "the meminfo reader ended early";
                r = rounds;
                break;
            }
            out.meminfo_us[paths[(k + static_cast<size_t>(r)) % paths.size()].first].add(us[0]);
            out.errors += static_cast<long>(us[1]);
        }
    ::close(p[0]);
    if (child > 0)
        support::wait_child(child, 60);
}

[[noreturn]] void thread_holder(const support::TestCgroup& cpu, const support::TestCgroup& acct,
                                const std::vector<std::string>& loadavgs, int ready)
{
    if (!join(cpu) || !join(acct))
        ::_exit(1);
    for (size_t i = 1; i < load_threads; ++i) {
        pthread_t t;
        pthread_create(&t, nullptr, [](void*) -> void* {
            for (;;)
                ::pause();
        }, nullptr);
    }
    // Read once on each: from now on both sample this cgroup.
    for (auto& path : loadavgs)
        (void)support::read_file(path);
    [[maybe_unused]] auto n = ::write(ready, "x", 1);
    for (;;)
        ::pause();
}

// loadavg's background cost with load_cgroups cgroups of load_threads threads, each read once.
void load_cost(Context& ctx, const Lxcfs& lxcfs, pid_t daemon, ResourceFigures& out)
{
    std::vector<std::unique_ptr<support::TestCgroup>> groups;
    groups.reserve(2 * load_cgroups); // references to its elements are held below
    std::vector<pid_t> holders;
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0)
        return;
    std::vector<std::string> loadavgs{ctx.targets.res.root + "/loadavg"};
    if (lxcfs.up())
        loadavgs.push_back(lxcfs.path("loadavg"));
    for (size_t i = 0; i < load_cgroups; ++i) {
        std::string name = strprintf("procfsd-bench-load-%d-%zu", static_cast<int>(::getpid()), i);
        auto* cpu = groups.emplace_back(std::make_unique<support::TestCgroup>("cpu", name)).get();
        auto* acct = groups.emplace_back(std::make_unique<support::TestCgroup>("cpuacct", name)).get();
        if (!cpu->ok() || !acct->ok()) {
            out.problem = "cgroups for the load: " + cpu->problem() + acct->problem();
            break;
        }
        pid_t c = ::fork();
        if (c == 0) {
            ::close(p[0]);
            support::tie_to_parent(::getppid(), SIGKILL);
            thread_holder(*cpu, *acct, loadavgs, p[1]);
        }
        if (c > 0)
            holders.push_back(c);
    }
    ::close(p[1]);
    size_t ready = 0;
    char c;
    while (ready < holders.size() && ::read(p[0], &c, 1) == 1)
        ++ready;
    ::close(p[0]);
    if (ready == load_cgroups) {
        out.cgroups = load_cgroups;
        out.threads = load_threads;
        double a0 = cpu_seconds(daemon), b0 = lxcfs.up() ? cpu_seconds(lxcfs.pid()) : NAN;
        int64_t t0 = now_ns();
        std::this_thread::sleep_for(load_window); // the cost is what the window costs
        out.window_s = seconds_since(t0);
        out.procfsd_cpu_pct = (cpu_seconds(daemon) - a0) / out.window_s * 100;
        if (lxcfs.up())
            out.lxcfs_cpu_pct = (cpu_seconds(lxcfs.pid()) - b0) / out.window_s * 100;
        out.load_sampled = counter(ctx.targets.counters(ctx.targets.res), "load_sampled");
    }
    for (pid_t h : holders)
        ::kill(h, SIGKILL);
    for (pid_t h : holders)
        support::wait_child(h);
    groups.clear(); // each moves what is left back up and goes
}

void run(Context& ctx, int, const std::vector<Target*>&)
{
    ResourceFigures& out = ctx.results.w7.emplace();
    support::TestCgroup box("memory", strprintf("procfsd-bench-w7-%d", static_cast<int>(::getpid())));
    if (!box.ok() || !box.set("memory.limit_in_bytes", std::to_string(300 * MiB))) {
        out.problem = "no memory cgroup of our own: " + box.problem();
        note("W7: %s", out.problem.c_str());
        return;
    }
    if (!ctx.targets.start_procfsd(ctx.targets.res, "procfsd-res", "resources=cgroup,io_uring=off"))
        return;
    // The same on io_uring, against the plain mount on io_uring.
    bool uring = ctx.targets.off_uring.up &&
                 ctx.targets.start_procfsd(ctx.targets.res_uring, "procfsd-res-uring", "resources=cgroup,io_uring=on");
    Lxcfs lxcfs(ctx.targets.dir() + "/lxcfs");
    if (!lxcfs.up())
        note("W7: lxcfs did not start (scripts/dev installs it): measured without it");
    std::vector<std::pair<std::string, std::string>> paths{
        {"procfsd-off", ctx.targets.off.root + "/meminfo"},
        {"procfsd-res", ctx.targets.res.root + "/meminfo"}};
    if (uring) {
        paths.emplace_back("procfsd-uring", ctx.targets.off_uring.root + "/meminfo");
        paths.emplace_back("procfsd-res-uring", ctx.targets.res_uring.root + "/meminfo");
    }
    if (lxcfs.up())
        paths.emplace_back("lxcfs", lxcfs.path("meminfo"));
    time_meminfo(ctx, box, paths, out);
    load_cost(ctx, lxcfs, daemon_pid_of(ctx.targets.res, ctx.targets.counters(ctx.targets.res)), out);
    ctx.targets.stop(ctx.targets.res);
    if (uring)
        ctx.targets.stop(ctx.targets.res_uring);
}

void report(const Context& ctx, Json& file)
{
    if (!ctx.results.w7)
        return;
    const ResourceFigures& r = *ctx.results.w7;
    table_header(strprintf("W7 open/read/close meminfo by a reader in a 300 MiB cgroup, %ld times "
                           "(x native: to procfsd's plain meminfo)",
                           ctx.options.w3_iters));
    Json j;
    double plain = r.meminfo_us.count("procfsd-off") ? r.meminfo_us.at("procfsd-off").median() : NAN;
    double plain_uring =
        r.meminfo_us.count("procfsd-uring") ? r.meminfo_us.at("procfsd-uring").median() : NAN;
    for (auto& [name, s] : r.meminfo_us) {
        bool on_ring = name.find("uring") != std::string::npos;
        table_row(name, s, on_ring ? plain_uring : plain, NAN, "us/op",
                  name == "procfsd-res"         ? "resources=cgroup"
                  : name == "procfsd-res-uring" ? "resources=cgroup on io_uring; x native: to procfsd-uring"
                                                : "");
        j["meminfo_us"][name] = series_json(s, on_ring ? plain_uring : plain, NAN);
    }
    std::printf("\nW7 loadavg's background cost: %zu cgroups of %zu threads, each read once, "
                "over %.0f s\n  procfsd %.2f%% CPU (%lld cgroups sampled), LXCFS -l %.2f%% CPU%s%s\n",
                r.cgroups, r.threads, r.window_s, r.procfsd_cpu_pct, r.load_sampled,
                r.lxcfs_cpu_pct, r.errors ? strprintf(", %ld read errors", r.errors).c_str() : "",
                r.problem.empty() ? "" : ("; " + r.problem).c_str());
    j["load"] = Json::object({{"cgroups", static_cast<double>(r.cgroups)},
                              {"threads", static_cast<double>(r.threads)},
                              {"window_s", r.window_s},
                              {"procfsd_cpu_pct", r.procfsd_cpu_pct},
                              {"lxcfs_cpu_pct", r.lxcfs_cpu_pct},
                              {"sampled", static_cast<double>(r.load_sampled)}});
    if (!r.problem.empty())
        j["problem"] = r.problem;
    file["W7_resources"] = j;
}

} // namespace

const Workload w7_resources{"W7", Workload::Schedule::once, nullptr, run, report};

} // namespace procfsd::bench
