// SPDX-License-Identifier: GPL-2.0-or-later
#include "goals.hpp"

#include "text.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <string_view>

namespace procfsd::bench {

namespace {

// What a goal's figures say. A goal whose workload did not run for that mount is not listed;
// one whose workload or baseline did not run has no figure to show (measured false).
struct Reading {
    bool measured = false;
    bool met = false;
    std::string value;
    bool listed = true;
};

Reading reading(bool measured, bool met, std::string value)
{
    return {measured, met, std::move(value), true};
}

Reading not_listed()
{
    return {false, false, "", false};
}

struct Mount {
    std::string name; // the target, "procfsd-off"
    std::string tag;  // appended to the goal ids, "off"
};

using Judge = Reading (*)(const Results&, const Mount&, double limit);

// One goal: id (the mount's tag appended for per-mount goals), text ({mount} names the mount),
// the limit it is held to, and how the figures are judged.
struct Goal {
    std::string_view id;
    std::string_view text;
    double limit;
    Judge judge;
};

Reading ratio_at_most(double x, double base, double limit, const char* fmt)
{
    return reading(std::isfinite(x / base), x / base <= limit, strprintf(fmt, x / base, x, base));
}

Reading w1_ps_native(const Results& r, const Mount& m, double limit)
{
    return ratio_at_most(r.median(m.name, &TargetFigures::ps_ms),
                         r.median("native", &TargetFigures::ps_ms), limit,
                         "%.2fx (%.1f vs %.1f ms)");
}

Reading w1_ps_bindfs(const Results& r, const Mount& m, double limit)
{
    double x = r.median(m.name, &TargetFigures::ps_ms),
           b = r.median("bindfs", &TargetFigures::ps_ms);
    return reading(std::isfinite(b / x), b / x >= limit,
                   strprintf("%.2fx faster (%.1f vs %.1f ms)", b / x, x, b));
}

Reading w1_scan_floor(const Results& r, const Mount& m, double limit)
{
    return ratio_at_most(r.median(m.name, &TargetFigures::scan_ms),
                         r.median(Results::floor_for(m.name), &TargetFigures::scan_ms), limit,
                         "%.2fx (%.1f vs %.1f ms)");
}

Reading w2_requests(const Results& r, const Mount& m, double limit)
{
    double r2 = r.series(m.name, &TargetFigures::requests_pass2).max();
    double u2 = r.series(m.name, &TargetFigures::requests_pass2_unexplained).max();
    return reading(
        std::isfinite(u2), u2 <= limit,
        strprintf("%.0f requests at most per pass, %.0f not for processes gone meanwhile%s", r2, u2,
                  m.tag == "inv" ? "; hidepid= mounts look each pid directory up at every walk, which judges the caller (by design)" : ""));
}

Reading w2_native(const Results& r, const Mount& m, double limit)
{
    return ratio_at_most(r.median(m.name, &TargetFigures::pass2_ms),
                         r.median("native", &TargetFigures::pass2_ms), limit,
                         "%.2fx (%.2f vs %.2f ms)");
}

Reading w3_floor(const Results& r, const Mount& m, double limit)
{
    double tf = 0, tx = 0;
    std::string per;
    bool all = true;
    for (const char* file : {"meminfo", "uptime", "self/stat"}) {
        double a = r.w3(Results::floor_for(m.name), file).median();
        double c = r.w3(m.name, file).median();
        tf += a;
        tx += c;
        all = all && c / a <= limit;
        per += strprintf("%s%s %.2fx", per.empty() ? "" : ", ", file, c / a);
    }
    return reading(std::isfinite(tx / tf), all,
                   strprintf("%s (sum %.1f vs %.1f us)", per.c_str(), tx, tf));
}

Reading w4_p99(const Results& r, const Mount& m, double limit)
{
    auto& w4 = r.at(m.name).w4;
    if (!w4)
        return not_listed();
    auto& lat = w4->lat_us;
    return reading(
        !lat.empty(), lat.pct(99) <= limit && w4->stale == 0,
        strprintf("p99 %.0f us, p50 %.0f us, max %.0f us", lat.pct(99), lat.pct(50), lat.max()));
}

Reading w4_stale(const Results& r, const Mount& m, double limit)
{
    auto& w4 = r.at(m.name).w4;
    if (!w4)
        return not_listed();
    long stale = w4->stale + w4->resurrected + w4->late;
    return reading(w4->done > 0, static_cast<double>(stale) <= limit,
                   strprintf("%ld stale (>1 s: %ld, after ENOENT: %ld, late: %ld) of %ld", stale,
                             w4->stale, w4->resurrected, w4->late, w4->done));
}

Reading w5_stale(const Results& r, const Mount& m, double limit)
{
    auto& w5 = r.at(m.name).w5;
    if (!w5)
        return not_listed();
    return reading(w5->done, static_cast<double>(w5->stale) <= limit,
                   strprintf("%ld stale of %ld checked", w5->stale, w5->checked));
}

// Against the processes alive at each reading (others come and go on the machine): tracked
// processes beyond those alive can only be dead ones still held. `limit` of them may have died
// between the scan and the listing.
Reading w5_counters(const Results& r, const Mount& m, double limit)
{
    auto& w5 = r.at(m.name).w5;
    if (!w5)
        return not_listed();
    long long excess_before = w5->tracked_before - w5->live_before;
    long long excess_after = w5->tracked_after - w5->live_after;
    long long pidfd_excess_after = w5->pidfds_after - w5->live_after;
    long long allowed = std::max(0LL, excess_before) + static_cast<long long>(limit);
    return reading(
        w5->done && w5->tracked_before >= 0,
        excess_after <= allowed && pidfd_excess_after <= allowed,
        strprintf("tracked %lld->%lld, pidfds %lld->%lld, with %lld->%lld processes alive "
                  "(excess %+lld -> %+lld)",
                  w5->tracked_before, w5->tracked_after, w5->pidfds_before, w5->pidfds_after,
                  w5->live_before, w5->live_after, excess_before, excess_after));
}

Reading w5_rss(const Results& r, const Mount& m, double limit)
{
    auto& w5 = r.at(m.name).w5;
    if (!w5)
        return not_listed();
    double growth =
        static_cast<double>(w5->rss_after - w5->rss_before) / static_cast<double>(w5->rss_before);
    return reading(
        w5->done && w5->rss_before > 0, std::fabs(growth) <= limit,
        strprintf("%+.1f%% (%ld -> %ld KiB)", growth * 100, w5->rss_before, w5->rss_after));
}

// What a pidns= mount adds over the kernel's view of its namespace, against what the host
// mount adds over /proc: (procfsd-pidns / native-pidns) / (procfsd-off / host baseline).
Reading pidns_over_host(double pidns, double native_pidns, double off, double native, double limit,
                        const char* what)
{
    double x = (pidns / native_pidns) / (off / native);
    return reading(std::isfinite(x), x <= limit,
                   strprintf("%s%.2fx (pidns %.2fx its kernel view, host %.2fx /proc)", what, x,
                             pidns / native_pidns, off / native));
}

// A W1 series of the pidns targets against the host mount's, whose baseline is `host_native`.
Reading w1_pidns(const Results& r, Series TargetFigures::*which, const char* host_native,
                 double limit)
{
    auto m = [&](const char* t) { return r.median(t, which); };
    if (!r.find("procfsd-pidns"))
        return not_listed();
    return pidns_over_host(m("procfsd-pidns"), m("native-pidns"), m("procfsd-off"), m(host_native),
                           limit, "");
}

Reading w1_scan_pidns(const Results& r, const Mount&, double limit)
{
    return w1_pidns(r, &TargetFigures::scan_ms, "native", limit);
}

// The host's ps over /proc bound in a new mount namespace, as ps runs on the mounts.
Reading w1_ps_pidns(const Results& r, const Mount&, double limit)
{
    return w1_pidns(r, &TargetFigures::ps_ms, "native+ns", limit);
}

Reading w3_pidns(const Results& r, const Mount&, double limit)
{
    if (!r.find("procfsd-pidns"))
        return not_listed();
    Reading out = reading(true, true, "");
    for (const char* file : {"meminfo", "uptime", "self/stat"}) {
        auto m = [&](const char* t) { return r.w3(t, file).median(); };
        // Both read by the same process inside the namespace.
        Reading one =
            pidns_over_host(m("procfsd-pidns"), m("native-pidns"), m("procfsd-off-inside"),
                            m("native-inside"), limit, (std::string(file) + " ").c_str());
        out.measured = out.measured && one.measured;
        out.met = out.met && one.met;
        out.value += (out.value.empty() ? "" : "; ") + one.value;
    }
    return out;
}

// W7's meminfo medians of one target; NaN if it was not measured.
double w7_meminfo(const Results& r, const char* target)
{
    if (!r.w7 || !r.w7->meminfo_us.count(target))
        return NAN;
    return r.w7->meminfo_us.at(target).median();
}

Reading w7_lxcfs(const Results& r, const Mount&, double limit)
{
    if (!r.w7)
        return not_listed();
    double res = w7_meminfo(r, "procfsd-res"), lxcfs = w7_meminfo(r, "lxcfs");
    return reading(std::isfinite(lxcfs / res), lxcfs / res >= limit,
                   strprintf("%.2fx faster (%.1f vs %.1f us)", lxcfs / res, res, lxcfs));
}

Reading w7_plain(const Results& r, const Mount&, double limit)
{
    if (!r.w7)
        return not_listed();
    return ratio_at_most(w7_meminfo(r, "procfsd-res"), w7_meminfo(r, "procfsd-off"), limit,
                         "%.2fx (%.1f vs %.1f us)");
}

Reading w7_lxcfs_uring(const Results& r, const Mount&, double limit)
{
    if (!r.w7 || !r.w7->meminfo_us.count("procfsd-res-uring"))
        return not_listed();
    double res = w7_meminfo(r, "procfsd-res-uring"), lxcfs = w7_meminfo(r, "lxcfs");
    return reading(std::isfinite(lxcfs / res), lxcfs / res >= limit,
                   strprintf("%.2fx faster (%.1f vs %.1f us)", lxcfs / res, res, lxcfs));
}

Reading w7_plain_uring(const Results& r, const Mount&, double limit)
{
    if (!r.w7 || !r.w7->meminfo_us.count("procfsd-res-uring"))
        return not_listed();
    return ratio_at_most(w7_meminfo(r, "procfsd-res-uring"), w7_meminfo(r, "procfsd-uring"), limit,
                         "%.2fx (%.1f vs %.1f us)");
}

// Per process looked up (tracked or, past the pidfd budget, served untracked: both cost their
// nodes); the same as per tracked process while every one is tracked.
Reading w6_bytes(const Results& r, const Mount&, double limit)
{
    if (!r.w6 || r.w6->levels.empty())
        return not_listed();
    double worst = 0;
    std::string per;
    for (auto& l : r.w6->levels) {
        if (std::isfinite(l.bytes_per_lookedup))
            worst = std::max(worst, l.bytes_per_lookedup);
        per +=
            strprintf("%s%ld: %.0f B", per.empty() ? "" : ", ", l.total_ok, l.bytes_per_lookedup);
    }
    return reading(worst > 0, worst <= limit, "per process looked up, " + per);
}

// ps against the floor on the mount's own transport (what procfsd adds to FUSE).
Reading w1_ps_floor(const Results& r, const Mount& m, double limit)
{
    return ratio_at_most(r.median(m.name, &TargetFigures::ps_ms),
                         r.median(Results::floor_for(m.name), &TargetFigures::ps_ms), limit,
                         "%.2fx (%.1f vs %.1f ms)");
}

// One W3 file against native.
Reading w3_meminfo_native(const Results& r, const Mount& m, double limit)
{
    return ratio_at_most(r.w3(m.name, "meminfo").median(), r.w3("native", "meminfo").median(), limit,
                         "%.2fx (%.1f vs %.1f us)");
}

// Judged for each procfsd mount in turn.
constexpr Goal mount_goals[] = {
    {"W1ps-native", "W1 ps: {mount} <= 3.0x native", 3.0, w1_ps_native},
    {"W1ps-bindfs", "W1 ps: {mount} >= 2x faster than bindfs", 2.0, w1_ps_bindfs},
    {"W1scan-floor", "W1 in-process: {mount} <= 1.2x floor", 1.2, w1_scan_floor},
    {"W2-requests", "W2: {mount} second pass sends no FUSE request", 0, w2_requests},
    {"W2-native", "W2: {mount} second pass <= 1.3x native", 1.3, w2_native},
    {"W3-floor", "W3: {mount} <= 1.2x floor (each file)", 1.2, w3_floor},
    {"W4-p99", "W4: {mount} exit latency p99 <= 1 ms", 1000, w4_p99},
    {"W4-stale", "W4: {mount} zero stale answers", 0, w4_stale},
    {"W5-stale", "W5: {mount} zero stale answers", 0, w5_stale},
    {"W5-counters", "W5: {mount} tracked/pidfds back to baseline", 5, w5_counters},
    {"W5-rss", "W5: {mount} daemon RSS within 10% of baseline", 0.10, w5_rss},
};

// Judged for the mounts on each transport (procfsd-off on /dev/fuse, procfsd-uring on io_uring).
constexpr Goal transport_goals[] = {
    {"W1ps-floor", "W1 ps: {mount} <= 1.15x the floor on its transport", 1.15, w1_ps_floor},
    {"W3-floor115", "W3: {mount} <= 1.15x the floor on its transport (each file)", 1.15, w3_floor},
};

// Judged for the io_uring mount only.
constexpr Goal uring_goals[] = {
    {"W1ps-native-uring", "W1 ps: {mount} <= 2.0x native", 2.0, w1_ps_native},
    {"W3meminfo-native-uring", "W3: {mount} meminfo <= 3.0x native", 3.0, w3_meminfo_native},
};

// Judged once.
constexpr Goal daemon_goals[] = {
    {"W1scan-pidns", "W1 in-process: a pidns= mount costs <= 1.10x a host mount", 1.10,
     w1_scan_pidns},
    {"W1ps-pidns", "W1 ps: a pidns= mount costs <= 1.10x a host mount", 1.10, w1_ps_pidns},
    {"W3-pidns", "W3: a pidns= mount costs <= 1.10x a host mount (each file)", 1.10, w3_pidns},
    {"W6-bytes", "W6: <= 1 KiB of daemon RSS per tracked process", 1024, w6_bytes},
    {"W7-lxcfs", "W7: a container's meminfo >= 3x faster than LXCFS's", 3.0, w7_lxcfs},
    {"W7-plain", "W7: a container's meminfo <= 1.3x procfsd's plain meminfo", 1.3, w7_plain},
    {"W7-lxcfs-uring", "W7 on io_uring: a container's meminfo >= 3x faster than LXCFS's", 3.0,
     w7_lxcfs_uring},
    {"W7-plain-uring", "W7 on io_uring: a container's meminfo <= 1.3x the plain one", 1.3,
     w7_plain_uring},
};

std::string with_mount(std::string_view text, const std::string& mount)
{
    std::string out(text);
    if (auto pos = out.find("{mount}"); pos != std::string::npos)
        out.replace(pos, 7, mount);
    return out;
}

void print_goal(const std::string& id, const std::string& text, const Reading& r, Json& goals)
{
    bool met = r.measured && r.met;
    std::printf("  %-5s %-62s %s\n",
                !r.measured ? "n/a"
                : met       ? "MET"
                            : "MISS",
                text.c_str(), r.measured ? r.value.c_str() : "not run");
    Json x;
    x["id"] = id;
    x["target"] = text;
    x["measured"] = r.measured;
    x["met"] = met;
    if (r.measured)
        x["value"] = r.value;
    goals.push(x);
}

} // namespace

void report_goals(const Results& results, Json& file)
{
    std::printf("\nTargets\n");
    Json goals = Json::array();
    for (const Mount& m : {Mount{"procfsd-off", "off"}, Mount{"procfsd-inv", "inv"}})
        for (const Goal& g : mount_goals)
            if (Reading r = g.judge(results, m, g.limit); r.listed)
                print_goal(std::string(g.id) + "-" + m.tag, with_mount(g.text, m.name), r, goals);
    for (const Mount& m : {Mount{"procfsd-off", "off"}, Mount{"procfsd-uring", "uring"}}) {
        if (!results.find(m.name))
            continue;
        for (const Goal& g : transport_goals)
            if (Reading r = g.judge(results, m, g.limit); r.listed)
                print_goal(std::string(g.id) + "-" + m.tag, with_mount(g.text, m.name), r, goals);
    }
    if (results.find("procfsd-uring"))
        for (const Goal& g : uring_goals)
            if (Reading r = g.judge(results, {"procfsd-uring", "uring"}, g.limit); r.listed)
                print_goal(std::string(g.id), with_mount(g.text, "procfsd-uring"), r, goals);
    for (const Goal& g : daemon_goals)
        if (Reading r = g.judge(results, {}, g.limit); r.listed)
            print_goal(std::string(g.id), std::string(g.text), r, goals);
    file["goals"] = goals;
}

} // namespace procfsd::bench
