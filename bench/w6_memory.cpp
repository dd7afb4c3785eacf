// SPDX-License-Identifier: GPL-2.0-or-later
// W6, memory and scale: a fresh hidepid=off daemon's RSS and descriptors with the background
// processes grown to each of --w6-levels and each looked up (stat <pid> and <pid>/status).

#include "clock.hpp"
#include "file_tools.hpp"
#include "process_tools.hpp"
#include "text.hpp"
#include "workload.hpp"

#include <sys/resource.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace procfsd::bench {

namespace {

long pid_max()
{
    return std::atol(support::read_text("/proc/sys/kernel/pid_max").c_str());
}

void run(Context& ctx, int, const std::vector<Target*>&)
{
    // A fresh daemon (hidepid=off), so that its RSS is what the tracked processes cost, not
    // what the earlier workloads left in its heap.
    Target& w6 = ctx.targets.w6;
    if (!ctx.targets.start_procfsd(w6, "procfsd-w6", "entry_timeout=3600"))
        return;
    Memory& m = ctx.results.w6.emplace();
    auto c = ctx.targets.counters(w6);
    pid_t daemon = daemon_pid_of(w6, c);
    m.base_tracked = counter(c, "tracked_processes");
    m.base_rss = support::rss_kib(daemon);
    m.base_fds = support::count_fds(daemon);
    size_t looked = 0;
    MemoryLevel prev;
    prev.tracked = m.base_tracked;
    prev.rss = m.base_rss;
    for (size_t level : ctx.options.w6_levels) {
        MemoryLevel l;
        l.wanted = level;
        int err = 0;
        // Leave pids for everything else (the daemons' threads, our commands, other users):
        // pid_max minus the tasks that exist now (loadavg's 4th field) minus a reserve.
        std::string loadavg = support::read_text("/proc/loadavg");
        auto slash = loadavg.find('/');
        long tasks = slash == std::string::npos ? 0 : std::atol(loadavg.c_str() + slash + 1);
        long room = pid_max() - tasks - 1024 + static_cast<long>(ctx.sleepers.size());
        size_t target = level;
        if (room > 0 && static_cast<long>(level) > room) {
            target = static_cast<size_t>(room);
            m.limit_note =
                strprintf("%zu processes wanted, %zu started: pid_max is %ld and %ld tasks "
                          "exist (1024 kept free)",
                          level, target, pid_max(), tasks);
            note("W6: %s", m.limit_note.c_str());
        }
        int64_t t0 = now_ns();
        l.sleepers = ctx.sleepers.grow_to(target, &err);
        if (l.sleepers < target) {
            m.limit_note = strprintf("%zu processes wanted, %zu started: fork failed with %s "
                                     "(pid_max %ld, processes on the machine %zu)",
                                     level, l.sleepers, std::strerror(err), pid_max(),
                                     support::list_pids(ctx.targets.native.fd).size());
            note("W6: %s", m.limit_note.c_str());
        }
        double spawn_s = seconds_since(t0);
        t0 = now_ns();
        auto& pids = ctx.sleepers.pids();
        for (; looked < pids.size(); ++looked) {
            char name[16], status[32];
            std::snprintf(name, sizeof name, "%d", static_cast<int>(pids[looked]));
            std::snprintf(status, sizeof status, "%d/status", static_cast<int>(pids[looked]));
            struct stat st {
            };
            if (::fstatat(w6.fd, name, &st, 0) != 0 || ::fstatat(w6.fd, status, &st, 0) != 0) {
                ++l.errors[errno];
                ++l.failed;
            } else {
                ++l.looked_up;
            }
        }
        double lookup_s = seconds_since(t0);
        l.total_ok = prev.total_ok + l.looked_up;
        sleep_ms(200);
        c = ctx.targets.counters(w6);
        l.tracked = counter(c, "tracked_processes");
        l.pidfds = counter(c, "pidfds");
        l.nodes = counter(c, "nodes");
        l.rss = support::rss_kib(daemon);
        l.fds = support::count_fds(daemon);
        if (l.tracked > m.base_tracked)
            l.bytes_per_proc = static_cast<double>(l.rss - m.base_rss) * 1024.0 /
                               static_cast<double>(l.tracked - m.base_tracked);
        if (l.tracked > prev.tracked)
            l.marginal = static_cast<double>(l.rss - prev.rss) * 1024.0 /
                         static_cast<double>(l.tracked - prev.tracked);
        if (l.total_ok > 0)
            l.bytes_per_lookedup =
                static_cast<double>(l.rss - m.base_rss) * 1024.0 / static_cast<double>(l.total_ok);
        note("W6 level %zu: %zu processes (spawned in %.1f s), looked up in %.1f s, tracked %lld, "
             "RSS %ld KiB",
             level, l.sleepers, spawn_s, lookup_s, l.tracked, l.rss);
        m.levels.push_back(l);
        prev = l;
        if (l.sleepers < level)
            break;
    }
    struct rlimit rl {
    };
    ::getrlimit(RLIMIT_NOFILE, &rl);
    long nofile = static_cast<long>(rl.rlim_cur);
    m.budget_note = strprintf("pidfd budget: 3/4 of the daemon's RLIMIT_NOFILE (%ld) = %ld tracked "
                              "processes; beyond it processes are served untracked and uncached",
                              nofile, nofile / 4 * 3);
    ctx.targets.stop(w6);
}

void report(const Context& ctx, Json& file)
{
    if (!ctx.results.w6 || ctx.results.w6->levels.empty())
        return;
    const Memory& m = *ctx.results.w6;
    std::printf("\nW6 memory and scale (a fresh hidepid=off daemon; stat <pid> and <pid>/status of "
                "each bench process): baseline RSS %ld KiB, %ld fds, %lld tracked\n",
                m.base_rss, m.base_fds, m.base_tracked);
    std::printf("  %8s %8s %8s %7s %8s %8s %8s %9s %9s %9s %9s  %s\n", "wanted", "procs", "ok",
                "failed", "tracked", "pidfds", "fds", "RSS KiB", "B/tracked", "B/trk-marg",
                "B/lookedup", "errors");
    Json j;
    Json levels = Json::array();
    for (auto& l : m.levels) {
        std::string errs;
        for (auto& [e, n] : l.errors)
            errs += strprintf("%s%s x%ld", errs.empty() ? "" : ", ",
                              strerrorname_np(e) ? strerrorname_np(e) : "?", n);
        std::printf("  %8zu %8zu %8ld %7ld %8lld %8lld %8ld %9ld %9s %9s %9s  %s\n", l.wanted,
                    l.sleepers, l.total_ok, l.failed, l.tracked, l.pidfds, l.fds, l.rss,
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
    if (!m.limit_note.empty())
        std::printf("  limit: %s\n", m.limit_note.c_str());
    std::printf("  %s\n", m.budget_note.c_str());
    j["baseline_rss_kib"] = m.base_rss;
    j["baseline_fds"] = m.base_fds;
    j["baseline_tracked"] = m.base_tracked;
    j["levels"] = levels;
    if (!m.limit_note.empty())
        j["limit"] = m.limit_note;
    j["pidfd_budget"] = m.budget_note;
    file["W6"] = j;
}

} // namespace

const Workload w6_memory{"W6", Workload::Schedule::once, nullptr, run, report};

} // namespace procfsd::bench
