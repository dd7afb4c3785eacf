// SPDX-License-Identifier: GPL-2.0-or-later
// The Debian package (scripts/dev deb) holds what it must, and its binary serves a mount. It is
// unpacked into a scratch directory, never installed: an old packaged binary on the machine
// would shadow the one under test.
#include <catch2/catch_test_macros.hpp>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>

#include "harness.hpp"

using namespace procfsd::test;

TEST_CASE("the Debian package unpacks to a daemon that serves a mount", "[package]")
{
    const char* dir = std::getenv("PROCFSD_DEB_DIR");
    if (!dir) {
        // `meson test` by hand: scripts/dev test builds the package and sets the directory.
        SUCCEED("no package to test (scripts/dev deb builds one; scripts/dev test always does)");
        return;
    }
    std::string deb = run_command("ls " + std::string(dir) + "/procfsd_*.deb 2>/dev/null | head -1");
    while (!deb.empty() && deb.back() == '\n')
        deb.pop_back();
    REQUIRE_FALSE(deb.empty());

    ScratchDir scratch;
    const std::string& root = scratch.path;
    int status = -1;
    run_command("dpkg-deb -x " + deb + " " + root + "/pkg", &status);
    REQUIRE(status == 0);
    for (const char* f : {"/usr/sbin/procfsd", "/lib/systemd/system/procfsd.service",
                          "/usr/share/man/man8/procfsd.8.gz", "/usr/share/man/man5/procfsd.conf.5.gz",
                          "/etc/procfsd/procfsd.conf.example"}) {
        INFO(f);
        CHECK(lstat_errno(root + "/pkg" + f) == 0);
    }
    // The README's systemd steps name what the package installs: the example it copies and the
    // unit it enables (systemctl itself needs a systemd this machine does not run).
    auto steps = readme_block("### systemd");
    REQUIRE(steps.size() == 2);
    CHECK(steps[0] == "cp /etc/procfsd/procfsd.conf.example /etc/procfsd/procfsd.conf");
    CHECK(steps[1] == "systemctl enable --now procfsd");
    // The packaged unit names the packaged binary and config.
    auto unit = read_file(root + "/pkg/lib/systemd/system/procfsd.service");
    REQUIRE(unit);
    CHECK(unit->find("ExecStart=/usr/sbin/procfsd ") != std::string::npos);
    CHECK(unit->find("--config /etc/procfsd/procfsd.conf") != std::string::npos);

    std::string mnt = root + "/m";
    ::mkdir(mnt.c_str(), 0755);
    pid_t daemon = ::fork();
    if (daemon == 0) {
        std::string bin = root + "/pkg/usr/sbin/procfsd";
        ::execl(bin.c_str(), "procfsd", "-f", "--control", "test-package", "--log-level", "warn",
                mnt.c_str(), nullptr);
        ::_exit(127);
    }
    Child guard(daemon);
    CHECK(wait_until([&] { return read_file(mnt + "/self/status").has_value(); }, 10s));
    auto version = run_command(root + "/pkg/usr/sbin/procfsd --version");
    CHECK(version.find("procfsd ") == 0);
    std::string stats = run_command(root + "/pkg/usr/sbin/procfsd stats " + mnt);
    INFO(stats);
    CHECK(stats.find("keeper_pid " + std::to_string(daemon)) != std::string::npos); // the server is its child
    // The package is built with Debian's libfuse3 (3.14 on Debian 12: no io_uring), the
    // smoke test of -Dsystem_libfuse=true: it serves over /dev/fuse whatever the kernel allows,
    // and io_uring=on says why it cannot.
    CHECK(run_command("ldd " + root + "/pkg/usr/sbin/procfsd").find("libfuse3.so.3") != std::string::npos);
    CHECK(stats.find("transport dev_fuse\n") != std::string::npos);
    std::string on = root + "/on";
    ::mkdir(on.c_str(), 0755);
    int mounted = 0;
    std::string refused = run_command(root + "/pkg/usr/sbin/procfsd --control test-package ctl mount " + on +
                                          " -o io_uring=on 2>&1",
                                      &mounted);
    INFO(refused);
    CHECK(mounted != 0);
    CHECK(refused.find("system's libfuse") != std::string::npos);
    CHECK_FALSE(is_mounted(on));
    ::rmdir(on.c_str());
    ::kill(daemon, SIGTERM);
    guard.reap();
}
