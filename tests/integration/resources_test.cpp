// SPDX-License-Identifier: GPL-2.0-or-later
// resources=cgroup: meminfo and swaps rendered for the reader's container, checked against the
// cgroup's own files. Each case makes cgroups below the test's own (support::TestCgroup,
// removed in every path) and pid namespaces of its own (support::PidNamespace), whose init is
// the container; readers inside and outside read through a procfsd mount.
#include <catch2/catch_test_macros.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "cgroup_tools.hpp"
#include "file_tools.hpp"
#include "harness.hpp"
#include "pid_namespace.hpp"
#include "process_tools.hpp"

using namespace procfsd::test;
using procfsd::support::PidNamespace;
using procfsd::support::TestCgroup;

namespace {

constexpr long long MiB = 1024 * 1024;

long long field(const std::string& text, const std::string& name)
{
    return procfsd::support::line_value(text, name);
}

// A key of a cgroup file of "key value" lines; -1 if absent.
long long key(const std::optional<std::string>& text, const std::string& name)
{
    std::istringstream in(text.value_or(""));
    std::string k;
    long long v = 0;
    while (in >> k >> v)
        if (k == name)
            return v;
    return -1;
}

long long number(const std::optional<std::string>& text)
{
    return text ? std::atoll(text->c_str()) : -1;
}

std::string names_of(const std::string& meminfo)
{
    std::string out;
    std::istringstream in(meminfo);
    for (std::string line; std::getline(in, line);)
        out += line.substr(0, line.find(':')) + " ";
    return out;
}

// `path` read by a process of the namespace (forked into it: not its init).
std::string read_inside(const PidNamespace& ns, const std::string& path)
{
    int status = -1;
    std::string out = run_command("nsenter -t " + std::to_string(ns.init()) + " -p -- cat " + path, &status);
    INFO(out);
    CHECK(status == 0);
    return out;
}

// `path` read by a child of ours once it is in cgroup `cg` (the daemon's pid namespace).
std::string read_from(const TestCgroup& cg, const std::string& path)
{
    int go[2], back[2];
    REQUIRE(::pipe2(go, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(back, O_CLOEXEC) == 0);
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        char c;
        if (::read(go[0], &c, 1) != 1)
            ::_exit(1);
        auto text = read_file(path).value_or("(unreadable)");
        [[maybe_unused]] auto n = ::write(back[1], text.data(), text.size());
        ::_exit(0);
    }
    ::close(go[0]);
    ::close(back[1]);
    bool added = cg.add(child);
    [[maybe_unused]] auto n = ::write(go[1], "x", 1);
    ::close(go[1]);
    std::string out;
    procfsd::support::read_all(back[0], out);
    ::close(back[0]);
    ::waitpid(child, nullptr, 0);
    CHECK(added);
    return out;
}

std::string unique(const std::string& what)
{
    return "procfsd-test-" + what + "-" + std::to_string(::getpid());
}

// A memory cgroup of ours, made and limited, or the case ends here.
void require_limited(const TestCgroup& cg, long long mib)
{
    INFO(cg.problem());
    REQUIRE(cg.ok());
    REQUIRE(cg.set("memory.limit_in_bytes", std::to_string(mib * MiB)));
}

} // namespace

