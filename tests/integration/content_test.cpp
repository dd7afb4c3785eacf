// SPDX-License-Identifier: GPL-2.0-or-later
// File contents and link texts through procfsd equal /proc's for the same live process.
#include <catch2/catch_test_macros.hpp>
#include <fcntl.h>
#include <unistd.h>

#include <sstream>

#include "harness.hpp"

using namespace procfsd::test;

namespace {

// status without the lines that move while a process sleeps.
std::string stable_status(const std::string& text)
{
    std::istringstream in(text);
    std::string line, out;
    while (std::getline(in, line))
        if (line.rfind("voluntary_ctxt_switches", 0) != 0 &&
            line.rfind("nonvoluntary_ctxt_switches", 0) != 0)
            out += line + "\n";
    return out;
}

// Fields 1-7 of stat: pid, comm, state, ppid, pgrp, session, tty_nr.
std::string stat_head(const std::string& text)
{
    auto close = text.rfind(')');
    std::istringstream in(text.substr(close + 2));
    std::string state, ppid, pgrp, session, tty;
    in >> state >> ppid >> pgrp >> session >> tty;
    return text.substr(0, close + 1) + " " + state + " " + ppid + " " + pgrp + " " + session + " " + tty;
}

} // namespace

TEST_CASE("file contents match /proc for a live sleeper", "[content]")
{
    TestMount m;
    auto sleeper = spawn_sleeper();
    std::string pid = std::to_string(sleeper.pid());
    auto both = [&](const std::string& rel) {
        auto a = read_file("/proc/" + pid + "/" + rel);
        auto b = read_file(m.path(pid + "/" + rel));
        INFO(rel);
        REQUIRE(a);
        REQUIRE(b);
        return std::pair{*a, *b};
    };
    for (auto f : {"cmdline", "comm", "environ", "limits", "cgroup", "mountinfo", "mounts", "statm",
                   "maps", "auxv", "personality", "oom_score_adj", "loginuid", "uid_map"}) {
        auto [a, b] = both(f);
        INFO(f);
        CHECK(a == b);
    }
    auto [cmd, cmd2] = both("cmdline");
    CHECK(cmd == std::string("/bin/sleep\0003600\0", 16));
    auto [env, env2] = both("environ");
    CHECK(env.find("PROCFSD_TEST=sleeper") != std::string::npos);
    auto [st, st2] = both("status");
    CHECK(stable_status(st) == stable_status(st2));
    auto [sa, sb] = both("stat");
    CHECK(stat_head(sa) == stat_head(sb));
}

TEST_CASE("a zombie is listed and readable until it is reaped", "[content]")
{
    TestMount m;
    auto zombie = spawn_zombie();
    std::string pid = std::to_string(zombie.pid());
    auto status = read_file(m.path(pid + "/status"));
    REQUIRE(status);
    CHECK(status->find("State:\tZ (zombie)") != std::string::npos);
    auto stat = read_file(m.path(pid + "/stat"));
    REQUIRE(stat);
    CHECK(stat_head(*stat) == stat_head(*read_file("/proc/" + pid + "/stat")));
}

TEST_CASE("link texts match /proc", "[content]")
{
    TestMount m;
    auto sleeper = spawn_sleeper();
    std::string pid = std::to_string(sleeper.pid());
    for (auto l : {"exe", "cwd", "root", "fd/0", "fd/1", "fd/2", "ns/pid", "ns/net"}) {
        INFO(l);
        auto a = read_link("/proc/" + pid + "/" + l);
        REQUIRE(a);
        CHECK(a == read_link(m.path(pid + "/" + l)));
    }
    CHECK(read_link(m.path(pid + "/exe")) == "/usr/bin/sleep");
}

TEST_CASE("non-pid entries are served recursively", "[content]")
{
    TestMount m;
    for (auto f : {"version", "cmdline", "filesystems", "sys/kernel/pid_max", "sys/kernel/ostype",
                   "irq/default_smp_affinity"}) {
        INFO(f);
        auto a = read_file(std::string("/proc/") + f);
        REQUIRE(a);
        CHECK(a == read_file(m.path(f)));
    }
    auto meminfo = read_file(m.path("meminfo"));
    REQUIRE(meminfo);
    CHECK(meminfo->rfind("MemTotal:", 0) == 0);
    CHECK(list_dir("/proc/sys/kernel") == list_dir(m.path("sys/kernel")));
    // /proc/net is the caller's: a link to self/net, followed through the mount.
    CHECK(read_link(m.path("net")) == "self/net");
    CHECK(read_file("/proc/net/unix").has_value());
    CHECK(read_file(m.path("net/dev")).has_value());
}

TEST_CASE("a process that vanishes gives ENOENT or ESRCH, never stale data", "[content]")
{
    TestMount m;
    auto sleeper = spawn_sleeper();
    std::string pid = std::to_string(sleeper.pid());
    int fd = ::open(m.path(pid + "/status").c_str(), O_RDONLY);
    REQUIRE(fd >= 0);
    sleeper.kill_and_reap();
    char buf[256];
    ssize_t n = ::read(fd, buf, sizeof buf);
    int err = errno;
    ::close(fd);
    CHECK(n < 0);
    CHECK((err == ESRCH || err == ENOENT));
    CHECK(wait_until([&] { return lstat_errno(m.path(pid)) == ENOENT; }, 2s));
    CHECK(lstat_errno(m.path(pid + "/status")) == ENOENT);
}

namespace {

// Field `n` (from 3, after "pid (comm)") of a stat line.
std::string stat_field(const std::string& stat, size_t n)
{
    auto close = stat.rfind(')');
    std::istringstream in(close == std::string::npos ? "" : stat.substr(close + 1));
    std::string f;
    for (size_t i = 3; in >> f; ++i)
        if (i == n)
            return f;
    return "";
}

std::string status_state(const std::string& status)
{
    auto at = status.find("State:\t");
    return at == std::string::npos ? "" : status.substr(at + 7, status.find('\n', at) - at - 7);
}

} // namespace

TEST_CASE("a task reading its own stat, status and wchan sees itself running, as on /proc; "
          "another sleeping task still sleeps",
          "[content][self]")
{
    TestMount m;
    auto sleeper = spawn_sleeper();
    std::string other = std::to_string(sleeper.pid());
    for (int i = 0; i < 100; ++i) {
        for (const std::string& root : {std::string("/proc"), m.path()}) {
            INFO(root << " round " << i);
            for (const char* self : {"/self", "/thread-self"}) {
                auto stat = read_file(root + self + "/stat").value_or("");
                CHECK(stat_field(stat, 3) == "R");
                CHECK(stat_field(stat, 35) == "0");
                CHECK(status_state(read_file(root + self + "/status").value_or("")) == "R (running)");
                CHECK(read_file(root + self + "/wchan") == "0");
            }
        }
    }
    REQUIRE(wait_until([&] { return stat_field(read_file("/proc/" + other + "/stat").value_or(""), 3) == "S"; }, 10s));
    auto theirs = read_file(m.path(other + "/stat")).value_or("");
    CHECK(stat_field(theirs, 3) == "S");
    CHECK(stat_field(theirs, 35) == "1");
    CHECK(status_state(read_file(m.path(other + "/status")).value_or("")) == "S (sleeping)");
    CHECK(read_file(m.path(other + "/wchan")) == read_file("/proc/" + other + "/wchan"));
    CHECK(read_file(m.path(other + "/wchan")) != "0");
}
