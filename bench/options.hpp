// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <cstddef>
#include <set>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace procfsd::bench {

struct Options {
    std::string procfsd; // default: the one built with this bench
    std::string floor;   // default: the procfsd-floor built with it
    std::string bindfs = "bindfs";
    std::string json;    // the results file; default: bench-results.json in the build directory
    size_t procs = 2000; // background processes
    size_t pidns_procs = 1000; // in the pid namespace of the pidns targets (W1, W3); 0: none
    int rounds = 5;
    long w3_iters = 10000;
    long w4_procs = 1000;
    long w5_procs = 20000;
    std::vector<size_t> w6_levels{2000, 10000, 30000}; // ascending
    std::set<std::string> only;                        // W1..W6; empty: all
    bool no_bindfs = false;

    bool wants(std::string_view workload) const
    {
        return only.empty() || only.count(std::string(workload));
    }
};

// The options of the command line, or the exit status to end with: 0 after --help, 2 after a
// usage error (said on stderr).
std::variant<Options, int> parse_options(int argc, char** argv);

} // namespace procfsd::bench