TEST_CASE("a container's meminfo: its limit, its usage and memory.stat, the rest the host's",
          "[resources]")
{
    TestCgroup cg("memory", unique("box"));
    require_limited(cg, 300);
    PidNamespace box("exec sleep 1000");
    INFO(box.problem());
    REQUIRE(box.ok());
    REQUIRE(cg.add(box.init()));
    TestMount m("resources=cgroup");

    long long before = number(cg.get("memory.usage_in_bytes"));
    std::string inside = read_inside(box, m.path("meminfo"));
    long long after = number(cg.get("memory.usage_in_bytes"));
    auto stat = cg.get("memory.stat");
    INFO(inside);
    CHECK(field(inside, "MemTotal") == 300 * 1024);
    // Used: usage_in_bytes, fuzzy on v1, or what memory.stat counts exactly where that is more.
    long long counted = key(stat, "total_rss") + key(stat, "total_cache");
    long long free = field(inside, "MemFree");
    CHECK(free <= 300 * 1024 - std::max(std::min(before, after), counted) / 1024);
    CHECK(free >= 300 * 1024 - std::max(std::max(before, after), counted) / 1024);
    CHECK(field(inside, "MemAvailable") <= field(inside, "MemTotal"));
    CHECK(field(inside, "MemAvailable") >= free);
    // A sleeping process's pages do not move: memory.stat's figures as they are.
    CHECK(field(inside, "Cached") == key(stat, "total_cache") / 1024);
    CHECK(field(inside, "AnonPages") == key(stat, "total_rss") / 1024);
    CHECK(field(inside, "Mapped") == key(stat, "total_mapped_file") / 1024);
    CHECK(field(inside, "Shmem") == key(stat, "total_shmem") / 1024);
    CHECK(field(inside, "Buffers") == 0);
    // The kernel's lines, in its order; those without a container figure as the host has them.
    auto host = read_file("/proc/meminfo").value_or("");
    CHECK(names_of(inside) == names_of(host));
    CHECK(field(inside, "CommitLimit") == field(host, "CommitLimit"));
    CHECK(field(inside, "Hugepagesize") == field(host, "Hugepagesize"));

    // The same mount read from outside any container: the reader's own cgroup, ours, whose
    // least limit up the tree (none here) bounds the host's MemTotal.
    TestCgroup probe("memory", unique("probe"));
    REQUIRE(probe.ok());
    std::string dir = probe.dir();
    long long least = field(host, "MemTotal");
    while ((dir = dir.substr(0, dir.rfind('/'))).size() >= std::string("/sys/fs/cgroup/memory").size())
        if (long long l = number(procfsd::support::read_file(dir + "/memory.limit_in_bytes")); l > 0)
            least = std::min(least, l / 1024);
    std::string outside = read_file(m.path("meminfo")).value_or("");
    CHECK(field(outside, "MemTotal") == least);
}

TEST_CASE("a reader in the daemon's namespace gets its own cgroup; cgroup:PATH pins one",
          "[resources]")
{
    TestCgroup cg("memory", unique("own"));
    require_limited(cg, 200);
    TestMount m("resources=cgroup");
    CHECK(field(read_from(cg, m.path("meminfo")), "MemTotal") == 200 * 1024);

    TestMount pinned("resources=cgroup:" + cg.path());
    CHECK(field(read_file(pinned.path("meminfo")).value_or(""), "MemTotal") == 200 * 1024);
    CHECK(pinned.ctl("list").find("resources=cgroup:" + cg.path()) != std::string::npos);
}

