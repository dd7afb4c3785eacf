// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The benchmark run: the machine's limits raised, the background processes and the targets
// started, a warm-up, the workloads --only asks for (round-based ones alternating the targets
// in a rotated order each round), everything stopped, then the report and the results file.

#include "json.hpp"
#include "options.hpp"
#include "results.hpp"
#include "sleepers.hpp"
#include "targets.hpp"
#include "workload.hpp"

#include <cstdint>
#include <vector>

namespace procfsd::bench {

class Bench {
public:
    explicit Bench(Options options);
    ~Bench() { teardown(); }
    Bench(const Bench&) = delete;
    Bench& operator=(const Bench&) = delete;

    // The exit status: 0, or 1 if it could not run or write its results.
    int run();

private:
    void raise_limits();
    void describe_run();
    void start_sleepers();
    void warm_up();
    void run_workloads();
    void teardown();
    void report();

    Options opt_;
    TargetSet targets_;
    Sleepers sleepers_;
    Results results_;
    Context ctx_;
    std::vector<const Workload*> workloads_; // those --only asks for
    Json file_ = Json::object();             // the results file
    size_t system_pids_ = 0;
    int64_t start_ns_;
};

} // namespace procfsd::bench
