// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// One workload of the benchmark (W1..W6, README, Performance), one file each: its name, what it
// runs on the targets, and how it reports. The bench runs each workload --only asks for:
// prepare() once, then run() every round (Schedule::each_round, the targets in a rotated order
// each round) or once after the rounds (Schedule::once); after teardown, report() prints its
// tables and adds its sections to the results file. Figures go to Results, which the goals read
// too.

#include "json.hpp"
#include "options.hpp"
#include "results.hpp"
#include "sleepers.hpp"
#include "targets.hpp"

#include <string_view>
#include <vector>

namespace procfsd::bench {

struct Context {
    const Options& options;
    TargetSet& targets;
    Sleepers& sleepers;
    Results& results;
};

struct Workload {
    enum class Schedule { each_round, once };

    std::string_view name; // "W1".."W6", as --only names it
    Schedule schedule;
    // Before the first round (the targets are warm by then): a check, an unmeasured pass. May
    // be null.
    void (*prepare)(Context& ctx);
    // each_round: this round's order of the targets up; once: round 0, the targets up in order.
    void (*run)(Context& ctx, int round, const std::vector<Target*>& order);
    // Its tables on stdout, its sections in the results file.
    void (*report)(const Context& ctx, Json& file);
};

// In the order they run and report.
extern const Workload w1_ps_scan, w2_warm_stat, w3_single_files, w4_exit_latency, w5_churn,
    w6_memory, w7_resources;

} // namespace procfsd::bench