TEST_CASE("a container moved to another cgroup is shown there at the next open; a removed "
          "cgroup leaves open files whole and new opens ENOENT",
          "[resources]")
{
    TestCgroup a("memory", unique("a")), b("memory", unique("b"));
    require_limited(a, 300);
    require_limited(b, 100);
    PidNamespace box("exec sleep 1000");
    REQUIRE(box.ok());
    REQUIRE(a.add(box.init()));
    TestMount m("resources=cgroup", {"resources=cgroup:" + b.path()});
    CHECK(field(read_inside(box, m.path("meminfo")), "MemTotal") == 300 * 1024);
    REQUIRE(b.add(box.init()));
    CHECK(field(read_inside(box, m.path("meminfo")), "MemTotal") == 100 * 1024);

    // Opened, then its cgroup removed: the open file keeps what it showed at open.
    int fd = ::open(m.mount_path(1, "meminfo").c_str(), O_RDONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    b.remove(); // moves the init back up first
    std::string kept;
    CHECK(procfsd::support::read_all(fd, kept));
    ::close(fd);
    CHECK(field(kept, "MemTotal") == 100 * 1024);
    errno = 0;
    CHECK_FALSE(read_file(m.mount_path(1, "meminfo")));
    CHECK(errno == ENOENT);
    // The daemon keeps the cgroup files it read open (lib/kept_files.cpp): a cgroup made again
    // under the removed one's name is read anew, not through the removed one's files.
    TestCgroup again("memory", unique("b"));
    require_limited(again, 150);
    CHECK(field(read_file(m.mount_path(1, "meminfo")).value_or(""), "MemTotal") == 150 * 1024);
    REQUIRE(again.add(box.init()));
    CHECK(field(read_inside(box, m.path("meminfo")), "MemTotal") == 150 * 1024);
    auto list = m.ctl("list");
    auto at = list.find("resource_files_kept ");
    REQUIRE(at != std::string::npos);
    CHECK(std::atoi(list.c_str() + at + 20) > 0);
}

TEST_CASE("swaps for a container: its swap as one virtual area, or the header alone",
          "[resources]")
{
    TestCgroup cg("memory", unique("swap"));
    require_limited(cg, 300);
    TestMount m("resources=cgroup:" + cg.path());
    auto host = read_file("/proc/swaps").value_or("");
    auto shown = read_file(m.path("swaps")).value_or("");
    std::string header = host.substr(0, host.find('\n') + 1);
    CHECK(shown.rfind(header, 0) == 0);
    auto meminfo = read_file(m.path("meminfo")).value_or("");
    bool accounted = cg.get("memory.memsw.usage_in_bytes").has_value();
    if (!accounted)
        CHECK(shown == host);
    else if (field(meminfo, "SwapTotal") == 0)
        CHECK(shown == header);
    else
        CHECK(shown.find("none") != std::string::npos);
}

TEST_CASE("bad resources= values are refused with one line", "[resources][errors]")
{
    ScratchDir scratch;
    std::string mnt = scratch.sub("mnt");
    for (std::string bad : {"resources=cgroups", "resources=cgroup:relative", "resources=cgroup:/a/../b"}) {
        auto run = procfsd::support::run_program({procfsd_binary(), "-f", mnt, "-o", bad}, true, 30);
        INFO(bad << ": " << run.err);
        CHECK(WIFEXITED(run.status));
        CHECK(WEXITSTATUS(run.status) != 0);
        CHECK(run.err.find("resources") != std::string::npos);
        CHECK_FALSE(is_mounted(mnt));
    }
}

namespace {

double boottime()
{
    struct timespec t{};
    ::clock_gettime(CLOCK_BOOTTIME, &t);
    return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) / 1e9;
}

size_t count_lines_starting(const std::string& text, const std::string& prefix)
{
    size_t n = 0;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        n += line.rfind(prefix, 0) == 0;
    return n;
}

std::string line_starting(const std::string& text, const std::string& prefix)
{
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(prefix, 0) == 0)
            return line;
    return "";
}

// A container of 300 MiB and one CPU (the last) with half a CPU of quota: memory, cpuset, cpu
// and cpuacct cgroups below ours, the namespace's init in each.
struct OneCpuBox {
    unsigned cpu = 0;
    TestCgroup memory{"memory", unique("memory")}, cpuset{"cpuset", unique("cpuset")},
        cpu_cg{"cpu", unique("cpu")}, cpuacct{"cpuacct", unique("cpuacct")};
    double t0 = boottime();
    PidNamespace ns{"exec sleep 1000"};

    OneCpuBox()
    {
        for (auto* cg : {&memory, &cpuset, &cpu_cg, &cpuacct}) {
            INFO(cg->problem());
            REQUIRE(cg->ok());
        }
        REQUIRE(ns.ok());
        REQUIRE(memory.set("memory.limit_in_bytes", std::to_string(300 * MiB)));
        cpu = static_cast<unsigned>(::sysconf(_SC_NPROCESSORS_ONLN)) - 1;
        auto mems = read_file("/sys/fs/cgroup/cpuset/cpuset.mems").value_or("0\n");
        REQUIRE(cpuset.set("cpuset.cpus", std::to_string(cpu)));
        REQUIRE(cpuset.set("cpuset.mems", mems));
        REQUIRE(cpu_cg.set("cpu.cfs_period_us", "100000"));
        REQUIRE(cpu_cg.set("cpu.cfs_quota_us", "50000"));
        for (auto* cg : {&memory, &cpuset, &cpu_cg, &cpuacct})
            REQUIRE(cg->add(ns.init()));
    }

