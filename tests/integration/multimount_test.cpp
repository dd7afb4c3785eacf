// SPDX-License-Identifier: GPL-2.0-or-later
// One daemon, many mounts: added and removed at run time, from the command line, a config file,
// fstab (mount.fuse3) and systemd; malformed options never mount anything.
#include <catch2/catch_test_macros.hpp>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "harness.hpp"

using namespace procfsd::test;

namespace {

std::string mount_source(const std::string& path)
{
    std::ifstream mounts("/proc/self/mounts");
    std::string dev, point, type, rest;
    while (mounts >> dev >> point >> type && std::getline(mounts, rest))
        if (point == path)
            return dev + " " + type;
    return "";
}

} // namespace

TEST_CASE("ctl mount and ctl umount leave a reader of another mount undisturbed", "[multi]")
{
    TestMount m;
    std::atomic<bool> stop{false};
    std::atomic<long> reads{0}, errors{0};
    std::thread reader([&] {
        while (!stop) {
            if (!read_file(m.path("self/status")) || !list_dir(m.path()))
                ++errors;
            ++reads;
        }
    });
    for (int i = 0; i < 5; ++i) {
        std::string dir = m.dir() + "/runtime" + std::to_string(i);
        ::mkdir(dir.c_str(), 0755);
        int status = -1;
        std::string out = m.ctl("mount " + dir + " -o hidepid=invisible", &status);
        INFO(out);
        REQUIRE(status == 0);
        CHECK(is_mounted(dir));
        CHECK(read_file(dir + "/self/status").has_value());
        std::string list = m.ctl("list", &status);
        CHECK(status == 0);
        CHECK(list.find(dir + " rw,hidepid=invisible") != std::string::npos);
        CHECK(mount_source(dir) == "procfsd:rw,hidepid=invisible fuse.procfsd");
        m.ctl("umount " + dir, &status);
        CHECK(status == 0);
        CHECK_FALSE(is_mounted(dir));
        ::rmdir(dir.c_str());
    }
    stop = true;
    reader.join();
    CHECK(reads > 0);
    CHECK(errors == 0);
    int status = -1;
    m.ctl("umount /nonexistent", &status);
    CHECK(status != 0);
}

TEST_CASE("malformed options are refused and nothing is mounted", "[multi]")
{
    ScratchDir tmp;
    std::string dir = tmp.sub("m");
    for (std::string bad : {"hidepid=3", "hidepid=foo", "gid=nosuchgroup-procfsd", "subset=net",
                            "entry_timeout=-1", "no_such_option", "ro,rw"}) {
        int status = 0;
        std::string out = run_command(procfsd_binary() + " -f " + dir + " -o " + bad + " 2>&1", &status);
        INFO(bad << ": " << out);
        CHECK(status != 0);
        CHECK(out.find(bad.substr(0, bad.find(','))) != std::string::npos);
        CHECK(std::count(out.begin(), out.end(), '\n') == 1);
        CHECK_FALSE(is_mounted(dir));
    }
    // The same through a running daemon's ctl.
    TestMount m;
    int status = 0;
    std::string out = m.ctl("mount " + dir + " -o hidepid=3", &status);
    CHECK(status != 0);
    CHECK(out.find("hidepid=3") != std::string::npos);
    CHECK_FALSE(is_mounted(dir));
}

TEST_CASE("the fstab form mounts through mount.fuse3 and umount ends the daemon", "[multi]")
{
    ScratchDir tmp;
    std::string dir = tmp.sub("proc");
    // mount(8) runs mount.fuse3 with the standard PATH, where `procfsd` must be found: link the
    // built binary into /usr/local/sbin for the test, unless a procfsd is installed there.
    const std::string link = "/usr/local/sbin/procfsd";
    struct Link {
        std::string path;
        bool made = false;
        ~Link() { if (made) ::unlink(path.c_str()); }
    } installed{link};
    if (lstat_errno(link) == ENOENT) {
        ::mkdir("/usr/local/sbin", 0755);
        REQUIRE(::symlink(procfsd_binary().c_str(), link.c_str()) == 0);
        installed.made = true;
    } else {
        auto target = read_link(link);
        if (!target || *target != procfsd_binary())
            SKIP("a procfsd is installed in /usr/local/sbin: not replacing it");
    }
    // The README's fstab line, on the test's directory.
    auto lines = readme_block("### fstab");
    REQUIRE(lines.size() == 1);
    REQUIRE(lines[0].find(" /srv/proc ") != std::string::npos);
    std::string fstab = tmp.path + "/fstab";
    std::ofstream(fstab) << replace_all(lines[0], " /srv/proc ", " " + dir + " ") << "\n";
    int status = -1;
    std::string out = run_command("mount -T " + fstab + " " + dir + " 2>&1", &status);
    INFO(out);
    REQUIRE(status == 0);
    REQUIRE(is_mounted(dir));
    CHECK(mount_source(dir) == "procfsd:rw,hidepid=invisible,gid=4 fuse.procfsd"); // adm is 4
    CHECK(run_command("grep ' " + dir + " ' /proc/self/mountinfo").find("nosuid,nodev,noexec") != std::string::npos);
    CHECK(read_file(dir + "/self/status").has_value());
    auto stats = run_command(procfsd_binary() + " stats " + dir);
    auto pos = stats.find("daemon_pid ");
    REQUIRE(pos != std::string::npos);
    pid_t daemon = std::stoi(stats.substr(pos + 11));
    REQUIRE(daemon > 0);
    run_command("umount " + dir, &status);
    CHECK(status == 0);
    CHECK(wait_until([&] { return ::kill(daemon, 0) != 0; }, 10s));
    CHECK_FALSE(is_mounted(dir));
}

