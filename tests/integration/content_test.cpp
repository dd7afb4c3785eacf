// SPDX-License-Identifier: GPL-2.0-or-later
// File contents and link texts through procfsd equal /proc's for the same live process.
#include <catch2/catch_test_macros.hpp>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <termios.h>
#include <unistd.h>

#include <cctype>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <vector>

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

// Whether `pid` sleeps in the call it stays in (sleep(1)'s nanosleep): its maps, state and
// wchan no longer change.
bool in_its_sleep(pid_t pid)
{
    auto sc = read_file("/proc/" + std::to_string(pid) + "/syscall").value_or("");
    long nr = std::atol(sc.c_str());
    return !sc.empty() && std::isdigit(static_cast<unsigned char>(sc[0])) &&
           (nr == SYS_clock_nanosleep || nr == SYS_nanosleep);
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
    REQUIRE(wait_until([&] { return in_its_sleep(sleeper.pid()); }, 10s));
    auto theirs = read_file(m.path(other + "/stat")).value_or("");
    CHECK(stat_field(theirs, 3) == "S");
    CHECK(stat_field(theirs, 35) == "1");
    CHECK(status_state(read_file(m.path(other + "/status")).value_or("")) == "S (sleeping)");
    CHECK(read_file(m.path(other + "/wchan")) == read_file("/proc/" + other + "/wchan"));
    CHECK(read_file(m.path(other + "/wchan")) != "0");
}

namespace {

// include/uapi/linux/fs.h (6.11), which Debian 12's headers predate.
struct MapQuery {
    uint64_t size = sizeof(MapQuery);
    uint64_t query_flags = 0;
    uint64_t query_addr = 0;
    uint64_t vma_start = 0, vma_end = 0, vma_flags = 0, vma_page_size = 0, vma_offset = 0;
    uint64_t inode = 0;
    uint32_t dev_major = 0, dev_minor = 0;
    uint32_t vma_name_size = 0, build_id_size = 0;
    uint64_t vma_name_addr = 0, build_id_addr = 0;
};
static_assert(sizeof(MapQuery) == 104);
constexpr unsigned long map_query_cmd = _IOWR('f', 17, MapQuery);
constexpr uint64_t covering_or_next = 0x10;

// One query, with name and build-id buffers of the given sizes (0: none) inside guard bytes.
struct Answer {
    int err = 0;
    MapQuery q;
    std::string name, build_id;
    bool guards_intact = true;
};
Answer query(int fd, uint64_t addr, uint32_t name_size, uint32_t build_id_size, uint64_t size = sizeof(MapQuery))
{
    constexpr size_t guard = 64;
    std::vector<char> name(name_size + 2 * guard, '\x5a'), build_id(build_id_size + 2 * guard, '\x5a');
    std::vector<char> arg(std::max<uint64_t>(size, sizeof(MapQuery)) + 8, 0);
    Answer a;
    a.q.size = size;
    a.q.query_flags = covering_or_next;
    a.q.query_addr = addr;
    a.q.vma_name_size = name_size;
    a.q.build_id_size = build_id_size;
    a.q.vma_name_addr = name_size ? reinterpret_cast<uint64_t>(name.data() + guard) : 0;
    a.q.build_id_addr = build_id_size ? reinterpret_cast<uint64_t>(build_id.data() + guard) : 0;
    std::memcpy(arg.data(), &a.q, sizeof a.q);
    a.err = ::ioctl(fd, map_query_cmd, arg.data()) == 0 ? 0 : errno;
    std::memcpy(&a.q, arg.data(), sizeof a.q);
    a.q.vma_name_addr = a.q.build_id_addr = 0; // ours, different each call
    if (a.err == 0) {
        a.name.assign(name.data() + guard, a.q.vma_name_size);
        a.build_id.assign(build_id.data() + guard, a.q.build_id_size);
    }
    auto intact = [&](const std::vector<char>& b, size_t inner) {
        for (size_t i = 0; i < b.size(); ++i)
            if ((i < guard || i >= guard + inner) && b[i] != '\x5a')
                return false;
        return true;
    };
    a.guards_intact = intact(name, name_size) && intact(build_id, build_id_size);
    return a;
}

bool same(const Answer& a, const Answer& b)
{
    return a.err == b.err && std::memcmp(&a.q, &b.q, sizeof a.q) == 0 && a.name == b.name &&
           a.build_id == b.build_id;
}

} // namespace