    // `command` run inside, by a shell that joins the container's cgroups first (as every
    // process of a real container is in them).
    std::string run(const std::string& command) const
    {
        std::string join;
        for (auto* cg : {&memory, &cpuset, &cpu_cg, &cpuacct})
            join += "echo $$ > " + cg->dir() + "/cgroup.procs && ";
        join += "true || exit 1; "; // `command` may end in &: the joins stay in the foreground
        int status = -1;
        std::string out = run_command("nsenter -t " + std::to_string(ns.init()) + " -p -- sh -c '" +
                                          join + command + "' 2>&1",
                                      &status);
        INFO(command << "\n" << out);
        CHECK(status == 0);
        return out;
    }
};

} // namespace

TEST_CASE("a container's cpuinfo, stat and uptime: its CPUs, its age", "[resources][cpu]")
{
    OneCpuBox box;
    TestMount m("resources=cgroup");
    std::string cpuinfo = box.run("cat " + m.path("cpuinfo"));
    CHECK(count_lines_starting(cpuinfo, "processor") == 1);
    CHECK(line_starting(cpuinfo, "processor") == "processor\t: 0");
    // The block is the host's block of that CPU (its clock aside).
    auto host_cpuinfo = read_file("/proc/cpuinfo").value_or("");
    auto block_of = [](const std::string& text, const std::string& processor) {
        std::string out;
        bool in = false;
        std::istringstream s(text);
        for (std::string line; std::getline(s, line);) {
            if (line.rfind("processor", 0) == 0)
                in = line == processor;
            else if (in && line.rfind("cpu MHz", 0) != 0)
                out += line + "\n";
        }
        return out;
    };
    CHECK(block_of(cpuinfo, "processor\t: 0") ==
          block_of(host_cpuinfo, "processor\t: " + std::to_string(box.cpu)));

    std::string stat = box.run("cat " + m.path("stat"));
    CHECK(count_lines_starting(stat, "cpu") == 2); // cpu and cpu0
    auto host_stat = read_file("/proc/stat").value_or("");
    CHECK(line_starting(stat, "btime") == line_starting(host_stat, "btime")); // never virtualized
    std::string total = line_starting(stat, "cpu "), cpu0 = line_starting(stat, "cpu0 ");
    CHECK(total.substr(total.find_first_not_of(' ', 3)) == cpu0.substr(5));

    std::string uptime = box.run("cat " + m.path("uptime"));
    double t1 = boottime();
    double up = std::atof(uptime.c_str());
    double idle = std::atof(uptime.substr(uptime.find(' ') + 1).c_str());
    CHECK(up >= 0);
    // Its init started after t0; its start time counts clock ticks (0.01 s, truncated) and
    // uptime prints rounded to 0.01 s: up to 0.015 s more than the true age.
    CHECK(up <= t1 - box.t0 + 0.02);
    CHECK(idle >= 0);
    CHECK(idle <= up + 0.01); // one CPU

    // What tools inside see: nproc counts the CPUs it may run on (sched_getaffinity).
    CHECK(box.run("nproc") == "1\n");
    // The host's own view is the host's (a reader in the daemon's namespace, our cgroups).
    CHECK(count_lines_starting(read_file(m.path("cpuinfo")).value_or(""), "processor") ==
          count_lines_starting(host_cpuinfo, "processor"));
}

TEST_CASE("free, top, uptime and nproc inside a container, with the mount over /proc, show the "
          "container",
          "[resources][tools]")
{
    OneCpuBox box;
    TestMount m("resources=cgroup");
    auto over = [&](const std::string& command) {
        return box.run("unshare -m sh -c \"mount --bind " + m.path() + " /proc && " + command + "\"");
    };
    // free (procps 4): its total is the limit, used = total - available, free + buff/cache
    // within the total, as natively.
    std::string shown = over("free -k");
    INFO(shown);
    std::istringstream free(shown);
    std::string line;
    long long total = -1, used = -1, free_kb = -1, shared = -1, cache = -1, available = -1;
    while (std::getline(free, line))
        if (line.rfind("Mem:", 0) == 0)
            std::istringstream(line.substr(4)) >> total >> used >> free_kb >> shared >> cache >> available;
    CHECK(total == 300 * 1024);
    CHECK(used >= 0);
    CHECK(used == total - available);
    CHECK(free_kb <= available);
    CHECK(free_kb + cache <= total);
    // top's summary: one CPU line's worth and the container's memory.
    std::string top = over("top -b -n 1 | head -5");
    CHECK(top.find("MiB Mem :    300.0 total") != std::string::npos);
    // uptime's "up" is the container's age: under a minute.
    std::string up = over("uptime");
    CHECK(up.find(" up 0 min") != std::string::npos);
    CHECK(box.run("nproc") == "1\n");
    // Python (Debian's, with psutil): psutil reads meminfo; os.cpu_count() is sysconf's
    // online CPUs, from /sys, which no /proc mount changes; the affinity is the cpuset's.
    ScratchDir scratch;
    std::string script = scratch.file("sizes.py", "import os, psutil\n"
                                                  "vm = psutil.virtual_memory()\n"
                                                  "print(vm.total, vm.available <= vm.total, os.cpu_count(),\n"
                                                  "      len(os.sched_getaffinity(0)))\n");
    std::string py = over("/usr/bin/python3 " + script);
    CHECK(py == std::to_string(300 * MiB) + " True " + std::to_string(::sysconf(_SC_NPROCESSORS_ONLN)) + " 1\n");
}

