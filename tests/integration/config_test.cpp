// SPDX-License-Identifier: GPL-2.0-or-later
// The config file: the shipped example works as it is, every mistake is refused with its file
// and line (at start, by --check-config and on reload), and a reload that fails changes nothing.
#include <catch2/catch_test_macros.hpp>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "harness.hpp"

using namespace procfsd::test;

namespace {

std::string slurp(const std::string& path)
{
    std::ifstream in(path);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

// A daemon serving a config file, logging to `log`; stopped by pid at the end.
struct ConfigDaemon {
    Child child;
    ConfigDaemon(const std::string& config, const std::string& control, const std::string& log)
    {
        pid_t pid = ::fork();
        if (pid == 0) {
            std::freopen(log.c_str(), "w", stderr);
            ::execl(procfsd_binary().c_str(), "procfsd", "-f", "--persist", "--control", control.c_str(),
                    "--config", config.c_str(), nullptr);
            ::_exit(127);
        }
        child = Child(pid);
    }
    ~ConfigDaemon()
    {
        if (child.pid() > 0) {
            ::kill(child.pid(), SIGTERM);
            child.reap();
        }
    }
};

} // namespace

TEST_CASE("the shipped example config serves its mounts, as it is apart from its directories",
          "[config]")
{
    const char* example = std::getenv("PROCFSD_CONF_EXAMPLE");
    REQUIRE(example);
    ScratchDir s;
    std::string text = slurp(example);
    REQUIRE(text.find("/run/procfsd/") != std::string::npos);
    s.sub("proc");
    s.sub("proc-private");
    std::string config = s.file("procfsd.conf", replace_all(text, "/run/procfsd/", s.path + "/"));
    int status = -1;
    std::string out = run_command(procfsd_binary() + " --check-config " + config + " 2>&1", &status);
    INFO(out);
    CHECK(status == 0);
    ConfigDaemon d(config, "test-example", s.path + "/log");
    CHECK(wait_until([&] { return read_file(s.path + "/proc/self/status") && read_file(s.path + "/proc-private/self/status"); }, 10s));
    std::string listed = run_command(procfsd_binary() + " --control test-example ctl list");
    CHECK(listed.find(s.path + "/proc-private rw,hidepid=invisible") != std::string::npos);
}

TEST_CASE("every mistake in a config file is refused with its file and line", "[config]")
{
    ScratchDir s;
    struct Bad {
        const char* text;
        int line;
        const char* says;
    };
    const Bad cases[] = {
        {"# mounts\nmount = [\n  \"/tmp\",\n", 2, "never closed"},
        {"log-level = \"info\"\nmounts = [\"/tmp/x\"]\n", 2, "mounts"},
        {"mount = [\"/tmp/x\"]\n\nlog-level = \"verbose\"\n", 3, "verbose"},
        {"mount = [\n  \"/tmp/x\",\n  \"/tmp/y:hidepid=sometimes\",\n]\n", 3, "hidepid=sometimes"},
        {"mount = [\n  \"/tmp/x\",\n  \"/tmp/x:ro\",\n]\n", 3, "twice"},
        {"mount \"/tmp/x\"\n", 1, "key = value"},
    };
    int i = 0;
    for (auto& c : cases) {
        std::string config = s.file("bad" + std::to_string(i++) + ".conf", c.text);
        int status = -1;
        std::string out = run_command(procfsd_binary() + " --check-config " + config + " 2>&1", &status);
        INFO(c.text << "\n-> " << out);
        CHECK(status == 2);
        CHECK(out.find(config + ":" + std::to_string(c.line) + ":") != std::string::npos);
        CHECK(out.find(c.says) != std::string::npos);
        // Refused at start too, and nothing mounted.
        out = run_command(procfsd_binary() + " -f --control test-bad --config " + config + " 2>&1", &status);
        CHECK(status == 2);
        CHECK(out.find(config + ":" + std::to_string(c.line) + ":") != std::string::npos);
        CHECK_FALSE(is_mounted("/tmp/x"));
    }
    // A good file, arrays on one line or several, comments anywhere.
    std::string good = s.file("good.conf", "# procfsd\nmount = [ # the mounts\n  \"/tmp/a\",  # one\n"
                                           "  \"/tmp/b:hidepid=invisible,gid=0\"\n]\nlog-level = \"warn\"\n");
    int status = -1;
    std::string out = run_command(procfsd_binary() + " --check-config " + good + " 2>&1", &status);
    INFO(out);
    CHECK(status == 0);
    CHECK(out.find("ok, 2 mounts") != std::string::npos);
}

TEST_CASE("a reload of a broken config changes nothing and says why", "[config]")
{
    ScratchDir s;
    std::string a = s.sub("a"), b = s.sub("b"), c = s.sub("c");
    std::string config =
        s.file("procfsd.conf", "mount = [\n  \"" + a + "\",\n  \"" + b + ":hidepid=invisible\",\n]\n");
    std::string log = s.path + "/log";
    ConfigDaemon d(config, "test-reload", log);
    REQUIRE(wait_until([&] { return read_file(a + "/uptime") && read_file(b + "/uptime"); }, 10s));
    const std::string ctl = procfsd_binary() + " --control test-reload ctl ";

    for (const char* broken : {"mounts = [\"/x\"]\n", "mount = [\n  \"/x\",\n", "log-level = \"verbose\"\n"}) {
        std::ofstream(config) << broken;
        int status = -1;
        std::string out = run_command(ctl + "reload 2>&1", &status);
        INFO(broken << "-> " << out);
        CHECK(status != 0);
        CHECK(out.find(config + ":") != std::string::npos);
        CHECK(read_file(a + "/uptime"));
        CHECK(read_file(b + "/uptime"));
    }
    // SIGHUP: the same, in the log.
    ::kill(d.child.pid(), SIGHUP);
    CHECK(wait_until([&] { return slurp(log).find("reload: nothing changed") != std::string::npos; }, 10s));
    CHECK(read_file(a + "/uptime"));
    // A good edit is applied: a dropped, c added, b kept.
    std::ofstream(config) << "mount = [\"" << b << ":hidepid=invisible\", \"" << c << "\"]\n";
    int status = -1;
    std::string out = run_command(ctl + "reload 2>&1", &status);
    INFO(out);
    CHECK(status == 0);
    CHECK_FALSE(is_mounted(a));
    CHECK(read_file(b + "/uptime"));
    CHECK(read_file(c + "/uptime"));
}
