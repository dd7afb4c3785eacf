// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The tables of the workloads. Those that compare targets (W1..W3): a header, one row per target
// with median, min, max and the ratios to native and to the floor.

#include "json.hpp"
#include "results.hpp"
#include "series.hpp"

#include <string>

namespace procfsd::bench {

void table_header(const std::string& title);
void table_row(const std::string& label, const Series& s, double native, double floor,
               const std::string& unit, const std::string& extra = "");
// The series with its ratios, as a table row shows them.
Json series_json(const Series& s, double native, double floor);

// The rows of a table of what only some targets have (W4, W5), in the order of their names:
// row(name, figures) prints one and returns its JSON; the JSON of all, by target name.
template <class Figures, class Row>
Json rows_of_targets_with(const Results& results, std::optional<Figures> TargetFigures::*which,
                          Row row)
{
    Json all;
    for (auto& [name, fig] : results.targets)
        if (fig.*which)
            all[name] = row(name, *(fig.*which));
    return all;
}

} // namespace procfsd::bench
