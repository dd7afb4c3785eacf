// SPDX-License-Identifier: GPL-2.0-or-later
// procfsd stats --format=openmetrics is OpenMetrics as a real parser reads it
// (python3-prometheus-client's): typed families, requests per mount, a cumulative histogram.
#include <catch2/catch_test_macros.hpp>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <fstream>

#include "harness.hpp"

using namespace procfsd::test;

namespace {

// Reads OpenMetrics on stdin and checks it; prints what is wrong, or "ok".
constexpr const char* checker = R"PY(
import sys
from prometheus_client.openmetrics.parser import text_string_to_metric_families
mounts = sys.argv[1:]
text = sys.stdin.read()
fams = {f.name: f for f in text_string_to_metric_families(text)}
bad = []
want = {"procfsd_tracked_processes": "gauge", "procfsd_pidfds": "gauge", "procfsd_open_files": "gauge",
        "procfsd_reaps_seen": "counter", "procfsd_invalidations": "counter",
        "procfsd_requests": "counter", "procfsd_reap_latency_seconds": "histogram"}
for name, kind in want.items():
    if name not in fams:
        bad.append("missing family " + name)
    elif fams[name].type != kind:
        bad.append(f"{name} is {fams[name].type}, not {kind}")
    elif not fams[name].documentation:
        bad.append(name + " has no HELP")
if "procfsd_requests" in fams:
    seen = {(s.labels["mountpoint"], s.labels["op"]): s.value for s in fams["procfsd_requests"].samples}
    for m in mounts:
        if seen.get((m, "lookup"), 0) <= 0:
            bad.append("no lookups counted for " + m)
if "procfsd_reap_latency_seconds" in fams:
    samples = fams["procfsd_reap_latency_seconds"].samples
    buckets = [s for s in samples if s.name.endswith("_bucket")]
    values = [s.value for s in buckets]
    if values != sorted(values):
        bad.append("histogram buckets are not cumulative")
    count = [s.value for s in samples if s.name.endswith("_count")]
    if not buckets or buckets[-1].labels["le"] != "+Inf" or count != [buckets[-1].value]:
        bad.append("histogram +Inf bucket and count disagree")
    if not count or count[0] < 10:
        bad.append("histogram counts fewer reaps than were made")
print("\n".join(bad) if bad else "ok")
)PY";

} // namespace

TEST_CASE("stats --format=openmetrics parses as OpenMetrics, requests per mount", "[metrics]")
{
    TestMount m("", {"hidepid=invisible"});
    for (size_t i = 0; i < 2; ++i)
        REQUIRE(read_file(m.mount_path(i, "self/status")));
    // Reaps for the histogram: processes looked up on the mount, then reaped.
    for (int i = 0; i < 20; ++i) {
        auto z = spawn_zombie();
        REQUIRE(lstat_errno(m.path(std::to_string(z.pid()))) == 0);
    }
    REQUIRE(wait_until([&] { return m.counter("reaps_seen") >= 20; }, 10s));
    std::string script = m.dir() + "/check.py";
    std::ofstream(script) << checker;
    int status = -1;
    std::string out = run_command(procfsd_binary() + " stats --format=openmetrics " + m.path() +
                                      " | /usr/bin/python3 " + script + " " + m.mount_path(0) + " " +
                                      m.mount_path(1) + " 2>&1",
                                  &status);
    ::unlink(script.c_str());
    INFO(out);
    CHECK(status == 0);
    CHECK(out == "ok\n");
    // The text format stays as it was.
    CHECK(m.counter("reaps_seen") >= 20);
}

TEST_CASE("every request is counted once, a rename too", "[metrics]")
{
    TestMount m;
    REQUIRE(read_file(m.path("meminfo")));
    REQUIRE(lstat_errno(m.path("meminfo2")) == ENOENT);
    auto before = m.counters();
    errno = 0;
    CHECK(::rename(m.path("meminfo").c_str(), m.path("meminfo2").c_str()) != 0);
    auto after = m.counters();
    CHECK(after["requests_other"] == before["requests_other"] + 1);
}
