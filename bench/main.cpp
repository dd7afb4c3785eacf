// SPDX-License-Identifier: GPL-2.0-or-later
// procfsd-bench: the benchmark of the README's Performance section. Starts N background
// processes, mounts procfsd twice (hidepid=off with entry_timeout=3600, hidepid=invisible), the
// FUSE floor (procfsd-floor) and bindfs over /proc, and compares them with the kernel's /proc on
// six workloads, one file each (w1_ps_scan.cpp .. w6_memory.cpp, the interface in workload.hpp).
// Targets alternate within each round (rotated order); several rounds; medians, min/max and
// ratios to native (and to the floor), then the goals (goals.cpp). A table goes to stdout,
// everything to a JSON file. Everything started is stopped by pid; every mount is unmounted
// (lazily if need be), also when the bench is interrupted (emergency_stop.hpp).

#include "bench.hpp"
#include "options.hpp"

#include <cstdio>
#include <variant>

int main(int argc, char** argv)
{
    using namespace procfsd::bench;
    auto parsed = parse_options(argc, argv);
    if (auto* status = std::get_if<int>(&parsed))
        return *status;
    std::setvbuf(stdout, nullptr, _IOLBF, 0);
    Bench bench(std::move(std::get<Options>(parsed)));
    return bench.run();
}