TEST_CASE("a container's loadavg counts its tasks: the running ones and all", "[resources][load]")
{
    OneCpuBox box;
    TestMount m("resources=cgroup");
    // A task that runs for as long as the container lives (the namespace's end kills it).
    box.run("(while :; do :; done) >/dev/null 2>&1 &");
    std::string load = box.run("cat " + m.path("loadavg"));
    INFO(load);
    double one = 0, five = 0, fifteen = 0;
    unsigned running = 0, total = 0;
    char slash = 0;
    std::istringstream(load) >> one >> five >> fifteen >> running >> slash >> total;
    CHECK(slash == '/');
    CHECK(running >= 1); // the loop (and the reading cat, while it reads)
    // The container's tasks: its init, the loop, the reader's shell and cat.
    CHECK(total >= 3);
    CHECK(total < 20);
    // Read first: its averages start at the count of that moment.
    CHECK(one >= 1.0);
    CHECK(m.ctl("list").find("load_sampled 1") != std::string::npos);
}

namespace {

// The whole disk with a device node whose reads a test may count: the first of diskstats that
// is no loop, ram or zram device; "" if the machine has none.
std::string a_disk()
{
    std::istringstream in(read_file("/proc/diskstats").value_or(""));
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string major, minor, name;
        words >> major >> minor >> name;
        bool virtual_ = name.rfind("loop", 0) == 0 || name.rfind("ram", 0) == 0 || name.rfind("zram", 0) == 0;
        if (!virtual_ && lstat_errno("/sys/block/" + name) == 0 && lstat_errno("/dev/" + name) == 0)
            return name;
    }
    return "";
}

// Fields of `name`'s line of a diskstats text (major, minor and name left out); empty if none.
std::vector<long long> disk_line(const std::string& text, const std::string& name)
{
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string major, minor, dev;
        words >> major >> minor >> dev;
        if (dev != name)
            continue;
        std::vector<long long> out;
        for (long long v; words >> v;)
            out.push_back(v);
        return out;
    }
    return {};
}

// The `total=` of each line of a pressure file ("some", then "full").
std::vector<long long> pressure_totals(const std::string& text)
{
    std::vector<long long> out;
    for (size_t at = 0; (at = text.find("total=", at)) != std::string::npos; at += 6)
        out.push_back(std::atoll(text.c_str() + at + 6));
    return out;
}

} // namespace

