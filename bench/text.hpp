// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// printf-style text for the tables and the notes on stderr.

#include <string>

namespace procfsd::bench {

std::string strprintf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// A progress or problem note on stderr: "-- <text>".
void note(const char* fmt, ...) __attribute__((format(printf, 1, 2)));

// A figure with `prec` decimals, "-" when there is none (NaN, infinite).
std::string fmt_num(double v, int prec = 1);

// A ratio as "1.23x", "-" when there is none.
std::string fmt_ratio(double v);

} // namespace procfsd::bench
