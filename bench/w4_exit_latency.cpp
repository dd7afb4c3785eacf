// SPDX-License-Identifier: GPL-2.0-or-later
// W4, exit latency: a process looked up on the target (stat <pid>/status), then killed and
// reaped; the time from the reap until stat <pid> says ENOENT, and stale answers: still there a
// second after the reap, there again after ENOENT, or at a late check of every reaped pid.

#include "clock.hpp"
#include "process_tools.hpp"
#include "report.hpp"
#include "text.hpp"
#include "workload.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <utility>

namespace procfsd::bench {

namespace {

// One process on one target; its pid once it was measured, 0 if it was not.
pid_t one_exit(const Target& t, ExitLatency& r)
{
    if (r.aborted)
        return 0;
    pid_t parent = ::getpid();
    pid_t p = ::fork();
    if (p < 0) {
        ++r.other_errors;
        sleep_ms(1);
        return 0;
    }
    if (p == 0) {
        if (!support::tie_to_parent(parent, SIGKILL))
            ::_exit(0);
        for (;;)
            ::pause();
    }
    char name[16], status[32];
    std::snprintf(name, sizeof name, "%d", static_cast<int>(p));
    std::snprintf(status, sizeof status, "%d/status", static_cast<int>(p));
    struct stat st {
    };
    if (::fstatat(t.fd, status, &st, 0) != 0)
        ++r.lookup_failed;
    ::kill(p, SIGKILL);
    while (::waitpid(p, nullptr, 0) < 0 && errno == EINTR) {
    }
    int64_t reaped = now_ns();
    bool gone = false;
    for (;;) {
        int rc = ::fstatat(t.fd, name, &st, 0);
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
            if (::fstatat(t.fd, name, &st, 0) == 0 && ::kill(p, 0) != 0)
                ++r.resurrected;
    ++r.done;
    if (r.stale > 10) {
        r.aborted = true;
        note("W4 on %s: more than 10 stale answers; stopping it early", t.name.c_str());
    }
    return p;
}

Json report_target(const std::string& name, const ExitLatency& r)
{
    std::printf("  %-12s %6zu %9s %9s %9s %9s %6ld %6ld %6ld %6ld%s\n", name.c_str(),
                r.lat_us.v.size(), fmt_num(r.lat_us.pct(50)).c_str(),
                fmt_num(r.lat_us.pct(90)).c_str(), fmt_num(r.lat_us.pct(99)).c_str(),
                fmt_num(r.lat_us.max()).c_str(), r.stale, r.resurrected, r.late, r.lookup_failed,
                r.aborted ? "  (stopped early)" : "");
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
        long long sent =
            counter(r.after, "invalidations_sent") - counter(r.before, "invalidations_sent");
        long long failed =
            counter(r.after, "invalidations_failed") - counter(r.before, "invalidations_failed");
        x["invalidations_sent"] = sent;
        x["invalidations_failed"] = failed;
        std::printf("  %-12s daemon: reap->invalidated%s; invalidations sent %lld, failed %lld\n",
                    "", hist.c_str(), sent, failed);
    }
    return x;
}

void run(Context& ctx, int, const std::vector<Target*>&)
{
    TargetSet& ts = ctx.targets;
    auto targets = ts.up({&ts.native, &ts.off, &ts.inv});
    for (Target* t : targets) {
        auto& r = ctx.results.of(*t).w4.emplace();
        if (t->is_procfsd())
            r.before = ts.counters(*t);
    }
    std::vector<std::pair<Target*, pid_t>> seen;
    for (long i = 0; i < ctx.options.w4_procs; ++i)
        for (Target* t : rotated(targets, static_cast<int>(i)))
            if (pid_t p = one_exit(*t, *ctx.results.of(*t).w4); p > 0)
                seen.emplace_back(t, p);
    // Late check: a reaped pid (not reused meanwhile) must still be gone on every mount.
    for (auto& [t, p] : seen) {
        char name[16];
        std::snprintf(name, sizeof name, "%d", static_cast<int>(p));
        struct stat st {
        };
        if (::kill(p, 0) != 0 && errno == ESRCH && ::fstatat(t->fd, name, &st, 0) == 0 &&
            ::kill(p, 0) != 0)
            ++ctx.results.of(*t).w4->late;
    }
    for (Target* t : targets)
        if (t->is_procfsd())
            ctx.results.of(*t).w4->after = ts.counters(*t);
}

void report(const Context& ctx, Json& file)
{
    std::printf(
        "\nW4 exit latency: reap (waitpid) to ENOENT for stat M/<pid>, %ld processes per target\n",
        ctx.options.w4_procs);
    std::printf("  %-12s %6s %9s %9s %9s %9s %6s %6s %6s %6s\n", "target", "n", "p50 us", "p90 us",
                "p99 us", "max us", "stale", "resur", "late", "lkfail");
    file["W4"] = rows_of_targets_with(ctx.results, &TargetFigures::w4, report_target);
}

} // namespace

const Workload w4_exit_latency{"W4", Workload::Schedule::once, nullptr, run, report};

} // namespace procfsd::bench
