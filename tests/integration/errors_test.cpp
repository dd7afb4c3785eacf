// SPDX-License-Identifier: GPL-2.0-or-later
// Every failure says why, with the errno's name, to the person who asked (command line, ctl),
// and the exit status says what kind: 0 ok, 1 a failure at run time, 2 a usage or option error.
#include <catch2/catch_test_macros.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>

#include "harness.hpp"

using namespace procfsd::test;

namespace {

struct Outcome {
    int status = -1;
    std::string out;
};

Outcome run(const std::string& args)
{
    Outcome o;
    o.out = run_command(procfsd_binary() + " " + args + " 2>&1", &o.status);
    return o;
}

// Runs `procfsd ARGS` as nobody.
Outcome run_as_nobody(const std::string& args)
{
    Outcome o;
    o.out = run_command("setpriv --reuid=65534 --regid=65534 --clear-groups " + procfsd_binary() + " " +
                            args + " 2>&1",
                        &o.status);
    return o;
}

} // namespace

TEST_CASE("a mount that cannot be made says why, with the errno's name", "[errors]")
{
    ScratchDir s;
    auto o = run("-f --control test-err " + s.path + "/missing");
    INFO(o.out);
    CHECK(o.status == 1);
    CHECK(o.out.find("ENOENT (no such directory)") != std::string::npos);
    CHECK(o.out.find(s.path + "/missing") != std::string::npos);

    std::ofstream(s.path + "/file") << "x";
    o = run("-f --control test-err " + s.path + "/file");
    INFO(o.out);
    CHECK(o.status == 1);
    CHECK(o.out.find("ENOTDIR") != std::string::npos);

    ::mkdir((s.path + "/m").c_str(), 0755);
    o = run("-f --control test-err " + s.path + "/m -o source=/tmp");
    INFO(o.out);
    CHECK(o.status == 1);
    CHECK(o.out.find("source=/tmp is not a procfs") != std::string::npos);
    CHECK_FALSE(is_mounted(s.path + "/m"));

    o = run_as_nobody("-f --control test-err " + s.path + "/m");
    INFO(o.out);
    CHECK(o.status == 1);
    CHECK(o.out.find("EPERM") != std::string::npos);
    CHECK(o.out.find("root") != std::string::npos);
    CHECK_FALSE(is_mounted(s.path + "/m"));

    o = run("--no-such-flag");
    CHECK(o.status == 2);
    o = run("-f " + s.path + "/m -o hidepid=sometimes");
    CHECK(o.status == 2);
}

TEST_CASE("a directory already served is refused, by ctl and by a second daemon, unless forced",
          "[errors]")
{
    TestMount m;
    std::string out = m.ctl("mount " + m.path());
    INFO(out);
    CHECK(out.find("EBUSY (this daemon serves it already)") != std::string::npos);

    // A second daemon on the same directory: refused, naming the first.
    auto o = run("-f --control test-second " + m.path());
    INFO(o.out);
    CHECK(o.status == 1);
    CHECK(o.out.find("EBUSY") != std::string::npos);
    CHECK(o.out.find("served by procfsd pid " + std::to_string(m.daemon_pid())) != std::string::npos);
    CHECK(read_file(m.path("uptime")));

    // --force stacks it; the first keeps serving below it.
    pid_t second = ::fork();
    if (second == 0) {
        ::execl(procfsd_binary().c_str(), "procfsd", "-f", "--force", "--control", "test-second",
                "--log-level", "warn", m.path().c_str(), nullptr);
        ::_exit(127);
    }
    Child guard(second);
    CHECK(wait_until([&] {
        auto o = run("stats " + m.path());
        return o.out.find("keeper_pid " + std::to_string(second)) != std::string::npos;
    }, 10s));
    ::kill(second, SIGTERM);
    guard.reap();
    CHECK(wait_until([&] { return read_file(m.path("uptime")).has_value(); }, 5s));
}

TEST_CASE("a control name in use refuses the start, naming the daemon that has it", "[errors]")
{
    TestMount m;
    ScratchDir s;
    ::mkdir((s.path + "/m").c_str(), 0755);
    // The harness names its control socket after its directory.
    std::string name = "test" + m.dir().substr(m.dir().rfind('-'));
    auto o = run("-f --control " + name + " " + s.path + "/m");
    INFO(o.out);
    CHECK(o.status == 1);
    CHECK(o.out.find("EADDRINUSE") != std::string::npos);
    CHECK(o.out.find("procfsd pid " + std::to_string(m.daemon_pid())) != std::string::npos);
    CHECK_FALSE(is_mounted(s.path + "/m"));
}

TEST_CASE("ctl and stats say who may use them, and what is not a procfsd mount", "[errors]")
{
    TestMount m;
    std::string name = "test" + m.dir().substr(m.dir().rfind('-'));
    for (const std::string& args : {"--control " + name + " ctl list", "stats " + m.path()}) {
        auto o = run_as_nobody(args);
        INFO(args << ": " << o.out);
        CHECK(o.status == 2);
        CHECK(o.out.find("only root") != std::string::npos);
    }
    auto o = run("stats /tmp");
    INFO(o.out);
    CHECK(o.status == 2);
    CHECK(o.out.find("/tmp is not a procfsd mount") != std::string::npos);
}

TEST_CASE("mounts are nosuid, nodev and noexec, as /proc is", "[errors]")
{
    TestMount m("suid,dev,exec");
    std::ifstream info("/proc/self/mountinfo");
    std::string line, found;
    while (std::getline(info, line))
        if (line.find(" " + m.path() + " ") != std::string::npos)
            found = line;
    INFO(found);
    CHECK(found.find("nosuid") != std::string::npos);
    CHECK(found.find("nodev") != std::string::npos);
    CHECK(found.find("noexec") != std::string::npos);
}
