// SPDX-License-Identifier: GPL-2.0-or-later
// Writable files pass writes to the source; `ro` refuses them with EROFS.
#include <catch2/catch_test_macros.hpp>
#include <fcntl.h>
#include <unistd.h>

#include "harness.hpp"

using namespace procfsd::test;

namespace {
int write_text(const std::string& path, const std::string& text)
{
    int fd = ::open(path.c_str(), O_WRONLY | O_TRUNC);
    if (fd < 0)
        return errno;
    ssize_t n = ::write(fd, text.data(), text.size());
    int err = n < 0 ? errno : 0;
    ::close(fd);
    return err;
}
} // namespace

TEST_CASE("a write through procfsd reaches the process", "[write]")
{
    TestMount m;
    auto sleeper = spawn_sleeper();
    std::string pid = std::to_string(sleeper.pid());
    REQUIRE(write_text(m.path(pid + "/timerslack_ns"), "70000") == 0);
    CHECK(read_file("/proc/" + pid + "/timerslack_ns") == "70000\n");
    REQUIRE(write_text(m.path(pid + "/oom_score_adj"), "123") == 0);
    CHECK(read_file("/proc/" + pid + "/oom_score_adj") == "123\n");
    // The kernel's own errors come back unchanged.
    CHECK(write_text(m.path(pid + "/oom_score_adj"), "5000") == EINVAL);
    CHECK(write_text(m.path(pid + "/status"), "x") == write_text("/proc/" + pid + "/status", "x"));
    // An unprivileged caller may not write another user's files: the kernel's EACCES.
    int status = run_as(65534, 65534, [&] {
        int native = write_text("/proc/" + pid + "/oom_score_adj", "1");
        int mirrored = write_text(m.path(pid + "/oom_score_adj"), "1");
        return native == EACCES && mirrored == EACCES ? 0 : 1;
    });
    CHECK(status == 0);
    // Another process's comm is the kernel's EINVAL, natively and here.
    CHECK(write_text("/proc/" + pid + "/comm", "x") == EINVAL);
    CHECK(write_text(m.path(pid + "/comm"), "x") == EINVAL);
}

TEST_CASE("with ro every write fails with EROFS", "[write]")
{
    TestMount m("ro");
    auto sleeper = spawn_sleeper();
    std::string pid = std::to_string(sleeper.pid());
    CHECK(write_text(m.path(pid + "/oom_score_adj"), "7") == EROFS);
    CHECK(read_file("/proc/" + pid + "/oom_score_adj") == "0\n");
    CHECK(read_file("/proc/" + pid + "/comm") == "sleep\n");
    CHECK(read_file(m.path(pid + "/comm")) == "sleep\n");
}
