// SPDX-License-Identifier: GPL-2.0-or-later
#include "report.hpp"

#include "text.hpp"

#include <cmath>
#include <cstdio>

namespace procfsd::bench {

void table_header(const std::string& title)
{
    std::printf("\n%s\n  %-18s %10s %10s %10s %-5s %9s %9s\n", title.c_str(), "target", "median",
                "min", "max", "unit", "x native", "x floor");
}

void table_row(const std::string& label, const Series& s, double native, double floor,
               const std::string& unit, const std::string& extra)
{
    double m = s.median();
    int prec = m < 10 ? 2 : 1;
    std::printf("  %-18s %10s %10s %10s %-5s %9s %9s  %s\n", label.c_str(),
                fmt_num(m, prec).c_str(), fmt_num(s.min(), prec).c_str(),
                fmt_num(s.max(), prec).c_str(), unit.c_str(), fmt_ratio(m / native).c_str(),
                fmt_ratio(m / floor).c_str(), extra.c_str());
}

Json series_json(const Series& s, double native, double floor)
{
    Json j = s.json();
    j["ratio_native"] = s.median() / native;
    if (std::isfinite(floor))
        j["ratio_floor"] = s.median() / floor;
    return j;
}

} // namespace procfsd::bench
