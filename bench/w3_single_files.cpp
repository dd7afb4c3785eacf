// SPDX-License-Identifier: GPL-2.0-or-later
// W3, single files: open/read/close of meminfo, uptime and self/stat, --w3-iters times each. The
// pidns targets are read by a process in the bench's pid namespace, whose self is its own there;
// it reads native and procfsd-off too (as "<name>-inside"), so that the pidns mount is compared
// with a host mount read by the same process (a forked reader's figures differ from the bench's
// own by 10-15% on this machine, whatever the mount).

#include "clock.hpp"
#include "pid_namespace.hpp"
#include "process_tools.hpp"
#include "report.hpp"
#include "text.hpp"
#include "workload.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <vector>

namespace procfsd::bench {

namespace {

constexpr const char* w3_files[] = {"meminfo", "uptime", "self/stat"};

struct FileTime {
    double us_per_op = 0;
    long errors = 0;
};
using FileTimes = std::array<FileTime, std::size(w3_files)>;

FileTimes read_files(const Target& t, long iters)
{
    static std::vector<char> buf(1 << 16);
    FileTimes out;
    for (size_t f = 0; f < std::size(w3_files); ++f) {
        int64_t t0 = now_ns();
        for (long i = 0; i < iters; ++i)
            if (read_whole(t.fd, w3_files[f], buf.data(), buf.size()) < 0)
                ++out[f].errors;
        out[f].us_per_op = seconds_since(t0) * 1e6 / static_cast<double>(iters);
    }
    return out;
}

void record(TargetFigures& fig, const FileTimes& times)
{
    for (size_t f = 0; f < std::size(w3_files); ++f) {
        fig.w3_us[w3_files[f]].add(times[f].us_per_op);
        fig.w3_errors += times[f].errors;
    }
}

// What the reader inside reads: the pidns targets, and native and procfsd-off to compare with.
std::vector<Target*> read_from_inside(const Context& ctx)
{
    std::vector<Target*> group(ctx.targets.pidns_pair);
    for (Target* t : {&ctx.targets.native, &ctx.targets.off})
        if (t->measured) // up while the rounds run; still so when the report comes
            group.push_back(t);
    return group;
}

// The figures of `t` as the reader inside measured them.
TargetFigures& inside_figures(Context& ctx, const Target& t)
{
    return t.in_pidns ? ctx.results.of(t) : ctx.results.targets[t.name + "-inside"];
}

// Read by a process forked into the namespace; it sends its times back.
void read_inside(Context& ctx, int round)
{
    auto group = rotated(read_from_inside(ctx), round);
    int p[2];
    if (::pipe2(p, O_CLOEXEC) != 0) {
        note("W3 inside the pid namespace: pipe: %s", std::strerror(errno));
        return;
    }
    long iters = ctx.options.w3_iters;
    auto reader = support::fork_into(ctx.targets.pidns_fd(), [&] {
        ::close(p[0]);
        for (Target* t : group) {
            FileTimes times = read_files(*t, iters);
            if (::write(p[1], &times, sizeof times) != sizeof times)
                return 1;
        }
        return 0;
    });
    ::close(p[1]);
    for (Target* t : group) {
        FileTimes times;
        size_t got = 0;
        while (got < sizeof times) {
            ssize_t n = ::read(p[0], reinterpret_cast<char*>(&times) + got, sizeof times - got);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            got += static_cast<size_t>(n);
        }
        if (got < sizeof times) {
            note("W3 inside the pid namespace: the reader ended before %s", t->name.c_str());
            break;
        }
        record(inside_figures(ctx, *t), times);
    }
    ::close(p[0]);
    if (reader.helper > 0)
        support::wait_child(reader.helper);
}

void run(Context& ctx, int round, const std::vector<Target*>& order)
{
    // nullptr: where the pidns targets take their turn.
    std::vector<Target*> inside;
    if (!ctx.targets.pidns_pair.empty())
        inside.push_back(nullptr);
    for (Target* t : with_group(order, inside, round)) {
        if (!t)
            read_inside(ctx, round);
        else
            record(ctx.results.of(*t), read_files(*t, ctx.options.w3_iters));
    }
}

void report(const Context& ctx, Json& file)
{
    const Results& res = ctx.results;
    Json j;
    for (const char* f : w3_files) {
        table_header(strprintf("W3 open/read/close %s, %ld times", f, ctx.options.w3_iters));
        double n = res.w3("native", f).median();
        for (Target* t : ctx.targets.main) {
            double fl = res.w3(Results::floor_for(t->name), f).median();
            long errors = res.at(t->name).w3_errors;
            table_row(t->name, res.w3(t->name, f), n, fl, "us/op",
                      errors ? strprintf("%ld errors in all", errors) : "");
            j[t->name][f] = series_json(res.w3(t->name, f), n, fl);
        }
        // Read inside the namespace: the pidns targets to native-pidns, the host ones to native.
        for (Target* t : read_from_inside(ctx)) {
            std::string name = t->in_pidns ? t->name : t->name + "-inside";
            double base = res.w3(t->in_pidns ? "native-pidns" : "native-inside", f).median();
            long errors = res.at(name).w3_errors;
            table_row(name, res.w3(name, f), base, NAN, "us/op",
                      strprintf("read inside the namespace; x native: to %s%s",
                                t->in_pidns ? "native-pidns" : "native-inside",
                                errors ? strprintf("; %ld errors in all", errors).c_str() : ""));
            j[name][f] = series_json(res.w3(name, f), base, NAN);
        }
    }
    file["W3_us_per_op"] = j;
}

} // namespace

const Workload w3_single_files{"W3", Workload::Schedule::each_round, nullptr, run, report};

} // namespace procfsd::bench
