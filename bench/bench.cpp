// SPDX-License-Identifier: GPL-2.0-or-later
#include "bench.hpp"

#include "clock.hpp"
#include "emergency_stop.hpp"
#include "file_tools.hpp"
#include "goals.hpp"
#include "process_tools.hpp"
#include "text.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <thread>

namespace procfsd::bench {

Bench::Bench(Options options)
    : opt_(std::move(options)), targets_(opt_), ctx_{opt_, targets_, sleepers_, results_},
      start_ns_(now_ns())
{
    for (const Workload* w :
         {&w1_ps_scan, &w2_warm_stat, &w3_single_files, &w4_exit_latency, &w5_churn, &w6_memory,
          &w7_resources})
        if (opt_.wants(w->name))
            workloads_.push_back(w);
}

// As many descriptors and processes as the bench may have: W6 starts tens of thousands.
void Bench::raise_limits()
{
    Json lim = Json::object();
    struct rlimit rl {
    };
    ::getrlimit(RLIMIT_NOFILE, &rl);
    lim["nofile_soft_before"] = static_cast<double>(rl.rlim_cur);
    lim["nofile_hard"] = static_cast<double>(rl.rlim_max);
    struct rlimit want {
        RLIM_INFINITY, RLIM_INFINITY
    };
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

    ::getrlimit(RLIMIT_NPROC, &rl);
    want = {RLIM_INFINITY, RLIM_INFINITY};
    if (::setrlimit(RLIMIT_NPROC, &want) != 0) {
        rl.rlim_cur = rl.rlim_max;
        ::setrlimit(RLIMIT_NPROC, &rl);
    }
    ::getrlimit(RLIMIT_NPROC, &rl);
    lim["nproc_soft"] = rl.rlim_cur == RLIM_INFINITY ? -1.0 : static_cast<double>(rl.rlim_cur);
    lim["pid_max"] = std::atol(support::read_text("/proc/sys/kernel/pid_max").c_str());
    lim["threads_max"] = std::atol(support::read_text("/proc/sys/kernel/threads-max").c_str());
    file_["limits"] = lim;
}

void Bench::describe_run()
{
    struct utsname u {
    };
    ::uname(&u);
    file_["kernel"] = std::string(u.release);
    file_["cpus"] = static_cast<double>(std::thread::hardware_concurrency());
    file_["started"] = static_cast<double>(std::time(nullptr));
    auto version = support::run_program({opt_.procfsd, "--version"}, true);
    file_["procfsd_version"] = version.out.substr(0, version.out.find('\n'));
    Json levels = Json::array();
    for (auto l : opt_.w6_levels)
        levels.push(l);
    file_["config"] = Json::object({
        {"procs", opt_.procs},
        {"pidns_procs", opt_.pidns_procs},
        {"rounds", opt_.rounds},
        {"w3_iters", opt_.w3_iters},
        {"w4_procs", opt_.w4_procs},
        {"w5_procs", opt_.w5_procs},
        {"w6_levels", levels},
        {"procfsd", opt_.procfsd},
        {"floor", opt_.floor},
    });
}

void Bench::start_sleepers()
{
    int err = 0;
    int64_t t0 = now_ns();
    size_t got = sleepers_.grow_to(opt_.procs, &err);
    if (got < opt_.procs) {
        std::string msg = strprintf("started %zu of %zu background processes: %s", got, opt_.procs,
                                    std::strerror(err));
        note("%s", msg.c_str());
        file_["procs_problem"] = msg;
    }
    note("%zu background processes started in %.1f s", got, seconds_since(t0));
    file_["procs_started"] = got;
}

// One unmeasured pass per target: every mount has its inodes for the processes, as a
// long-running mount would. Then the workloads' own checks.
void Bench::warm_up()
{
    std::vector<Target*> all(targets_.main);
    all.insert(all.end(), targets_.pidns_pair.begin(), targets_.pidns_pair.end());
    for (Target* t : all) {
        auto s = scan_once(t->fd);
        results_.of(*t).last_scan = s;
        if (s.errors)
            note("warm-up scan of %s: %ld errors out of %ld pids", t->name.c_str(), s.errors,
                 s.pids);
    }
    for (const Workload* w : workloads_)
        if (w->prepare)
            w->prepare(ctx_);
}

void Bench::run_workloads()
{
    for (int round = 0; round < opt_.rounds; ++round) {
        int64_t r0 = now_ns();
        auto order = rotated(targets_.main, round);
        for (auto& w : workloads_)
            if (w->schedule == Workload::Schedule::each_round)
                w->run(ctx_, round, order);
        note("round %d of %d done in %.1f s", round + 1, opt_.rounds, seconds_since(r0));
    }
    // Its processes would count against the pids that W4..W6 start.
    targets_.stop_pidns();
    for (const Workload* w : workloads_) {
        if (w->schedule != Workload::Schedule::once)
            continue;
        int64_t s = now_ns();
        w->run(ctx_, 0, targets_.main);
        note("%.*s done in %.1f s", static_cast<int>(w->name.size()), w->name.data(),
             seconds_since(s));
    }
}

void Bench::teardown()
{
    targets_.stop_all();
    sleepers_.kill_all();
}

void Bench::report()
{
    std::printf("\nprocfsd benchmark: %zu processes listed in /proc (%zu started by the "
                "bench), %d rounds, targets alternating\n",
                system_pids_, opt_.procs, opt_.rounds);
    TargetSet& ts = targets_;
    for (Target* t :
         {&ts.native, &ts.off, &ts.inv, &ts.floor, &ts.off_uring, &ts.floor_uring, &ts.bindfs, &ts.native_pidns,
          &ts.pidns, &ts.w6})
        if (!t->measured && !t->name.empty())
            std::printf("  (%s not measured: %s)\n", t->name.c_str(), t->problem.c_str());
        else if (!t->problem.empty())
            std::printf("  (%s: %s)\n", t->name.c_str(), t->problem.c_str());
    for (const Workload* w : workloads_)
        w->report(ctx_, file_);
    report_goals(results_, file_);
}

int Bench::run()
{
    if (::geteuid() != 0) {
        std::fprintf(stderr, "procfsd-bench: run as root (FUSE mounts, mount namespaces)\n");
        return 1;
    }
    for (auto* bin : {&opt_.procfsd, &opt_.floor})
        if (::access(bin->c_str(), X_OK) != 0) {
            std::fprintf(stderr, "procfsd-bench: %s: %s\n", bin->c_str(), std::strerror(errno));
            return 1;
        }
    install_emergency_stop();
    raise_limits();
    describe_run();
    start_sleepers();

    bool started =
        targets_.start_all(opt_.wants("W1") || opt_.wants("W3") ? opt_.pidns_procs : 0);
    system_pids_ = targets_.pids_listed();
    file_["pids_in_proc"] = system_pids_;
    if (targets_.bindfs.up)
        file_["bindfs"] = targets_.bindfs_json();
    file_["targets"] = targets_.json();
    if (!started) {
        note("procfsd did not mount; nothing to measure");
        return 1;
    }
    std::string shown;
    for (Target* t : targets_.main)
        shown += " " + t->name;
    for (Target* t : targets_.pidns_pair)
        shown += " " + t->name;
    note("targets:%s (mounts under %s)", shown.c_str(), targets_.dir().c_str());

    warm_up();
    run_workloads();
    int64_t s = now_ns();
    teardown();
    note("stopped every server and process in %.1f s", seconds_since(s));

    report();
    double total = seconds_since(start_ns_);
    file_["seconds"] = total;
    std::printf("\ntotal time %.0f s\n", total);
    std::ofstream out(opt_.json);
    out << file_.dump();
    if (!out) {
        std::fprintf(stderr, "procfsd-bench: cannot write %s\n", opt_.json.c_str());
        return 1;
    }
    std::printf("results: %s\n", opt_.json.c_str());
    return 0;
}

} // namespace procfsd::bench
