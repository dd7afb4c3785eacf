// SPDX-License-Identifier: GPL-2.0-or-later
// W3, single files: open/read/close of meminfo, uptime and self/stat, --w3-iters times each.

#include "clock.hpp"
#include "report.hpp"
#include "text.hpp"
#include "workload.hpp"

namespace procfsd::bench {

namespace {

constexpr const char* w3_files[] = {"meminfo", "uptime", "self/stat"};

void run(Context& ctx, int, const std::vector<Target*>& order)
{
    static std::vector<char> buf(1 << 16);
    long iters = ctx.options.w3_iters;
    for (Target* t : order) {
        auto& fig = ctx.results.of(*t);
        for (const char* f : w3_files) {
            long errors = 0;
            int64_t t0 = now_ns();
            for (long i = 0; i < iters; ++i)
                if (read_whole(t->fd, f, buf.data(), buf.size()) < 0)
                    ++errors;
            fig.w3_us[f].add(seconds_since(t0) * 1e6 / static_cast<double>(iters));
            fig.w3_errors += errors;
        }
    }
}

void report(const Context& ctx, Json& file)
{
    const Results& res = ctx.results;
    Json j;
    for (const char* f : w3_files) {
        table_header(strprintf("W3 open/read/close %s, %ld times", f, ctx.options.w3_iters));
        double n = res.w3("native", f).median(), fl = res.w3("floor", f).median();
        for (Target* t : ctx.targets.main) {
            long errors = res.at(t->name).w3_errors;
            table_row(t->name, res.w3(t->name, f), n, fl, "us/op",
                      errors ? strprintf("%ld errors in all", errors) : "");
            j[t->name][f] = series_json(res.w3(t->name, f), n, fl);
        }
    }
    file["W3_us_per_op"] = j;
}

} // namespace

const Workload w3_single_files{"W3", Workload::Schedule::each_round, nullptr, run, report};

} // namespace procfsd::bench
