// SPDX-License-Identifier: GPL-2.0-or-later
// W5, churn: --w5-procs short-lived processes (fork, stat M/<pid>/status, _exit, reap) while W1
// scans in a loop; throughput, stale answers a second after each reap, and on procfsd the
// daemon's counters and RSS against what they were before.

#include "clock.hpp"
#include "file_tools.hpp"
#include "process_tools.hpp"
#include "report.hpp"
#include "text.hpp"
#include "workload.hpp"

#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <deque>
#include <thread>
#include <utility>

namespace procfsd::bench {

namespace {

Churn churn(Context& ctx, const Target& t)
{
    Churn r;
    int native_fd = ctx.targets.native.fd;
    pid_t daemon = -1;
    if (t.is_procfsd()) {
        // Every live process looked up (tracked), then the counters: tracked_processes minus
        // the processes alive is what the daemon holds beyond them (ideally 0 or so).
        scan_once(t.fd);
        auto c = ctx.targets.counters(t);
        r.live_before = static_cast<long long>(support::list_pids(native_fd).size());
        daemon = daemon_pid_of(t, c);
        r.tracked_before = counter(c, "tracked_processes");
        r.pidfds_before = counter(c, "pidfds");
        r.nodes_before = counter(c, "nodes");
        r.rss_before = support::rss_kib(daemon);
    }
    std::atomic<bool> stop{false};
    std::atomic<long> scans{0}, scan_pids{0}, scan_errors{0};
    std::thread scanner([&] {
        while (!stop.load()) {
            auto s = scan_once(t.fd);
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
        struct stat st {
        };
        if (::kill(p, 0) == 0) {
            ++r.reused; // the pid names another process now: nothing to check
            return;
        }
        ++r.checked;
        if (::fstatat(t.fd, name, &st, 0) == 0 && ::kill(p, 0) != 0)
            ++r.stale;
    };
    int64_t t0 = now_ns();
    long forked = 0;
    for (long i = 0; i < ctx.options.w5_procs; ++i) {
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
        struct stat st {
        };
        if (::fstatat(t.fd, status, &st, 0) != 0)
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
    if (t.is_procfsd()) {
        // Settle: every reap handled, the counters back where they were (up to 5 s).
        // Processes born on the machine meanwhile count once looked up, as they did before.
        Counters c;
        int64_t s0 = now_ns();
        do {
            scan_once(t.fd);
            c = ctx.targets.counters(t);
            r.live_after = static_cast<long long>(support::list_pids(native_fd).size());
            if (counter(c, "tracked_processes") - r.live_after <= r.tracked_before - r.live_before)
                break;
            sleep_ms(200);
        } while (seconds_since(s0) < 5);
        r.tracked_after = counter(c, "tracked_processes");
        r.pidfds_after = counter(c, "pidfds");
        r.nodes_after = counter(c, "nodes");
        r.rss_after = support::rss_kib(daemon);
    }
    r.done = true;
    return r;
}

Json report_target(const std::string& name, const Churn& r)
{
    std::string tr = r.tracked_before >= 0
                         ? strprintf("%lld->%lld (alive %lld->%lld)", r.tracked_before,
                                     r.tracked_after, r.live_before, r.live_after)
                         : "-";
    std::string pf =
        r.pidfds_before >= 0 ? strprintf("%lld->%lld", r.pidfds_before, r.pidfds_after) : "-";
    std::string rs = r.rss_before >= 0
                         ? strprintf("%ld->%ld (%+.1f%%)", r.rss_before, r.rss_after,
                                     100.0 * static_cast<double>(r.rss_after - r.rss_before) /
                                         static_cast<double>(r.rss_before))
                         : "-";
    std::printf("  %-12s %8.0f %8.2f %9.0f %7ld %6ld %7ld %6ld  %-30s %-15s %-17s\n", name.c_str(),
                r.churn_per_s, r.scans_per_s, r.pids_per_s, r.lookups_failed, r.stale, r.checked,
                r.reused, tr.c_str(), pf.c_str(), rs.c_str());
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
    return x;
}

void run(Context& ctx, int, const std::vector<Target*>&)
{
    TargetSet& ts = ctx.targets;
    for (Target* t : ts.up({&ts.native, &ts.off, &ts.inv}))
        ctx.results.of(*t).w5 = churn(ctx, *t);
}

void report(const Context& ctx, Json& file)
{
    std::printf("\nW5 churn: %ld short-lived processes (fork, stat M/<pid>/status, _exit, reap) "
                "while W1 scans in a loop\n",
                ctx.options.w5_procs);
    std::printf("  %-12s %8s %8s %9s %7s %6s %7s %6s  %-30s %-15s %-17s\n", "target", "procs/s",
                "scans/s", "pids/s", "lkfail", "stale", "checked", "reused", "tracked b->a",
                "pidfds b->a", "RSS KiB b->a");
    file["W5"] = rows_of_targets_with(ctx.results, &TargetFigures::w5, report_target);
}

} // namespace

const Workload w5_churn{"W5", Workload::Schedule::once, nullptr, run, report};

} // namespace procfsd::bench
