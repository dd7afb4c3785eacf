// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// A series of samples (one a round, or one an event) and its statistics; NaN when empty.

#include "json.hpp"

#include <vector>

namespace procfsd::bench {

struct Series {
    std::vector<double> v;

    void add(double x) { v.push_back(x); }
    bool empty() const { return v.empty(); }
    // The nearest-rank percentile p (0..100).
    double pct(double p) const;
    double median() const;
    double min() const;
    double max() const;
    double mean() const;
    // {"samples", "median", "min", "max"}
    Json json() const;
};

} // namespace procfsd::bench
