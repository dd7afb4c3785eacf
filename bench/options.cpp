// SPDX-License-Identifier: GPL-2.0-or-later
#include "options.hpp"

#include "command_line.hpp"

#include <algorithm>

#ifndef PROCFSD_BENCH_PROCFSD
#define PROCFSD_BENCH_PROCFSD "procfsd"
#endif
#ifndef PROCFSD_BENCH_FLOOR
#define PROCFSD_BENCH_FLOOR "procfsd-floor"
#endif
#ifndef PROCFSD_BENCH_JSON
#define PROCFSD_BENCH_JSON "bench-results.json"
#endif

namespace procfsd::bench {

std::variant<Options, int> parse_options(int argc, char** argv)
{
    Options o;
    o.procfsd = PROCFSD_BENCH_PROCFSD;
    o.floor = PROCFSD_BENCH_FLOOR;
    o.json = PROCFSD_BENCH_JSON;
    std::vector<size_t> levels;
    std::vector<std::string> only;

    CLI::App app{
        "procfsd-bench: procfsd against /proc, the FUSE floor and bindfs (README, Performance). "
        "Run it as root."};
    app.add_option("--procfsd", o.procfsd,
                   "the procfsd binary (default: the one built with this bench)");
    app.add_option("--floor", o.floor, "the procfsd-floor binary (default: the one built here)");
    app.add_option("--bindfs", o.bindfs,
                   "bindfs (default: bindfs from PATH); --no-bindfs to skip it");
    app.add_flag("--no-bindfs", o.no_bindfs, "do not measure bindfs");
    app.add_option("--procs", o.procs, "background processes (default 2000, at most 30000)")
        ->check(CLI::Range(1, 30000));
    app.add_option("--pidns-procs", o.pidns_procs,
                   "processes in the pid namespace that the pidns targets show (W1, W3; default "
                   "1000, 0: no pidns targets)")
        ->check(CLI::Range(0, 30000));
    app.add_option("--rounds", o.rounds, "rounds per workload (default 5)")
        ->check(CLI::Range(1, 100));
    app.add_option("--json", o.json, "results file (default " PROCFSD_BENCH_JSON ")");
    app.add_option("--w3-iters", o.w3_iters, "W3 open/read/close per file (default 10000)")
        ->check(CLI::Range(1, 10'000'000));
    app.add_option("--w4-procs", o.w4_procs, "W4 processes per target (default 1000)")
        ->check(CLI::Range(1, 1'000'000));
    app.add_option("--w5-procs", o.w5_procs, "W5 short-lived processes per target (default 20000)")
        ->check(CLI::Range(1, 10'000'000));
    auto* w6 =
        app.add_option("--w6-levels", levels, "W6 process counts, A,B,C (default 2000,10000,30000)")
            ->delimiter(',')
            ->check(CLI::Range(1, 60000));
    app.add_option("--only", only, "run only these workloads: W1,W3,...")->delimiter(',');

    if (int status = parse_command_line(app, argc, argv); status >= 0)
        return status;
    if (w6->count() > 0) {
        std::sort(levels.begin(), levels.end());
        o.w6_levels = levels;
    }
    for (auto& w : only)
        if (!w.empty())
            o.only.insert(w);
    return o;
}

} // namespace procfsd::bench
