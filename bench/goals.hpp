// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The benchmark's goals (README, Performance), judged on the results: the "Targets" lines.

#include "json.hpp"
#include "results.hpp"

namespace procfsd::bench {

// Prints the Targets lines and puts them into the results file ("goals").
void report_goals(const Results& results, Json& file);

} // namespace procfsd::bench
