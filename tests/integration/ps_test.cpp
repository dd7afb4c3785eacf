// SPDX-License-Identifier: GPL-2.0-or-later
// ps in a private mount namespace with procfsd over /proc lists what it lists on /proc.
#include <catch2/catch_test_macros.hpp>

#include <map>
#include <sstream>

#include "harness.hpp"

using namespace procfsd::test;

namespace {

// Lines of `ps` output keyed by their first column (the pid, or pid+lwp for -L).
std::map<std::string, std::string> by_key(const std::string& out, int key_columns)
{
    std::map<std::string, std::string> lines;
    std::istringstream in(out);
    std::string line;
    std::getline(in, line); // header
    while (std::getline(in, line)) {
        std::istringstream cols(line);
        std::string key, col;
        for (int i = 0; i < key_columns && cols >> col; ++i)
            key += col + " ";
        lines[key] = line;
    }
    return lines;
}

std::string ps_on(const std::string& proc, const std::string& args)
{
    int status = 0;
    std::string cmd = proc == "/proc"
                          ? "ps " + args
                          : "unshare -m sh -c 'mount --bind " + proc + " /proc && exec ps " + args + "'";
    std::string out = run_command(cmd, &status);
    REQUIRE(status == 0);
    return out;
}

} // namespace

TEST_CASE("ps -eo lists the same processes and command lines", "[ps]")
{
    TestMount m;
    auto sleeper = spawn_sleeper();
    auto nobody = spawn_as_nobody();
    std::vector<pid_t> tids;
    auto threaded = spawn_threaded(2, tids);
    const std::string args = "-eo pid,ppid,uid,stat,comm,args";
    auto native = by_key(ps_on("/proc", args), 1);
    auto mirrored = by_key(ps_on(m.path(), args), 1);
    for (pid_t p : {sleeper.pid(), nobody.pid(), threaded.pid(), pid_t{1}}) {
        std::string key = std::to_string(p) + " ";
        INFO(key);
        REQUIRE(native.count(key));
        REQUIRE(mirrored.count(key));
        CHECK(native[key] == mirrored[key]);
    }
    // Every process both runs saw and that is still alive appears in both.
    size_t common = 0;
    for (auto& [key, line] : native)
        if (mirrored.count(key))
            ++common;
    CHECK(common + 4 >= native.size());
}

TEST_CASE("ps -eLf lists the same threads", "[ps]")
{
    TestMount m;
    std::vector<pid_t> tids;
    auto threaded = spawn_threaded(3, tids);
    auto native = by_key(ps_on("/proc", "-eLo pid,lwp,nlwp,uid,comm,args"), 2);
    auto mirrored = by_key(ps_on(m.path(), "-eLo pid,lwp,nlwp,uid,comm,args"), 2);
    std::string pid = std::to_string(threaded.pid());
    for (pid_t t : tids) {
        std::string key = pid + " " + std::to_string(t) + " ";
        INFO(key);
        REQUIRE(native.count(key));
        CHECK(native[key] == mirrored[key]);
    }
    // -eLf itself runs too.
    int status = 0;
    run_command("unshare -m sh -c 'mount --bind " + m.path() + " /proc && exec ps -eLf' >/dev/null", &status);
    CHECK(status == 0);
}
