// SPDX-License-Identifier: GPL-2.0-or-later
// Bounded stress: 20,000 short-lived processes, each looked up through a mount that caches
// entries for an hour and then reaped, while another thread keeps listing the root and
// looking up pid directories. Afterwards no dead process is visible, the mount agrees with
// /proc, the daemon tracks and watches (almost) nothing any more and its memory did not grow.
//
// The figures measured (durations, RSS, counters) are printed to the test log.
#include <catch2/catch_test_macros.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "harness.hpp"

using namespace procfsd::test;

namespace {

constexpr int warmup_processes = 2000;
constexpr int measured_processes = 20000;
// Children alive at once: each batch is forked, looked up, killed and reaped together, so that
// exits and reaps reach the daemon's watcher in bursts.
constexpr int batch_size = 50;
// The daemon's RSS after the run may exceed the post-warm-up baseline by this much at most.
constexpr double rss_tolerance = 0.10;

bool is_pid_name(const std::string& name)
{
    return !name.empty() && name[0] != '0' &&
           std::all_of(name.begin(), name.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::set<pid_t> pids_listed(const std::string& dir)
{
    std::set<pid_t> out;
    if (auto names = list_dir(dir))
        for (auto& n : *names)
            if (is_pid_name(n))
                out.insert(static_cast<pid_t>(std::stol(n)));
    return out;
}

// VmRSS of a process in KiB; -1 if unknown.
long rss_kib(pid_t pid)
{
    auto status = read_file("/proc/" + std::to_string(pid) + "/status");
    if (!status)
        return -1;
    auto pos = status->find("\nVmRSS:");
    return pos == std::string::npos ? -1 : std::atol(status->c_str() + pos + 7);
}

// One `procfsd stats` of the daemon: its counters, and the size of the mount's node table
// (from the "mount PATH OPTIONS nodes=N" line).
struct Stats {
    std::map<std::string, long long> values;
    long long nodes = -1;

    long long operator[](const std::string& key) const
    {
        auto it = values.find(key);
        return it == values.end() ? -1 : it->second;
    }
};

Stats stats_of(const TestMount& m)
{
    Stats s;
    std::istringstream in(run_command(procfsd_binary() + " stats " + m.path()));
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string key, value;
        if (!(fields >> key >> value))
            continue;
        if (key == "mount") {
            auto pos = line.find(" nodes=");
            if (value == m.path() && pos != std::string::npos)
                s.nodes = std::atoll(line.c_str() + pos + 7);
            continue;
        }
        char* end = nullptr;
        long long v = std::strtoll(value.c_str(), &end, 10);
        if (end && *end == '\0')
            s.values[key] = v;
    }
    return s;
}

double seconds_since(std::chrono::steady_clock::time_point t)
{
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

// Keeps listing the mount's root and looking up pid directories found there (the newest ones,
// the test's own short-lived children most of the time, and a rotating few others) until
// stopped. Anything but success or ENOENT is recorded.
class Scanner {
public:
    explicit Scanner(const TestMount& m) : m_(m), thread_([this] { run(); }) {}
    Scanner(const Scanner&) = delete;
    Scanner& operator=(const Scanner&) = delete;
    ~Scanner() { stop(); }

    void stop()
    {
        stop_ = true;
        if (thread_.joinable())
            thread_.join();
    }

    long passes() const { return passes_; }
    long lookups_ok() const { return ok_; }
    long lookups_gone() const { return gone_; }
    long unexpected() const { return unexpected_; }
    std::vector<std::string> examples() const
    {
        std::lock_guard lock(mu_);
        return examples_;
    }

private:
    void record(const std::string& what, int err)
    {
        ++unexpected_;
        std::lock_guard lock(mu_);
        if (examples_.size() < 10)
            examples_.push_back(what + ": " + std::strerror(err));
    }

    void look_up(const std::string& pid)
    {
        for (const std::string& rel : {pid, pid + "/status"}) {
            int err = lstat_errno(m_.path(rel));
            if (err == 0) {
                ++ok_;
                continue;
            }
            if (err == ENOENT) {
                ++gone_;
                return;
            }
            record("lstat " + rel, err);
            return;
        }
    }

    void run()
    {
        size_t cursor = 0;
        while (!stop_) {
            auto names = list_dir(m_.path());
            if (!names) {
                record("list the root", errno);
                std::this_thread::sleep_for(1ms);
                continue;
            }
            std::vector<std::string> pids;
            for (auto& n : *names)
                if (is_pid_name(n))
                    pids.push_back(n);
            // Listed in ascending pid order: the last ones are the newest processes.
            for (size_t i = 0; i < 8 && i < pids.size(); ++i)
                look_up(pids[pids.size() - 1 - i]);
            for (size_t i = 0; i < 4 && !pids.empty(); ++i)
                look_up(pids[cursor++ % pids.size()]);
            ++passes_;
        }
    }

    const TestMount& m_;
    std::atomic<bool> stop_{false};
    std::atomic<long> passes_{0}, ok_{0}, gone_{0}, unexpected_{0};
    mutable std::mutex mu_;
    std::vector<std::string> examples_;
    std::thread thread_; // last: starts once everything else is constructed
};

struct Churn {
    std::vector<pid_t> pids;      // every child, in spawn order
    long lookup_failures = 0;     // a live (or zombie) child not found through the mount
    std::vector<std::string> examples;
    double seconds = 0;
};

// Forks `count` children in batches; each is looked up (M/<pid> and M/<pid>/status) while it
// exists, then killed and reaped. Half of them exit by themselves at once (looked up as
// zombies), the other half wait to be killed.
void churn(const TestMount& m, int count, Churn& out)
{
    auto start = std::chrono::steady_clock::now();
    std::vector<pid_t> batch;
    for (int done = 0; done < count;) {
        int n = std::min(batch_size, count - done);
        batch.clear();
        for (int i = 0; i < n; ++i) {
            pid_t pid = ::fork();
            if (pid == 0) {
                if (i % 2)
                    ::_exit(0);
                for (;;)
                    ::pause();
            }
            REQUIRE(pid > 0);
            batch.push_back(pid);
        }
        for (pid_t pid : batch) {
            std::string p = std::to_string(pid);
            for (const std::string& rel : {p, p + "/status"}) {
                if (int err = lstat_errno(m.path(rel)); err != 0) {
                    if (out.examples.size() < 10)
                        out.examples.push_back("lstat " + rel + ": " + std::strerror(err));
                    ++out.lookup_failures;
                    break;
                }
            }
        }
        for (pid_t pid : batch)
            ::kill(pid, SIGKILL);
        for (pid_t pid : batch)
            ::waitpid(pid, nullptr, 0);
        out.pids.insert(out.pids.end(), batch.begin(), batch.end());
        done += n;
    }
    out.seconds = seconds_since(start);
}

// Waits until the daemon tracks and watches at most `bound` processes; returns the last stats.
Stats settle(const TestMount& m, long long bound)
{
    Stats s;
    wait_until([&] {
        s = stats_of(m);
        return s["tracked_processes"] >= 0 && s["tracked_processes"] <= bound && s["pidfds"] <= bound;
    }, 10s);
    return s;
}

} // namespace

TEST_CASE("20,000 short-lived processes: none stays visible, nothing leaks", "[stress]")
{
    TestMount m("entry_timeout=3600");
    const pid_t daemon = m.daemon_pid();
    auto test_start = std::chrono::steady_clock::now();

    // Warm-up: the same load, so that the daemon's worker threads, their buffers and the
    // allocator's arenas exist before the baseline is measured.
    Churn warm;
    {
        Scanner scanner(m);
        churn(m, warmup_processes, warm);
        scanner.stop();
        CHECK(scanner.unexpected() == 0);
    }
    CHECK(warm.lookup_failures == 0);
    // Live processes now bound what the daemon may still track: the scanner looked some of
    // them up, and the kernel keeps those entries for an hour.
    long long bound = static_cast<long long>(pids_listed("/proc").size()) + 16;
    Stats base = settle(m, bound);
    long rss_base = rss_kib(daemon);
    std::printf("stress: warm-up of %d processes in %.2f s; daemon VmRSS %ld KiB, "
                "tracked_processes %lld, pidfds %lld, nodes %lld\n",
                warmup_processes, warm.seconds, rss_base, base["tracked_processes"],
                base["pidfds"], base.nodes);

    // The measured run.
    Churn run;
    Scanner scanner(m);
    churn(m, measured_processes, run);
    scanner.stop();
    std::printf("stress: %d processes in %.2f s (%.0f per second); scanner: %ld passes, "
                "%ld lookups found, %ld gone, %ld unexpected errors\n",
                measured_processes, run.seconds, measured_processes / run.seconds,
                scanner.passes(), scanner.lookups_ok(), scanner.lookups_gone(),
                scanner.unexpected());
    {
        INFO("first failures: " << [&] {
            std::string s;
            for (auto& e : run.examples)
                s += "\n  " + e;
            return s;
        }());
        CHECK(run.lookup_failures == 0);
    }
    {
        auto examples = scanner.examples();
        std::string s;
        for (auto& e : examples)
            s += "\n  " + e;
        INFO("scanner errors other than ENOENT:" << s);
        CHECK(scanner.unexpected() == 0);
    }
    CHECK(scanner.passes() > 0);

    // No dead process is visible: for every pid the test used, the mount agrees with /proc
    // (a pid now reused by another process included). Pids that changed between the two looks
    // at /proc are left out.
    std::set<pid_t> used(run.pids.begin(), run.pids.end());
    used.insert(warm.pids.begin(), warm.pids.end());
    std::vector<std::string> disagreements;
    size_t compared = 0, alive_now = 0;
    for (pid_t pid : used) {
        std::string p = std::to_string(pid);
        int before = lstat_errno("/proc/" + p);
        int mounted = lstat_errno(m.path(p));
        int after = lstat_errno("/proc/" + p);
        if (before != after)
            continue;
        ++compared;
        alive_now += before == 0;
        if (mounted != before)
            disagreements.push_back(p + ": /proc " + std::strerror(before) + ", mount " +
                                    std::strerror(mounted));
    }
    // A disagreement that lasts beyond the attribute timeout (1 s) is a stale entry; one that
    // does not is a cached attribute of a process reaped a moment ago. Both are reported.
    std::vector<std::string> lasting;
    if (!disagreements.empty()) {
        std::this_thread::sleep_for(1500ms);
        for (auto& d : disagreements) {
            std::string p = d.substr(0, d.find(':'));
            int before = lstat_errno("/proc/" + p);
            int mounted = lstat_errno(m.path(p));
            if (before == lstat_errno("/proc/" + p) && mounted != before)
                lasting.push_back(p + ": /proc " + std::strerror(before) + ", mount " +
                                  std::strerror(mounted));
        }
    }
    std::printf("stress: %zu distinct pids used, %zu compared with /proc (%zu alive again), "
                "%zu disagreements, %zu still after 1.5 s\n",
                used.size(), compared, alive_now, disagreements.size(), lasting.size());
    {
        std::string s;
        for (size_t i = 0; i < disagreements.size() && i < 10; ++i)
            s += "\n  " + disagreements[i];
        INFO("pids the mount and /proc disagree on:" << s);
        CHECK(disagreements.empty());
    }
    {
        std::string s;
        for (size_t i = 0; i < lasting.size() && i < 10; ++i)
            s += "\n  " + lasting[i];
        INFO("pids still disagreeing after 1.5 s:" << s);
        CHECK(lasting.empty());
    }
    CHECK(compared > used.size() / 2);

    // The root listing is /proc's, modulo processes that started or ended meanwhile: every pid
    // in /proc's listing before and after is in the mount's, and the mount lists nothing that
    // neither /proc listing has.
    std::vector<pid_t> missing, extra;
    for (int attempt = 0; attempt < 5; ++attempt) {
        auto first = pids_listed("/proc");
        auto mounted = pids_listed(m.path());
        auto second = pids_listed("/proc");
        missing.clear();
        extra.clear();
        for (pid_t pid : first)
            if (second.count(pid) && !mounted.count(pid))
                missing.push_back(pid);
        for (pid_t pid : mounted)
            if (!first.count(pid) && !second.count(pid))
                extra.push_back(pid);
        if (missing.empty() && extra.empty() && !mounted.empty())
            break;
    }
    CHECK(missing.empty());
    CHECK(extra.empty());

    // The daemon tracks and watches no more than the live processes whose entries the kernel
    // still caches, and its node table shrank back as the kernel forgot the reaped ones.
    bound = static_cast<long long>(pids_listed("/proc").size()) + 16;
    Stats end = settle(m, bound);
    long rss_end = rss_kib(daemon);
    std::printf("stress: after the run: tracked_processes %lld, pidfds %lld, listed_inodes %lld, "
                "nodes %lld (bound %lld); exits_seen %lld, reaps_seen %lld, invalidations "
                "sent %lld / enoent %lld / failed %lld; requests: lookup %lld, forget %lld, "
                "readdir %lld\n",
                end["tracked_processes"], end["pidfds"], end["listed_inodes"], end.nodes, bound,
                end["exits_seen"], end["reaps_seen"], end["invalidations_sent"],
                end["invalidations_enoent"], end["invalidations_failed"], end["requests_lookup"],
                end["requests_forget"], end["requests_readdir"]);
    std::map<long long, long long> buckets; // upper bound in µs -> reaps
    for (auto& [key, value] : end.values)
        if (key.rfind("reap_latency_us_lt_", 0) == 0)
            buckets[std::atoll(key.c_str() + 19)] = value;
    std::string latency;
    for (auto& [limit, n] : buckets)
        latency += " <" + std::to_string(limit) + "us:" + std::to_string(n);
    std::printf("stress: reap-to-invalidation latency histogram:%s\n", latency.c_str());
    CHECK(end["tracked_processes"] >= 0);
    CHECK(end["tracked_processes"] <= bound);
    CHECK(end["pidfds"] <= bound);
    CHECK(end["invalidations_failed"] == 0);
    // Every reaped child that had entries was seen reaped by the watcher.
    CHECK(end["reaps_seen"] >= measured_processes);
    // Each cached live process holds a few nodes (its directory, status); the 22,000 reaped
    // ones hold none once the kernel has forgotten them.
    CHECK(wait_until([&] {
        end.nodes = stats_of(m).nodes;
        return end.nodes >= 0 && end.nodes <= 4 * bound;
    }, 10s));

    double growth = rss_base > 0 ? static_cast<double>(rss_end - rss_base) / static_cast<double>(rss_base) : 1;
    std::printf("stress: daemon VmRSS %ld KiB after warm-up, %ld KiB after the run (%+.1f%%); "
                "whole test %.1f s\n",
                rss_base, rss_end, growth * 100, seconds_since(test_start));
    std::fflush(stdout);
    INFO("daemon VmRSS: " << rss_base << " KiB after the warm-up, " << rss_end
                          << " KiB after the run");
    REQUIRE(rss_base > 0);
    REQUIRE(rss_end > 0);
    // Only growth counts: a smaller RSS after the run is no leak.
    CHECK(growth <= rss_tolerance);
}
