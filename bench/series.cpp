// SPDX-License-Identifier: GPL-2.0-or-later
#include "series.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace procfsd::bench {

namespace {

std::vector<double> sorted(std::vector<double> v)
{
    std::sort(v.begin(), v.end());
    return v;
}

} // namespace

double Series::pct(double p) const
{
    if (v.empty())
        return NAN;
    auto s = sorted(v);
    double rank = std::ceil(p / 100.0 * static_cast<double>(s.size()));
    size_t i = rank < 1 ? 0 : static_cast<size_t>(rank) - 1;
    return s[std::min(i, s.size() - 1)];
}

double Series::median() const
{
    if (v.empty())
        return NAN;
    auto s = sorted(v);
    size_t n = s.size();
    return n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
}

double Series::min() const
{
    return v.empty() ? NAN : *std::min_element(v.begin(), v.end());
}

double Series::max() const
{
    return v.empty() ? NAN : *std::max_element(v.begin(), v.end());
}

double Series::mean() const
{
    return v.empty() ? NAN
                     : std::accumulate(v.begin(), v.end(), 0.0) / static_cast<double>(v.size());
}

Json Series::json() const
{
    Json j;
    j["samples"] = Json(v);
    j["median"] = median();
    j["min"] = min();
    j["max"] = max();
    return j;
}

} // namespace procfsd::bench