TEST_CASE("a config file lists mounts and SIGHUP applies its changes", "[multi]")
{
    ScratchDir tmp;
    std::string a = tmp.sub("a"), b = tmp.sub("b"), c = tmp.sub("c");
    std::string config = tmp.path + "/procfsd.conf";
    std::ofstream(config) << "mount = [\"" << a << "\", \"" << b << ":hidepid=invisible\"]\n";
    pid_t daemon = ::fork();
    if (daemon == 0) {
        ::execl(procfsd_binary().c_str(), "procfsd", "-f", "--persist", "--control", "test-config",
                "--config", config.c_str(), "--log-level", "warn", nullptr);
        ::_exit(127);
    }
    Child guard(daemon);
    REQUIRE(wait_until([&] { return is_mounted(a) && is_mounted(b); }, 10s));
    std::ofstream(config) << "mount = [\"" << b << ":hidepid=noaccess\", \"" << c << "\"]\n";
    ::kill(daemon, SIGHUP);
    CHECK(wait_until([&] { return !is_mounted(a) && is_mounted(c); }, 10s));
    CHECK(wait_until([&] { return mount_source(b) == "procfsd:rw,hidepid=noaccess fuse.procfsd"; }, 10s));
    // --persist: the daemon stays when its mounts go.
    ::kill(daemon, SIGTERM);
    int status = 0;
    REQUIRE(::waitpid(daemon, &status, 0) == daemon);
    guard = Child();
    CHECK(WIFEXITED(status));
    CHECK_FALSE(is_mounted(b));
    CHECK_FALSE(is_mounted(c));
}

TEST_CASE("unmounting a daemon's only mount from outside ends it cleanly", "[multi]")
{
    ScratchDir tmp;
    std::string dir = tmp.sub("m");
    pid_t daemon = ::fork();
    if (daemon == 0) {
        ::execl(procfsd_binary().c_str(), "procfsd", "-f", "--control", "test-outside", dir.c_str(),
                nullptr);
        ::_exit(127);
    }
    Child guard(daemon);
    REQUIRE(wait_until([&] { return is_mounted(dir); }, 10s));
    REQUIRE(read_file(dir + "/uptime").has_value());
    int status = -1;
    run_command("umount " + dir, &status);
    CHECK(status == 0);
    bool exited = wait_until([&] { return ::waitpid(daemon, &status, WNOHANG) == daemon; }, 10s);
    CHECK(exited);
    if (exited) {
        guard = Child();
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
    }
}

TEST_CASE("the systemd unit passes systemd-analyze verify", "[multi]")
{
    const char* unit = std::getenv("PROCFSD_UNIT");
    REQUIRE(unit);
    ScratchDir tmp;
    // The configured unit names the installed binary (ExecStart=, ExecReload=); verify a copy
    // that names the built one, which a fresh checkout has installed nowhere.
    std::string copy = tmp.path + "/procfsd.service";
    int status = -1;
    run_command("sed -E 's|^(Exec[A-Za-z]+=)[^ ]*|\\1" + procfsd_binary() + "|' " + unit + " > " + copy,
                &status);
    REQUIRE(status == 0);
    std::string out = run_command("systemd-analyze verify " + copy + " 2>&1", &status);
    INFO(out);
    CHECK(status == 0);
    CHECK(out.find("procfsd.service") == std::string::npos);
}
