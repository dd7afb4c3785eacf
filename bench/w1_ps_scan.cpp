// SPDX-License-Identifier: GPL-2.0-or-later
// W1, a ps-like scan: in process (readdir of the root; per pid: stat of the directory, then
// open/read/close of stat, status, cmdline), and the real `ps -eo pid,user,comm,args` with the
// target bind-mounted over /proc in a private mount namespace. The pidns targets show the
// bench's pid namespace: the scan reads them from outside, ps runs inside.

#include "mount_tools.hpp"
#include "process_tools.hpp"
#include "report.hpp"
#include "text.hpp"
#include "workload.hpp"

#include <algorithm>
#include <cmath>

namespace procfsd::bench {

namespace {

constexpr const char* ps_command = "ps -eo pid,user,comm,args";

// ps on /proc itself for native; else in a new mount namespace with the target over /proc, in
// the bench's pid namespace for the pidns targets.
std::vector<std::string> ps_argv(const Context& ctx, const Target& t, const std::string& command)
{
    if (&t == &ctx.targets.native)
        return {"ps", "-eo", "pid,user,comm,args"};
    auto over = support::over_proc(t.root, command);
    if (!t.in_pidns)
        return over;
    std::vector<std::string> argv{"nsenter", "-t", std::to_string(ctx.targets.pidns_init()), "-p",
                                  "--"};
    argv.insert(argv.end(), over.begin(), over.end());
    return argv;
}

// Where ps runs besides the main targets: /proc in a mount namespace, the pidns targets.
std::vector<Target*> ps_extra(const Context& ctx)
{
    std::vector<Target*> extra{&ctx.targets.native_ns};
    extra.insert(extra.end(), ctx.targets.pidns_pair.begin(), ctx.targets.pidns_pair.end());
    return extra;
}

// A check that ps works on each target, and the lines it lists there.
void prepare(Context& ctx)
{
    std::vector<Target*> ps_targets(ctx.targets.main);
    for (Target* t : ps_extra(ctx))
        ps_targets.push_back(t);
    for (Target* t : ps_targets) {
        auto r = support::run_program(ps_argv(ctx, *t, ps_command), true);
        auto& fig = ctx.results.of(*t);
        fig.ps_lines = static_cast<long>(std::count(r.out.begin(), r.out.end(), '\n'));
        if (!support::exited_ok(r.status)) {
            fig.ps_problem =
                strprintf("exit status %d: %s", r.status, r.err.substr(0, 200).c_str());
            note("ps on %s fails: %s", t->name.c_str(), fig.ps_problem.c_str());
        }
    }
}

void run(Context& ctx, int round, const std::vector<Target*>& order)
{
    for (Target* t : with_group(order, ctx.targets.pidns_pair, round)) {
        auto s = scan_once(t->fd);
        auto& fig = ctx.results.of(*t);
        fig.scan_ms.add(s.seconds * 1e3);
        fig.last_scan = s;
    }
    for (Target* t : with_group(order, ps_extra(ctx), round)) {
        auto& fig = ctx.results.of(*t);
        if (!fig.ps_problem.empty())
            continue;
        auto r =
            support::run_program(ps_argv(ctx, *t, std::string(ps_command) + " >/dev/null"), false);
        if (!support::exited_ok(r.status)) {
            fig.ps_problem = strprintf("exit status %d", r.status);
            continue;
        }
        fig.ps_ms.add(r.seconds * 1e3);
    }
}

// One row of the ps table, and its JSON.
void ps_row(const std::string& name, const TargetFigures& fig, double native, double floor,
            const std::string& extra, Json& ps)
{
    table_row(name, fig.ps_ms, native, floor, "ms", extra);
    ps[name] = series_json(fig.ps_ms, native, floor);
    ps[name]["lines"] = fig.ps_lines;
    if (!fig.ps_problem.empty())
        ps[name]["problem"] = fig.ps_problem;
}

void report(const Context& ctx, Json& file)
{
    const Results& res = ctx.results;
    std::vector<std::string> names;
    for (Target* t : ctx.targets.main)
        names.push_back(t->name);

    table_header(
        strprintf("W1 ps-like scan, in process: readdir + per pid stat(dir), read stat, status, "
                  "cmdline (%ld pids)",
                  res.at("native").last_scan.pids));
    Json scan;
    double n = res.median("native", &TargetFigures::scan_ms);
    for (auto& name : names) {
        auto& fig = res.at(name);
        auto& ls = fig.last_scan;
        double f = res.median(Results::floor_for(name), &TargetFigures::scan_ms);
        table_row(name, fig.scan_ms, n, f, "ms",
                  strprintf("%.1f us/pid%s", fig.scan_ms.median() * 1e3 / std::max(1L, ls.pids),
                            ls.errors ? strprintf(", %ld errors", ls.errors).c_str() : ""));
        scan[name] = series_json(fig.scan_ms, n, f);
        scan[name]["pids"] = ls.pids;
        scan[name]["errors_last_round"] = ls.errors;
    }
    // The pidns targets' ratios are to the kernel's view of the same namespace.
    double np = res.median("native-pidns", &TargetFigures::scan_ms);
    for (Target* t : ctx.targets.pidns_pair) {
        auto& fig = res.at(t->name);
        auto& ls = fig.last_scan;
        table_row(t->name, fig.scan_ms, np, NAN, "ms",
                  strprintf("%.1f us/pid, %ld pids%s; x native: to native-pidns",
                            fig.scan_ms.median() * 1e3 / std::max(1L, ls.pids), ls.pids,
                            ls.errors ? strprintf(", %ld errors", ls.errors).c_str() : ""));
        scan[t->name] = series_json(fig.scan_ms, np, NAN);
        scan[t->name]["pids"] = ls.pids;
        scan[t->name]["errors_last_round"] = ls.errors;
    }
    file["W1_scan_ms"] = scan;

    table_header("W1 ps -eo pid,user,comm,args (FUSE targets: unshare -m, mount --bind X /proc)");
    Json ps;
    n = res.median("native", &TargetFigures::ps_ms);
    std::vector<std::string> ps_names(names);
    ps_names.insert(ps_names.begin() + 1, ctx.targets.native_ns.name);
    for (auto& name : ps_names) {
        auto& fig = res.at(name);
        std::string extra = strprintf("%ld lines", fig.ps_lines);
        if (!fig.ps_problem.empty())
            extra += "; FAILED: " + fig.ps_problem;
        if (name == ctx.targets.native_ns.name)
            extra += " (ps over /proc bound in a new namespace: the unshare+mount cost)";
        ps_row(name, fig, n, res.median(Results::floor_for(name), &TargetFigures::ps_ms), extra, ps);
    }
    np = res.median("native-pidns", &TargetFigures::ps_ms);
    for (Target* t : ctx.targets.pidns_pair) {
        auto& fig = res.at(t->name);
        ps_row(
            t->name, fig, np, NAN,
            strprintf("%ld lines%s; inside the namespace (nsenter -p); x native: to native-pidns",
                      fig.ps_lines,
                      fig.ps_problem.empty() ? "" : ("; FAILED: " + fig.ps_problem).c_str()),
            ps);
    }
    file["W1_ps_ms"] = ps;
}

} // namespace

const Workload w1_ps_scan{"W1", Workload::Schedule::each_round, prepare, run, report};

} // namespace procfsd::bench