TEST_CASE("a container's diskstats and pressure: its blkio cgroup's counts and its v2 cgroup's "
          "PSI files",
          "[resources][disk]")
{
    TestCgroup blk("blkio", unique("disk")), psi("", unique("psi"));
    INFO(blk.problem() << psi.problem());
    REQUIRE(blk.ok());
    REQUIRE(psi.ok());
    // v1 counts a cgroup's I/O only on disks that some cgroup throttles: limits of ours far
    // above anything this test moves, on every disk (some, without a queue, refuse one).
    for (const auto& d : std::filesystem::directory_iterator("/sys/block"))
        if (auto dev = read_file(d.path().string() + "/dev")) {
            blk.set("blkio.throttle.read_bps_device", dev->substr(0, dev->find('\n')) + " 1099511627776");
            blk.set("blkio.throttle.write_bps_device", dev->substr(0, dev->find('\n')) + " 1099511627776");
        }
    PidNamespace box("exec sleep 1000");
    REQUIRE(box.ok());
    REQUIRE(blk.add(box.init()));
    REQUIRE(psi.add(box.init()));
    TestMount m("resources=cgroup");

    // 256 KiB written and read back around the page cache, by a process of the container's
    // blkio cgroup, on the disk that holds our scratch directory.
    ScratchDir scratch;
    std::string file = scratch.file("io", "");
    int status = -1;
    run_command("sh -c 'echo $$ > " + blk.dir() + "/cgroup.procs && dd if=/dev/zero of=" + file +
                    " bs=64k count=4 oflag=direct status=none && exec dd if=" + file +
                    " of=/dev/null bs=64k iflag=direct status=none'",
                &status);
    REQUIRE(status == 0);
    auto serviced = blk.get("blkio.throttle.io_serviced_recursive").value_or("");
    auto bytes = blk.get("blkio.throttle.io_service_bytes_recursive").value_or("");
    INFO(serviced << bytes);
    // The disk that moved the most, and its name.
    std::string dev;
    long long most = 0;
    {
        std::istringstream in(bytes);
        std::string d, op;
        long long n = 0;
        while (in >> d >> op >> n)
            if (op == "Total" && n > most && d.find(':') != std::string::npos)
                most = n, dev = d;
    }
    if (most < 512 * 1024)
        SKIP("the kernel counted no disk I/O of the scratch directory's filesystem (tmpfs?)");
    auto counted = [&](const std::string& text, const std::string& op) {
        auto at = text.find(dev + " " + op + " ");
        return at == std::string::npos ? -1 : std::atoll(text.c_str() + at + dev.size() + op.size() + 2);
    };
    std::string disk = std::filesystem::read_symlink("/sys/dev/block/" + dev).filename().string();
    INFO(disk);

    auto inside = read_inside(box, m.path("diskstats"));
    auto host = read_file("/proc/diskstats").value_or("");
    // Read again after: the kernel may still charge late I/O to the cgroup (none is expected).
    auto serviced_after = blk.get("blkio.throttle.io_serviced_recursive").value_or("");
    auto bytes_after = blk.get("blkio.throttle.io_service_bytes_recursive").value_or("");
    INFO(inside);
    auto mine = disk_line(inside, disk);
    auto theirs = disk_line(host, disk);
    REQUIRE(mine.size() == theirs.size());
    REQUIRE(mine.size() >= 11);
    auto between = [&](long long shown, const std::string& before, const std::string& after,
                       const char* op, long long unit) {
        return counted(before, op) / unit <= shown && shown <= counted(after, op) / unit;
    };
    CHECK(between(mine[0], serviced, serviced_after, "Read", 1));
    CHECK(between(mine[2], bytes, bytes_after, "Read", 512));
    CHECK(between(mine[4], serviced, serviced_after, "Write", 1));
    CHECK(between(mine[6], bytes, bytes_after, "Write", 512));
    CHECK(mine[2] >= 256 * 1024 / 512);
    CHECK(mine[1] == 0); // merges and times are not counted per cgroup
    CHECK(mine[3] == 0);
    CHECK(theirs[0] >= mine[0]);
    // The host's devices, in its order.
    auto devices = [](const std::string& text) {
        std::istringstream in(text);
        std::string out, major, minor, name, rest;
        while (in >> major >> minor >> name && std::getline(in, rest))
            out += name + " ";
        return out;
    };
    CHECK(devices(inside) == devices(host));

    for (const char* which : {"cpu", "memory", "io"}) {
        INFO(which);
        auto before = pressure_totals(psi.get(std::string(which) + ".pressure").value_or(""));
        auto shown = read_inside(box, m.path(std::string("pressure/") + which));
        auto after = pressure_totals(psi.get(std::string(which) + ".pressure").value_or(""));
        auto via = pressure_totals(shown);
        INFO(shown);
        REQUIRE(via.size() == before.size());
        REQUIRE(via.size() == after.size());
        for (size_t i = 0; i < via.size(); ++i)
            CHECK((before[i] <= via[i] && via[i] <= after[i]));
        CHECK(shown.rfind("some avg10=", 0) == 0);
    }
    // A trigger would be the host's: refused, where the container's own cgroup file takes it.
    int fd = ::open(m.path("pressure/memory").c_str(), O_WRONLY | O_CLOEXEC);
    REQUIRE(fd >= 0);
    std::string trigger = "some 150000 2000000";
    errno = 0;
    CHECK(::write(fd, trigger.c_str(), trigger.size() + 1) == -1);
    CHECK(errno == EOPNOTSUPP);
    ::close(fd);
    // A mount without resources=cgroup gives the host's.
    TestMount plain("");
    CHECK(pressure_totals(read_file(plain.path("pressure/io")).value_or("")).size() == 2);
}

