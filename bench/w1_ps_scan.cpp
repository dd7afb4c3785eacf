// SPDX-License-Identifier: GPL-2.0-or-later
// W1, a ps-like scan: in process (readdir of the root; per pid: stat of the directory, then
// open/read/close of stat, status, cmdline), and the real `ps -eo pid,user,comm,args` with the
// target bind-mounted over /proc in a private mount namespace.

#include "mount_tools.hpp"
#include "process_tools.hpp"
#include "report.hpp"
#include "text.hpp"
#include "workload.hpp"

#include <algorithm>

namespace procfsd::bench {

namespace {

constexpr const char* ps_command = "ps -eo pid,user,comm,args";

// ps on /proc itself for native; else in a new mount namespace with the target over /proc.
std::vector<std::string> ps_argv(const Context& ctx, const Target& t, const std::string& command)
{
    if (&t == &ctx.targets.native)
        return {"ps", "-eo", "pid,user,comm,args"};
    return support::over_proc(t.root, command);
}

// A check that ps works on each target, and the lines it lists there.
void prepare(Context& ctx)
{
    std::vector<Target*> ps_targets(ctx.targets.main);
    ps_targets.push_back(&ctx.targets.native_ns);
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
    for (Target* t : order) {
        auto s = scan_once(t->fd);
        auto& fig = ctx.results.of(*t);
        fig.scan_ms.add(s.seconds * 1e3);
        fig.last_scan = s;
    }
    std::vector<Target*> list(order);
    list.insert(list.begin() + (round % static_cast<int>(list.size() + 1)), &ctx.targets.native_ns);
    for (Target* t : list) {
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
    double f = res.median("floor", &TargetFigures::scan_ms);
    for (auto& name : names) {
        auto& fig = res.at(name);
        auto& ls = fig.last_scan;
        table_row(name, fig.scan_ms, n, f, "ms",
                  strprintf("%.1f us/pid%s", fig.scan_ms.median() * 1e3 / std::max(1L, ls.pids),
                            ls.errors ? strprintf(", %ld errors", ls.errors).c_str() : ""));
        scan[name] = series_json(fig.scan_ms, n, f);
        scan[name]["pids"] = ls.pids;
        scan[name]["errors_last_round"] = ls.errors;
    }
    file["W1_scan_ms"] = scan;

    table_header("W1 ps -eo pid,user,comm,args (FUSE targets: unshare -m, mount --bind X /proc)");
    Json ps;
    n = res.median("native", &TargetFigures::ps_ms);
    f = res.median("floor", &TargetFigures::ps_ms);
    std::vector<std::string> ps_names(names);
    ps_names.insert(ps_names.begin() + 1, ctx.targets.native_ns.name);
    for (auto& name : ps_names) {
        auto& fig = res.at(name);
        std::string extra = strprintf("%ld lines", fig.ps_lines);
        if (!fig.ps_problem.empty())
            extra += "; FAILED: " + fig.ps_problem;
        if (name == ctx.targets.native_ns.name)
            extra += " (ps over /proc bound in a new namespace: the unshare+mount cost)";
        table_row(name, fig.ps_ms, n, f, "ms", extra);
        ps[name] = series_json(fig.ps_ms, n, f);
        ps[name]["lines"] = fig.ps_lines;
        if (!fig.ps_problem.empty())
            ps[name]["problem"] = fig.ps_problem;
    }
    file["W1_ps_ms"] = ps;
}

} // namespace

const Workload w1_ps_scan{"W1", Workload::Schedule::each_round, prepare, run, report};

} // namespace procfsd::bench
