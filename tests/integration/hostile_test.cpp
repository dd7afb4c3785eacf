// SPDX-License-Identifier: GPL-2.0-or-later
// Hostile and odd input gets the kernel's errno, and leaves the daemon serving with the same
// descriptors and about the same memory.
#include <catch2/catch_test_macros.hpp>
#include <dirent.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/syscall.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cstring>

#include "harness.hpp"

using namespace procfsd::test;

namespace {

long daemon_fds(pid_t daemon)
{
    auto names = list_dir("/proc/" + std::to_string(daemon) + "/fd");
    return names ? static_cast<long>(names->size()) : -1;
}

long daemon_rss_kb(pid_t daemon)
{
    auto status = read_file("/proc/" + std::to_string(daemon) + "/status");
    auto pos = status ? status->find("VmRSS:") : std::string::npos;
    return pos == std::string::npos ? -1 : std::stol(status->substr(pos + 6));
}

// errno of `fn` run against a path below /proc and below the mount: both must agree.
template <typename Fn>
void same_errno(const TestMount& m, const std::string& rel, Fn fn)
{
    errno = 0;
    int native = fn("/proc/" + rel) < 0 ? errno : 0;
    errno = 0;
    int mirrored = fn(m.path(rel)) < 0 ? errno : 0;
    INFO(rel << ": /proc " << strerrorname_np(native) << ", procfsd " << strerrorname_np(mirrored));
    CHECK(native == mirrored);
}

} // namespace