TEST_CASE("a cgroup v2 tree (a fixture, this machine's v2 tree has no controller): the same "
          "files from v2's names",
          "[resources][v2]")
{
    ScratchDir scratch;
    std::string root = scratch.sub("cgroup2");
    auto put = [&](const std::string& rel, const std::string& text) {
        std::string dir = root + "/" + rel.substr(0, rel.rfind('/'));
        REQUIRE(run_command("mkdir -p " + dir) == "");
        std::ofstream(root + "/" + rel) << text;
    };
    put("box/memory.max", std::to_string(512 * MiB) + "\n");
    put("box/app/memory.max", "max\n");
    put("box/app/memory.current", std::to_string(128 * MiB) + "\n");
    put("box/app/memory.swap.max", "0\n");
    put("box/app/memory.swap.current", "0\n");
    put("box/app/memory.stat", "anon 67108864\nfile 33554432\nfile_mapped 16777216\n"
                               "active_file 8388608\ninactive_file 8388608\nslab_reclaimable 2097152\n"
                               "slab_unreclaimable 1048576\nshmem 4194304\nkernel_stack 524288\n"
                               "pagetables 1048576\n");
    put("box/app/cpuset.cpus.effective", "0\n");
    put("box/app/cpu.max", "50000 100000\n");
    put("box/app/cpu.stat", "usage_usec 1000000\nuser_usec 600000\nsystem_usec 400000\n");
    // Its threads: ours (running while it counts) and nothing else.
    put("box/app/cgroup.threads", std::to_string(::getpid()) + "\n");
    std::string disk = a_disk();
    std::string dev = disk.empty() ? "0:0" : read_file("/sys/block/" + disk + "/dev").value_or("0:0\n");
    dev.pop_back();
    put("box/app/io.stat", dev + " rbytes=1048576 wbytes=4096 rios=16 wios=1 dbytes=0 dios=0\n");
    const std::string cpu_pressure = "some avg10=1.50 avg60=0.50 avg300=0.10 total=123456\n"
                                     "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n";
    put("box/app/cpu.pressure", cpu_pressure);
    TestMount m("resources=cgroup:/box/app", {}, {"--cgroup-root", root});
    CHECK(read_file(m.path("pressure/cpu")) == cpu_pressure);
    errno = 0;
    CHECK_FALSE(read_file(m.path("pressure/io"))); // the fixture has none: never the host's
    CHECK(errno == ENOENT);
    if (!disk.empty()) {
        auto line = disk_line(read_file(m.path("diskstats")).value_or(""), disk);
        REQUIRE(line.size() >= 7);
        CHECK((line[0] == 16 && line[2] == 2048 && line[4] == 1 && line[6] == 8));
    }

    auto meminfo = read_file(m.path("meminfo")).value_or("");
    INFO(meminfo);
    CHECK(field(meminfo, "MemTotal") == 512 * 1024);
    CHECK(field(meminfo, "MemFree") == (512 - 128) * 1024);
    CHECK(field(meminfo, "MemAvailable") == (512 - 128 + 8 + 8 + 2) * 1024);
    CHECK(field(meminfo, "Mapped") == 16 * 1024); // 0 under LXCFS on v2 (prefix match on "file")
    CHECK(field(meminfo, "Slab") == 3 * 1024);
    CHECK(field(meminfo, "KernelStack") == 512);
    CHECK(field(meminfo, "PageTables") == 1024);
    CHECK(field(meminfo, "SwapTotal") == 0);
    CHECK(field(meminfo, "SwapFree") == 0);
    auto host_swaps = read_file("/proc/swaps").value_or("");
    CHECK(read_file(m.path("swaps")) == host_swaps.substr(0, host_swaps.find('\n') + 1));

    auto cpuinfo = read_file(m.path("cpuinfo")).value_or("");
    CHECK(count_lines_starting(cpuinfo, "processor") == 1);
    CHECK(count_lines_starting(read_file(m.path("stat")).value_or(""), "cpu") == 2);

    // One thread, ours, counted while it reads (in its FUSE request it sleeps: S).
    auto load = read_file(m.path("loadavg")).value_or("");
    INFO(load);
    CHECK(load.find(" 0/1 ") != std::string::npos);
    // uptime: a reader in the daemon's namespace gets the host's.
    auto host_up = std::atof(read_file("/proc/uptime").value_or("0").c_str());
    auto up = std::atof(read_file(m.path("uptime")).value_or("").c_str());
    CHECK(up >= host_up);
    CHECK(up < host_up + 60);
}

