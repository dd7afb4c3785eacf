// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Every figure the workloads measure, in one place: per target (by name) what each workload
// found there, plus W6's levels. The workloads fill it; their reports and the goals read it.

#include "scan.hpp"
#include "series.hpp"
#include "targets.hpp"

#include <cmath>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace procfsd::bench {

// W4: reap of a looked-up process to ENOENT on the target.
struct ExitLatency {
    Series lat_us;
    long stale = 0;       // still there 1 s after the reap
    long resurrected = 0; // found again after ENOENT
    long late = 0;        // found at the late check
    long lookup_failed = 0;
    long other_errors = 0;
    long done = 0;
    bool aborted = false;   // stopped early (too many stale answers)
    Counters before, after; // procfsd only
};

// W5: short-lived processes looked up while a scan loops.
struct Churn {
    double churn_per_s = 0, scans_per_s = 0, pids_per_s = 0, seconds = 0;
    long lookups_failed = 0, stale = 0, reused = 0, checked = 0, scans = 0, scan_errors = 0;
    // procfsd only (-1 otherwise): the daemon before and after the churn
    long long tracked_before = -1, tracked_after = -1, pidfds_before = -1, pidfds_after = -1;
    long long nodes_before = -1, nodes_after = -1;
    long long live_before = -1, live_after = -1; // pids in /proc when the counters were read
    long rss_before = -1, rss_after = -1;
    bool done = false;
};

// W6: one level of processes looked up through a fresh daemon.
struct MemoryLevel {
    size_t wanted = 0, sleepers = 0;
    long looked_up = 0, failed = 0;
    std::map<int, long> errors; // errno -> how many
    long long tracked = -1, pidfds = -1, nodes = -1;
    long rss = -1, fds = -1;
    long total_ok = 0; // processes looked up so far (all levels)
    double bytes_per_proc = NAN, marginal = NAN, bytes_per_lookedup = NAN;
};

struct Memory {
    std::vector<MemoryLevel> levels;
    long base_rss = -1, base_fds = -1;
    long long base_tracked = -1;
    std::string limit_note, budget_note;
};

// W7: resources=cgroup against procfsd's plain files and LXCFS, for one container.
struct ResourceFigures {
    std::map<std::string, Series> meminfo_us; // by target: procfsd-off, procfsd-res, lxcfs
    long errors = 0;
    // loadavg's background cost: daemon CPU over a window, with `cgroups` of `threads` each read
    double window_s = 0;
    size_t cgroups = 0, threads = 0;
    double procfsd_cpu_pct = NAN, lxcfs_cpu_pct = NAN;
    long long load_sampled = -1;
    std::string problem;
};

struct TargetFigures {
    // W1
    Series scan_ms;
    ScanStats last_scan;
    Series ps_ms;
    long ps_lines = 0;
    std::string ps_problem; // why ps is not measured there
    // W2: the second pass, and the FUSE requests of both passes (procfsd only)
    Series pass2_ms;
    Series requests_pass1, requests_pass2;
    // Pass-2 requests beyond one LOOKUP per path that failed (a process that ended between the
    // passes is looked up again and found gone: that is correct, not a cache miss).
    Series requests_pass2_unexplained;
    std::string requests_pass2_last; // "lookup=3 ..." of the last round with any
    // W3: µs per open/read/close, per file
    std::map<std::string, Series> w3_us;
    long w3_errors = 0;
    std::optional<ExitLatency> w4;
    std::optional<Churn> w5;
};

struct Results {
    std::map<std::string, TargetFigures> targets; // by target name
    std::optional<Memory> w6;
    std::optional<ResourceFigures> w7;

    TargetFigures& of(const Target& t) { return targets[t.name]; }
    // The figures of a target; nullptr if nothing was measured there.
    const TargetFigures* find(const std::string& name) const
    {
        auto it = targets.find(name);
        return it == targets.end() ? nullptr : &it->second;
    }
    // The figures of a target, empty ones if nothing was measured there.
    const TargetFigures& at(const std::string& name) const
    {
        static const TargetFigures none;
        auto* f = find(name);
        return f ? *f : none;
    }
    // A series of a target (an empty one if nothing was measured there).
    const Series& series(const std::string& name, Series TargetFigures::*which) const
    {
        static const Series none;
        auto* f = find(name);
        return f ? f->*which : none;
    }
    // The floor a target is compared with: the one on the same transport.
    static std::string floor_for(const std::string& name)
    {
        return name.size() > 6 && name.compare(name.size() - 6, 6, "-uring") == 0 ? "floor-uring" : "floor";
    }
    double median(const std::string& name, Series TargetFigures::*which) const
    {
        return series(name, which).median();
    }
    // W3's series of one file on a target.
    const Series& w3(const std::string& name, const std::string& file) const
    {
        static const Series none;
        auto* f = find(name);
        if (!f)
            return none;
        auto it = f->w3_us.find(file);
        return it == f->w3_us.end() ? none : it->second;
    }
};

} // namespace procfsd::bench