TEST_CASE("odd names, offsets and unsupported operations get the kernel's errno", "[hostile]")
{
    TestMount m;
    auto sleeper = spawn_sleeper();
    std::string pid = std::to_string(sleeper.pid());
    // Warm up, then take the baseline. Listing the root looks up every process listed
    // (READDIRPLUS, as the kernel's own readdir instantiates them): their pidfds are the daemon's
    // from here on, not a leak of what follows.
    for (int i = 0; i < 3; ++i) {
        list_dir(m.path(pid));
        list_dir(m.path());
    }
    long fds_before = daemon_fds(m.daemon_pid());
    long rss_before = daemon_rss_kb(m.daemon_pid());

    auto stat_of = [](const std::string& p) {
        struct stat st{};
        return ::lstat(p.c_str(), &st);
    };
    std::vector<std::string> names{std::string(255, 'x'), std::string(256, 'x'),
                                   std::string(4000, 'y'), "\xff\xfe", "caf\xc3", "...",
                                   pid + "/..", pid + "/../" + pid, pid + "/./status",
                                   pid + "/task/../status", "self/../self", pid + "/fd/999999",
                                   pid + "/fd/-1", pid + "/fd/00", pid + "/task/1", "0" + pid,
                                   "4294967295", pid + "/status/x", "meminfo/x",
                                   pid + "/map_files/0-0", pid + "/map_files/zz"};
    for (auto& n : names)
        same_errno(m, n, stat_of);

    // Unsupported operations.
    same_errno(m, "newdir", [](const std::string& p) { return ::mkdir(p.c_str(), 0755); });
    same_errno(m, pid + "/newdir", [](const std::string& p) { return ::mkdir(p.c_str(), 0755); });
    same_errno(m, "newfile", [](const std::string& p) { return ::open(p.c_str(), O_CREAT | O_WRONLY, 0644); });
    same_errno(m, pid + "/newfile", [](const std::string& p) { return ::open(p.c_str(), O_CREAT | O_WRONLY, 0644); });
    same_errno(m, "meminfo", [](const std::string& p) { return ::unlink(p.c_str()); });
    same_errno(m, pid + "/status", [](const std::string& p) { return ::unlink(p.c_str()); });
    same_errno(m, "sys", [](const std::string& p) { return ::rmdir(p.c_str()); });
    same_errno(m, "meminfo", [](const std::string& p) { return ::rename(p.c_str(), (p + "2").c_str()); });
    same_errno(m, "link", [](const std::string& p) { return ::symlink("meminfo", p.c_str()); });
    same_errno(m, "meminfo", [](const std::string& p) { return ::link(p.c_str(), (p + "2").c_str()); });
    same_errno(m, "fifo", [](const std::string& p) { return ::mknod(p.c_str(), S_IFIFO | 0644, 0); });
    // Root may open keys for writing (it has no write method: the write gives EIO).
    for (int mode : {O_WRONLY, O_RDWR})
        same_errno(m, "keys", [mode](const std::string& p) {
            int fd = ::open(p.c_str(), mode);
            if (fd < 0)
                return -1;
            int rv = static_cast<int>(::write(fd, "x", 1));
            ::close(fd);
            return rv;
        });
    same_errno(m, pid + "/status", [](const std::string& p) { return ::chmod(p.c_str(), 0777); });
    same_errno(m, pid + "/status", [](const std::string& p) { return ::chown(p.c_str(), 1, 1); });
    same_errno(m, "meminfo", [](const std::string& p) { return ::truncate(p.c_str(), 0); });
    same_errno(m, pid + "/status", [](const std::string& p) {
        char buf[64];
        return static_cast<int>(::getxattr(p.c_str(), "user.x", buf, sizeof buf));
    });
    same_errno(m, pid + "/status", [](const std::string& p) {
        char buf[64];
        return static_cast<int>(::listxattr(p.c_str(), buf, sizeof buf));
    });
    same_errno(m, pid + "/status", [](const std::string& p) {
        return ::setxattr(p.c_str(), "user.x", "1", 1, 0);
    });
    same_errno(m, pid + "/status", [](const std::string& p) {
        int fd = ::open(p.c_str(), O_RDONLY);
        int rv = ::flock(fd, LOCK_EX);
        ::close(fd);
        return rv;
    });
    // Offsets: huge, past EOF, negative.
    for (off_t off : {off_t{1} << 40, off_t{1} << 62, off_t{4096}, off_t{-1}}) {
        same_errno(m, pid + "/status", [off](const std::string& p) {
            int fd = ::open(p.c_str(), O_RDONLY);
            char buf[16];
            ssize_t n = ::pread(fd, buf, sizeof buf, off);
            ::close(fd);
            return n < 0 ? -1 : 0;
        });
        same_errno(m, "", [off](const std::string& p) {
            int fd = ::open(p.c_str(), O_RDONLY | O_DIRECTORY);
            off_t rv = ::lseek(fd, off, SEEK_SET);
            char buf[4096];
            long n = rv < 0 ? -1 : ::syscall(SYS_getdents64, fd, buf, sizeof buf);
            ::close(fd);
            return n < 0 ? -1 : 0;
        });
    }
    // SEEK_DATA and SEEK_HOLE reach the daemon, which asks the source: EINVAL from seq_file and
    // mem, ENXIO past the end of cmdline. (SEEK_END is FUSE's own, on a size of 0.)
    for (const char* f : {"/status", "/maps", "/mem", "/cmdline"})
        for (int whence : {SEEK_DATA, SEEK_HOLE})
            same_errno(m, pid + f, [whence](const std::string& p) {
                int fd = ::open(p.c_str(), O_RDONLY);
                off_t rv = ::lseek(fd, 5, whence);
                ::close(fd);
                return rv < 0 ? -1 : 0;
            });
    // A readdir cookie from an old listing, used on a new one.
    {
        DIR* d = ::opendir(m.path().c_str());
        REQUIRE(d);
        for (int i = 0; i < 80 && ::readdir(d); ++i) {
        }
        long cookie = ::telldir(d);
        ::closedir(d);
        d = ::opendir(m.path().c_str());
        REQUIRE(d);
        ::seekdir(d, cookie);
        int count = 0;
        while (::readdir(d))
            ++count;
        ::closedir(d);
        CHECK(count >= 0);
    }

    // Still serving, with the descriptors and memory it had.
    CHECK(read_file(m.path(pid + "/status")).has_value());
    CHECK(wait_until([&] { return daemon_fds(m.daemon_pid()) <= fds_before; }, 3s));
    long rss_after = daemon_rss_kb(m.daemon_pid());
    INFO("daemon RSS " << rss_before << " kB -> " << rss_after << " kB");
    CHECK(rss_after < rss_before + 4096);
}

TEST_CASE("a caller that opens without closing is bounded, other callers keep being served", "[hostile]")
{
    TestMount m("", {""});
    std::vector<int> fds;
    int err = 0;
    // Open until the daemon's bound for this caller (or our own limit) refuses.
    for (int i = 0; i < 100000; ++i) {
        int fd = ::open(m.path("uptime").c_str(), O_RDONLY);
        if (fd < 0) {
            err = errno;
            break;
        }
        fds.push_back(fd);
    }
    INFO("opened " << fds.size());
    CHECK(err == EMFILE);
    // The bound is the caller's across the daemon: its other mount refuses it too...
    CHECK_FALSE(read_file(m.mount_path(1, "uptime")).has_value());
    // ...and serves everybody else (limits_test.cpp has the whole story).
    CHECK(run_as(65534, 65534, [&] {
              return read_file(m.path("uptime")) && read_file(m.mount_path(1, "uptime")) ? 0 : 1;
          }) == 0);
    for (int fd : fds)
        ::close(fd);
    CHECK(wait_until([&] { return read_file(m.path("uptime")).has_value(); }, 3s));
}
