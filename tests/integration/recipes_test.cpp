// SPDX-License-Identifier: GPL-2.0-or-later
// The README's examples run as written there, with the test's own directories for the
// example's: the Quick start's commands to try, the config file, and a sandbox made with unshare
// and one made with bubblewrap, which get the procfsd mount as /proc. (fstab: multimount_test.)
#include <catch2/catch_test_macros.hpp>

#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "harness.hpp"

using namespace procfsd::test;


TEST_CASE("the README's sandbox recipes give the sandbox this /proc", "[recipes]")
{
    auto recipes = readme_block("### A sandbox's /proc");
    REQUIRE(recipes.size() == 2);
    TestMount m("hidepid=invisible");
    auto sleeper = spawn_sleeper();
    for (auto& recipe : recipes) {
        std::string cmd = replace_all(recipe, "/run/procfsd/proc-private", m.path());
        long long opens = m.counter("requests_open");
        int status = -1;
        std::string out = run_command(cmd + " 2>&1", &status);
        INFO(cmd << "\n" << out.substr(0, 2000));
        CHECK(status == 0);
        CHECK(out.find("  PID TTY") != std::string::npos);
        CHECK(out.find(std::to_string(sleeper.pid()) + " ?") != std::string::npos);
        // ps read its files through the mount.
        CHECK(m.counter("requests_open") > opens + 10);
    }
}

// The Quick start's first command serves the demo mount in the foreground (on the directory
// given, here the test's own), and the commands to try beside it work as written.
TEST_CASE("the Quick start's scripts/dev run serves, and its commands to try work", "[recipes]")
{
    auto quick = readme_block("On a fresh Debian 12 machine, as root, from a checkout:");
    REQUIRE(quick.size() == 2);
    REQUIRE(quick[0] == "scripts/dev run");
    auto tries = readme_block("Try, while `scripts/dev run` serves:");
    REQUIRE(tries.size() == 3);
    const char* top = std::getenv("PROCFSD_SOURCE_ROOT");
    REQUIRE(top);
    ScratchDir scratch;
    std::string mnt = scratch.sub("proc");
    pid_t run = ::fork();
    if (run == 0) {
        // Its own process group, as a terminal's job: the script execs the daemon, which the
        // group's Ctrl-C stops.
        ::setpgid(0, 0);
        if (::chdir(top) != 0)
            ::_exit(126);
        ::execl("/bin/sh", "sh", "-c", ("exec " + quick[0] + " " + mnt).c_str(), nullptr);
        ::_exit(127);
    }
    Child guard(run);
    REQUIRE(wait_until([&] { return read_file(mnt + "/self/status").has_value(); }, 120s));
    for (auto& line : tries) {
        std::string cmd = replace_all(replace_all(line, "/run/procfsd/proc", mnt), "build/daemon/procfsd",
                                      std::string(top) + "/build/daemon/procfsd");
        int status = -1;
        std::string out = run_command(cmd + " 2>&1", &status);
        INFO(cmd << "\n" << out.substr(0, 2000));
        CHECK(status == 0);
        CHECK_FALSE(out.empty());
    }
    // Ctrl-C: the demo unmounts and ends.
    ::kill(-run, SIGINT);
    int status = guard.reap();
    CHECK(WIFEXITED(status));
    CHECK_FALSE(is_mounted(mnt));
}

TEST_CASE("the README's config file serves its mounts", "[recipes]")
{
    auto lines = readme_block("### Config file");
    REQUIRE(lines.size() >= 3);
    ScratchDir scratch;
    const std::string& dir = scratch.path;
    std::string text;
    for (auto& l : lines)
        text += replace_all(l, "/run/procfsd/", dir + "/") + "\n";
    std::vector<std::string> mounts{dir + "/proc", dir + "/proc-private"};
    for (auto& mnt : mounts)
        ::mkdir(mnt.c_str(), 0755);
    std::string config = dir + "/procfsd.conf";
    std::ofstream(config) << text;
    int status = -1;
    std::string out = run_command(procfsd_binary() + " --check-config " + config + " 2>&1", &status);
    INFO(text << out);
    CHECK(status == 0);
    pid_t daemon = ::fork();
    if (daemon == 0) {
        ::execl(procfsd_binary().c_str(), "procfsd", "-f", "--control", "test-readme-config", "--config",
                config.c_str(), nullptr);
        ::_exit(127);
    }
    Child guard(daemon);
    CHECK(wait_until([&] {
        return read_file(mounts[0] + "/uptime").has_value() && read_file(mounts[1] + "/uptime").has_value();
    }, 10s));
    ::kill(daemon, SIGTERM);
    guard.reap();
}
