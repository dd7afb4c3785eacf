// SPDX-License-Identifier: GPL-2.0-or-later
// W2, warm stat: stat of every <pid> and <pid>/status three times; the last pass is timed and, on
// procfsd, its FUSE requests counted from the daemon's counters (a warm mount sends none).

#include "clock.hpp"
#include "file_tools.hpp"
#include "report.hpp"
#include "text.hpp"
#include "workload.hpp"

#include <sys/stat.h>

#include <algorithm>

namespace procfsd::bench {

namespace {

void run(Context& ctx, int, const std::vector<Target*>& order)
{
    for (Target* t : order) {
        auto pids = support::list_pids(t->fd);
        std::vector<std::string> paths;
        paths.reserve(pids.size() * 2);
        for (auto& p : pids) {
            paths.push_back(p);
            paths.push_back(p + "/status");
        }
        auto pass = [&] {
            struct stat st {
            };
            long errors = 0;
            for (auto& p : paths)
                if (::fstatat(t->fd, p.c_str(), &st, 0) != 0)
                    ++errors;
            return errors;
        };
        Counters before, c0, c1;
        if (t->is_procfsd())
            before = ctx.targets.counters(*t);
        pass();
        // Again, unmeasured: a first pass slower than the attribute timeout (1 s: thousands of
        // cold lookups on a busy machine) lets its first entries expire, which this refreshes
        // in a few ms, so that the measured pass meets a warm mount.
        pass();
        if (t->is_procfsd())
            c0 = ctx.targets.counters(*t);
        int64_t t0 = now_ns();
        long vanished = pass();
        double ms = seconds_since(t0) * 1e3;
        auto& fig = ctx.results.of(*t);
        if (t->is_procfsd()) {
            c1 = ctx.targets.counters(*t);
            long long req2 = requests_total(c1) - requests_total(c0);
            fig.requests_pass1.add(
                static_cast<double>(requests_total(c0) - requests_total(before)));
            fig.requests_pass2.add(static_cast<double>(req2));
            fig.requests_pass2_unexplained.add(static_cast<double>(std::max(0LL, req2 - vanished)));
            std::string b = request_breakdown(c0, c1);
            if (!b.empty())
                fig.requests_pass2_last = b;
        }
        fig.pass2_ms.add(ms);
    }
}

void report(const Context& ctx, Json& file)
{
    const Results& res = ctx.results;
    table_header("W2 warm stat: stat <pid> and <pid>/status for every pid, the third pass");
    Json j;
    double n = res.median("native", &TargetFigures::pass2_ms);
    for (Target* t : ctx.targets.main) {
        auto& name = t->name;
        double f = res.median(Results::floor_for(name), &TargetFigures::pass2_ms);
        auto& fig = res.at(name);
        bool counted = !fig.requests_pass2.empty();
        const std::string& last = fig.requests_pass2_last;
        std::string extra;
        if (counted)
            extra = strprintf("FUSE requests: passes 1+2 %.0f, pass 3 %.0f (median)%s",
                              fig.requests_pass1.median(), fig.requests_pass2.median(),
                              last.empty() ? "" : (" [" + last + "]").c_str());
        table_row(name, fig.pass2_ms, n, f, "ms", extra);
        j[name] = series_json(fig.pass2_ms, n, f);
        if (counted) {
            j[name]["requests_pass1"] = fig.requests_pass1.json();
            j[name]["requests_pass2"] = fig.requests_pass2.json();
            j[name]["requests_pass2_not_for_vanished_processes"] =
                fig.requests_pass2_unexplained.json();
            if (!last.empty())
                j[name]["requests_pass2_last"] = last;
        }
    }
    file["W2_pass2_ms"] = j;
}

} // namespace

const Workload w2_warm_stat{"W2", Workload::Schedule::each_round, nullptr, run, report};

} // namespace procfsd::bench