namespace {

// LXCFS 5.0.3 (Debian 12's, installed by scripts/dev without starting its service), run by the
// test on a directory of its own; stopped by pid and unmounted in every path.
class Lxcfs {
public:
    Lxcfs()
    {
        dir_ = scratch_.sub("lxcfs");
        pid_ = procfsd::support::spawn({"lxcfs", "-f", "-p", scratch_.file("pid", ""), dir_},
                                       {.death_signal = SIGTERM, .quiet = true, .env = std::nullopt});
        REQUIRE(pid_ > 0);
        REQUIRE(wait_until([&] { return lstat_errno(dir_ + "/proc/meminfo") == 0; }, 10s));
    }
    ~Lxcfs()
    {
        ::kill(pid_, SIGTERM);
        if (!procfsd::support::reaped_within(pid_, 5s)) {
            ::kill(pid_, SIGKILL);
            procfsd::support::reaped_within(pid_, 5s);
        }
        ::umount2(dir_.c_str(), MNT_DETACH);
    }
    [[nodiscard]] std::string path(const std::string& rel) const { return dir_ + "/" + rel; }

private:
    ScratchDir scratch_;
    std::string dir_;
    pid_t pid_ = -1;
};

} // namespace

TEST_CASE("a container's files agree with LXCFS's where LXCFS is right", "[resources][lxcfs]")
{
    OneCpuBox box;
    TestMount m("resources=cgroup");
    Lxcfs lxcfs;
    auto both = [&](const std::string& file) {
        return std::pair{box.run("cat " + m.path(file)), box.run("cat " + lxcfs.path("proc/" + file))};
    };
    auto [ours, theirs] = both("meminfo");
    INFO("procfsd:\n" << ours << "LXCFS:\n" << theirs);
    CHECK(field(ours, "MemTotal") == field(theirs, "MemTotal"));
    // Between the two reads the readers' own pages (each cat joins the container) move the
    // usage and memory.stat by a few pages: 1 MiB is far below any mistake of a formula.
    for (const char* name : {"MemFree", "Cached", "Shmem", "Active(anon)", "Inactive(anon)",
                             "Active(file)", "Inactive(file)", "Unevictable"}) {
        INFO(name);
        CHECK(std::abs(field(ours, name) - field(theirs, name)) <= 1024);
    }
    CHECK(field(ours, "SwapTotal") == field(theirs, "SwapTotal"));

    auto [cpuinfo, lxcfs_cpuinfo] = both("cpuinfo");
    CHECK(count_lines_starting(cpuinfo, "processor") == count_lines_starting(lxcfs_cpuinfo, "processor"));
    auto [stat, lxcfs_stat] = both("stat");
    CHECK(count_lines_starting(stat, "cpu") == count_lines_starting(lxcfs_stat, "cpu"));
    CHECK(line_starting(stat, "btime") == line_starting(lxcfs_stat, "btime"));
    auto [uptime, lxcfs_uptime] = both("uptime");
    CHECK(std::abs(std::atof(uptime.c_str()) - std::atof(lxcfs_uptime.c_str())) < 2.0);
}