TEST_CASE("PROCMAP_QUERY on maps answers as on /proc, for every mapping, and bad buffers get "
          "the kernel's errno",
          "[content][ioctl]")
{
    TestMount m;
    auto sleeper = spawn_sleeper();
    REQUIRE(wait_until([&] { return in_its_sleep(sleeper.pid()); }, 10s)); // its maps are final
    std::string maps = std::to_string(sleeper.pid()) + "/maps";
    int native = ::open(("/proc/" + maps).c_str(), O_RDONLY | O_CLOEXEC);
    int mirrored = ::open(m.path(maps).c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(native >= 0);
    REQUIRE(mirrored >= 0);
    if (query(native, 0, 0, 0).err == ENOTTY)
        SKIP("this kernel has no PROCMAP_QUERY (Linux 6.11+)");

    size_t mappings = 0, named = 0, with_build_id = 0;
    for (uint64_t addr = 0;;) {
        INFO("at " << std::hex << addr);
        for (auto [name, id] : {std::pair<uint32_t, uint32_t>{0, 0}, {4096, 20}, {4096, 0}, {0, 64}}) {
            auto a = query(native, addr, name, id), b = query(mirrored, addr, name, id);
            INFO("name " << name << " build id " << id << ": errno " << a.err << " / " << b.err);
            CHECK(same(a, b));
            CHECK(b.guards_intact);
        }
        auto a = query(native, addr, 4096, 20);
        if (a.err != 0) {
            CHECK(a.err == ENOENT);
            break;
        }
        ++mappings;
        named += a.q.vma_name_size > 1;
        with_build_id += a.q.build_id_size > 0;
        // Too small for this mapping's name or build id: ENAMETOOLONG, nothing written past.
        for (auto [name, id] : {std::pair<uint32_t, uint32_t>{2, 0}, {0, 1}}) {
            auto na = query(native, addr, name, id), mb = query(mirrored, addr, name, id);
            CHECK(na.err == mb.err);
            CHECK(mb.guards_intact);
        }
        addr = a.q.vma_end;
    }
    CHECK(mappings > 5);
    CHECK(named > 0);
    CHECK(with_build_id > 0);

    // The struct's own size: below query_addr's end EINVAL, shorter read as zero-extended,
    // longer with a zero tail as the struct, past a page E2BIG.
    for (uint64_t size : {uint64_t{8}, uint64_t{23}, uint64_t{24}, uint64_t{50}, uint64_t{103}, uint64_t{160},
                          uint64_t{5000}}) {
        auto a = query(native, 0, 0, 0, size), b = query(mirrored, 0, 0, 0, size);
        INFO("size " << size);
        CHECK(same(a, b));
    }
    auto tailed = [](int fd) {
        std::vector<char> arg(160, 0);
        MapQuery q;
        q.size = 160;
        q.query_flags = covering_or_next;
        std::memcpy(arg.data(), &q, sizeof q);
        arg[150] = 1;
        return ::ioctl(fd, map_query_cmd, arg.data()) == 0 ? 0 : errno;
    };
    CHECK(tailed(native) == E2BIG);
    CHECK(tailed(mirrored) == E2BIG);
    // A size without an address, an address without a size, an address that is not mapped.
    for (int c = 0; c < 3; ++c) {
        auto ask = [&](int fd) {
            MapQuery q;
            q.query_flags = covering_or_next;
            if (c == 0)
                q.vma_name_size = 16;
            else if (c == 1)
                q.vma_name_addr = reinterpret_cast<uint64_t>(&q);
            else
                q.vma_name_size = 4096, q.vma_name_addr = 8; // page 0 is never mapped
            return ::ioctl(fd, map_query_cmd, &q) == 0 ? 0 : errno;
        };
        INFO("case " << c);
        CHECK(ask(native) == ask(mirrored));
    }
    // Other ioctls, on maps and elsewhere: ENOTTY, as procfs.
    int status = ::open(m.path(std::to_string(sleeper.pid()) + "/status").c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(status >= 0);
    struct termios t{};
    errno = 0;
    CHECK(::ioctl(status, TCGETS, &t) == -1);
    CHECK(errno == ENOTTY);
    errno = 0;
    CHECK(::ioctl(mirrored, TCGETS, &t) == -1);
    CHECK(errno == ENOTTY);
    ::close(status);
    ::close(native);
    ::close(mirrored);
}
