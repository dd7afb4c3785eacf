// SPDX-License-Identifier: GPL-2.0-or-later
// The README's examples run as written there, with the test's own directories for the
// example's: the Quick start's commands to try, the config file, a sandbox made with unshare
// and one made with bubblewrap, which get the procfsd mount as /proc, and the same in a pid
// namespace of their own with a pidns= view, checked against that namespace's kernel procfs.
// (fstab: multimount_test.)
#include <catch2/catch_test_macros.hpp>

#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <vector>

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

namespace {

// What two runs of a container recipe must agree on: ps's pid, ppid, stat and comm (its args
// hold the recipe, which differs), top's pid, user, state and command, and the lines the recipe
// echoes. The pids are the namespace's, numbered by their rank among those listed (1 stays 1:
// the namespace's first process), because a sanitizer's leak check clones a task of its own at
// the exit of an instrumented `procfsd ctl` and shifts the numbers after it. Not compared: the
// columns' widths (ps sizes them by pid_max, the daemon's namespace's through procfsd) and the
// state of the reader itself, which through FUSE waits for the daemon (S) while its own stat is
// read (README, A container's /proc).
std::vector<std::string> comparable(const std::string& out)
{
    auto numeric = [](const std::string& w) { return w.find_first_not_of("0123456789") == std::string::npos; };
    std::vector<std::vector<std::string>> lines;
    std::set<long> pids;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::vector<std::string> f;
        for (std::string w; words >> w;)
            f.push_back(w);
        if (f.empty())
            continue;
        if (numeric(f[0]))
            pids.insert(std::stol(f[0]));
        lines.push_back(std::move(f));
    }
    std::map<std::string, std::string> rank{{"0", "0"}};
    for (long p : pids)
        rank.emplace(std::to_string(p), std::to_string(rank.size()));
    auto pid = [&](const std::string& p) {
        auto it = rank.find(p);
        return it == rank.end() ? "?" + p : it->second;
    };

    std::vector<std::string> rows;
    bool in_top = false;
    for (auto& f : lines) {
        std::string words_only;
        for (auto& w : f)
            words_only += (words_only.empty() ? "" : " ") + w;
        if (f[0] == "PID") {
            in_top = f.size() > 1 && f[1] == "USER";
            rows.push_back(words_only);
        } else if (f[0] == "sleeper:" && f.size() == 2) {
            rows.push_back("sleeper: " + pid(f[1]));
        } else if (f[0] == "sleeper") {
            rows.push_back(words_only);
        } else if (numeric(f[0])) {
            // The states of the tool itself and of the shell that started it (a sh other than
            // the namespace's first, which forks the tool and the rest of the pipeline, then
            // waits) depend on the moment it was read: running or sleeping.
            auto volatile_state = [&](const std::string& command) {
                return command == "ps" || command == "top" || (command == "sh" && pid(f[0]) != "1");
            };
            if (in_top && f.size() >= 12)
                rows.push_back("top " + pid(f[0]) + " " + f[1] + " " + (volatile_state(f[11]) ? "-" : f[7]) + " " + f[11]);
            else if (!in_top && f.size() >= 4)
                rows.push_back("ps " + pid(f[0]) + " " + pid(f[1]) + " " + (volatile_state(f[3]) ? "-" : f[2]) + " " + f[3]);
        }
    }
    // top lists by %CPU, which moves with the machine's load (top itself may or may not have
    // used a tick by the time it reads its own stat): its rows are compared as a set.
    for (auto at = rows.begin(); at != rows.end();) {
        auto is_top = [](const std::string& r) { return r.rfind("top ", 0) == 0; };
        auto first = std::find_if(at, rows.end(), is_top);
        auto last = std::find_if_not(first, rows.end(), is_top);
        std::sort(first, last);
        at = last;
    }
    return rows;
}

bool has_row(const std::vector<std::string>& rows, const std::string& row)
{
    return std::find(rows.begin(), rows.end(), row) != rows.end();
}

} // namespace

// Each recipe runs twice: as written (procfsd's pidns= view of the sandbox's namespace), and
// with the namespace's own kernel procfs at the same directory, mounted by the namespace's first
// process (the kernel makes an instance for the mounter's namespace). Inside, ps, top, pgrep
// and kill must agree.
TEST_CASE("the README's container recipes show the sandbox its own pid namespace", "[recipes][pidns]")
{
    const std::string mount_line =
        "procfsd ctl mount /run/procfsd/box -o pidns=/proc/self/ns/pid,hidepid=invisible";
    const std::string umount_line = "procfsd ctl umount /run/procfsd/box";
    for (const char* lead : {"it over `/proc` in its own mount namespace:",
                             "that the view exists when bwrap binds it):"}) {
        auto block = readme_block(lead);
        REQUIRE(block.size() > 3);
        std::string recipe;
        for (auto& l : block)
            recipe += l + "\n";
        REQUIRE(recipe.find(mount_line) != std::string::npos);
        REQUIRE(recipe.find(umount_line) != std::string::npos);

        TestMount m;
        ScratchDir scratch;
        const std::string box = scratch.path + "/box";
        auto procfsd_run = replace_all(replace_all(recipe, "procfsd ctl", m.command() + " ctl"),
                                       "/run/procfsd/box", box);
        auto kernel_run = replace_all(
            replace_all(replace_all(recipe, mount_line, "mount -t proc -o hidepid=invisible proc /run/procfsd/box"),
                        umount_line, "umount /run/procfsd/box"),
            "/run/procfsd/box", box);

        long long opens = m.counter("requests_open");
        int status = -1;
        std::string out = run_command(procfsd_run + " 2>&1", &status);
        long long opened = m.counter("requests_open") - opens;
        int kernel_status = -1;
        std::string kernel_out = run_command(kernel_run + " 2>&1", &kernel_status);
        INFO(procfsd_run << "\n--- through procfsd:\n" << out << "\n--- the kernel's:\n" << kernel_out);
        CHECK(status == 0);
        CHECK(kernel_status == 0);
        auto rows = comparable(out);
        // The namespace's first process is sh, pid 1; the sleeper is listed by its pid there,
        // and pgrep found it there: kill ended it (SIGTERM, 128 + 15).
        CHECK(has_row(rows, "ps 1 0 S sh"));
        CHECK(has_row(rows, "top 1 root S sh"));
        CHECK(has_row(rows, "sleeper ended: 143"));
        auto sleeper = std::find_if(rows.begin(), rows.end(), [](auto& r) { return r.rfind("sleeper: ", 0) == 0; });
        REQUIRE(sleeper != rows.end());
        CHECK(has_row(rows, "ps " + sleeper->substr(9) + " 1 S sleep"));
        CHECK(rows == comparable(kernel_out));
        // ps and top read through the mount, and the recipe's umount left nothing behind.
        CHECK(opened > 20);
        CHECK_FALSE(is_mounted(box));
        CHECK(m.ctl("list").find(box) == std::string::npos);
    }
}
