// SPDX-License-Identifier: GPL-2.0-or-later
// The container's resource files (resources=cgroup) from cgroup figures: the cgroup layer read
// from fixture trees of v1 and v2 files, and the renderers' formulas, root-free.
#include <catch2/catch_test_macros.hpp>

#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "file_tools.hpp"
#include "procfsd/cgroup.hpp"
#include "procfsd/kept_files.hpp"
#include "procfsd/load_sampler.hpp"
#include "procfsd/resource_files.hpp"

using namespace procfsd;

namespace {

// A scratch directory of cgroup files, removed at the end.
struct Fixture {
    std::filesystem::path root;

    Fixture()
    {
        char tmpl[] = "/tmp/procfsd-cgroup-XXXXXX";
        REQUIRE(::mkdtemp(tmpl));
        root = tmpl;
    }
    ~Fixture() { std::filesystem::remove_all(root); }

    void put(const std::string& rel, const std::string& text) const
    {
        auto p = root / rel;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p) << text;
    }
};

// A host meminfo as the kernel prints it (the lines that matter and a few that stay).
const char* const host_meminfo = "MemTotal:       24576000 kB\n"
                                 "MemFree:        20000000 kB\n"
                                 "MemAvailable:   22000000 kB\n"
                                 "Buffers:          100000 kB\n"
                                 "Cached:          1500000 kB\n"
                                 "SwapCached:            0 kB\n"
                                 "Active:          1000000 kB\n"
                                 "Inactive:        1200000 kB\n"
                                 "Mapped:           300000 kB\n"
                                 "Shmem:             10000 kB\n"
                                 "SwapTotal:       4194300 kB\n"
                                 "SwapFree:        4194300 kB\n"
                                 "CommitLimit:    16482300 kB\n"
                                 "HugePages_Total:       0\n"
                                 "Hugepagesize:       2048 kB\n";

long long field(const std::string& text, const std::string& name)
{
    return procfsd::support::line_value(text, name);
}

std::string line_of(const std::string& text, const std::string& name)
{
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        if (line.rfind(name + ":", 0) == 0)
            return line;
    return "";
}

constexpr uint64_t MiB = 1024 * 1024;

} // namespace

TEST_CASE("a process's cgroups are parsed per controller, v1 and v2", "[cgroup]")
{
    auto v2 = cgroup::Layout::unified_at("/fixture");
    auto m = cgroup::parse_membership("0::/box/app\n", v2);
    CHECK(m.of(cgroup::Controller::memory) == "/box/app");
    CHECK(m.of(cgroup::Controller::cpuacct) == "/box/app");
    CHECK(v2.dir(cgroup::Controller::memory, "/box/app") == "/fixture/box/app");
    CHECK(v2.dir(cgroup::Controller::memory, "/") == "/fixture");
    CHECK(cgroup::everywhere("/pinned").of(cgroup::Controller::io) == "/pinned");
}

TEST_CASE("memory figures of a v2 cgroup: the least limit up the tree, swap, memory.stat",
          "[cgroup]")
{
    Fixture f;
    f.put("memory.stat", "anon 1\n"); // the root has no memory.max
    f.put("box/memory.max", std::to_string(300 * MiB) + "\n");
    f.put("box/app/memory.max", "max\n");
    f.put("box/app/memory.current", std::to_string(100 * MiB) + "\n");
    f.put("box/app/memory.swap.current", std::to_string(10 * MiB) + "\n");
    f.put("box/app/memory.swap.max", std::to_string(50 * MiB) + "\n");
    f.put("box/app/memory.stat", "anon 41943040\nfile 52428800\nfile_mapped 8388608\n"
                                 "active_file 20971520\ninactive_file 31457280\n"
                                 "slab_reclaimable 4194304\nslab_unreclaimable 1048576\n");
    auto layout = cgroup::Layout::unified_at(f.root.string());
    auto mem = cgroup::read_memory(layout, cgroup::everywhere("/box/app"));
    REQUIRE(mem);
    CHECK(mem->limit == 300 * MiB);
    CHECK(mem->usage == 100 * MiB);
    CHECK(mem->swap_limit == 50 * MiB);
    CHECK(mem->swap_usage == 10 * MiB);
    CHECK(mem->get(cgroup::Stat::file_mapped) == 8 * MiB);
    CHECK(mem->get(cgroup::Stat::zswap) == 0); // not in that memory.stat
    CHECK_FALSE(cgroup::read_memory(layout, cgroup::everywhere("/gone")));
}

TEST_CASE("memory figures of a v1 cgroup: hierarchical keys under v2's names, memsw as swap",
          "[cgroup]")
{
    Fixture f;
    f.put("memory/memory.limit_in_bytes", "9223372036854771712\n");
    f.put("memory/box/memory.limit_in_bytes", std::to_string(256 * MiB) + "\n");
    f.put("memory/box/memory.usage_in_bytes", std::to_string(64 * MiB) + "\n");
    f.put("memory/box/memory.memsw.limit_in_bytes", std::to_string(384 * MiB) + "\n");
    f.put("memory/box/memory.memsw.usage_in_bytes", std::to_string(72 * MiB) + "\n");
    f.put("memory/box/memory.stat", "cache 1\nrss 2\ntotal_cache 33554432\ntotal_rss 16777216\n"
                                    "total_mapped_file 4194304\n");
    auto layout = cgroup::Layout::hierarchies_at(f.root.string());
    auto m = cgroup::parse_membership("4:memory:/box\n3:cpuset:/\n0::/\n", layout);
    CHECK(m.of(cgroup::Controller::memory) == "/box");
    CHECK(m.of(cgroup::Controller::cpuset) == "/");
    CHECK(m.of(cgroup::Controller::cpu).empty()); // no line for it
    auto mem = cgroup::read_memory(layout, m);
    REQUIRE(mem);
    CHECK(mem->limit == 256 * MiB);
    CHECK(mem->usage == 64 * MiB);
    CHECK(mem->swap_limit == 128 * MiB);
    CHECK(mem->swap_usage == 8 * MiB);
    CHECK(mem->get(cgroup::Stat::file) == 32 * MiB); // total_cache, not the cgroup's own cache
    CHECK(mem->get(cgroup::Stat::anon) == 16 * MiB);
    CHECK(mem->get(cgroup::Stat::file_mapped) == 4 * MiB);
}

TEST_CASE("meminfo for a container: its limit, usage and memory.stat, never underflowing",
          "[resources]")
{
    cgroup::Memory m;
    m.limit = 300 * MiB;
    m.usage = 100 * MiB;
    m.swap_limit = 50 * MiB;
    m.swap_usage = 10 * MiB;
    using cgroup::Stat;
    m.set(Stat::anon, 40 * MiB);
    m.set(Stat::file, 50 * MiB);
    m.set(Stat::file_mapped, 8 * MiB);
    m.set(Stat::active_file, 20 * MiB);
    m.set(Stat::inactive_file, 30 * MiB);
    m.set(Stat::slab_reclaimable, 4 * MiB);
    m.set(Stat::shmem, 2 * MiB);
    std::string out = render_meminfo(host_meminfo, m);
    CHECK(field(out, "MemTotal") == 300 * 1024);
    CHECK(field(out, "MemFree") == 200 * 1024);
    CHECK(field(out, "MemAvailable") == (200 + 20 + 30 + 4) * 1024);
    CHECK(field(out, "Buffers") == 0);
    CHECK(field(out, "Cached") == 50 * 1024);
    CHECK(field(out, "Mapped") == 8 * 1024); // LXCFS's prefix match made it 0 on v2
    CHECK(field(out, "Shmem") == 2 * 1024);
    CHECK(field(out, "SwapTotal") == 50 * 1024);
    CHECK(field(out, "SwapFree") == 40 * 1024);
    // Lines the container has no figure for stay the host's, byte for byte.
    CHECK(line_of(out, "CommitLimit") == "CommitLimit:    16482300 kB");
    CHECK(line_of(out, "HugePages_Total") == "HugePages_Total:       0");
    // As the kernel pads them.
    CHECK(line_of(out, "MemTotal") == "MemTotal:         307200 kB");
    CHECK(std::count(out.begin(), out.end(), '\n') == 15);

    SECTION("usage above the limit (charged before the limit shrank): MemFree 0, not 2^64-x")
    {
        m.usage = 400 * MiB;
        m.stat = {};
        m.set(Stat::active_file, 350 * MiB);
        std::string over = render_meminfo(host_meminfo, m);
        CHECK(field(over, "MemFree") == 0);
        CHECK(field(over, "MemAvailable") <= field(over, "MemTotal"));
    }
    SECTION("no limit, or a limit of 0: the host's MemTotal, never 0")
    {
        m.limit = cgroup::unlimited;
        CHECK(field(render_meminfo(host_meminfo, m), "MemTotal") == 24576000);
        m.limit = 0;
        CHECK(field(render_meminfo(host_meminfo, m), "MemTotal") == 24576000);
    }
    SECTION("a limit above the host's memory: the host's")
    {
        m.limit = uint64_t{1} << 50;
        CHECK(field(render_meminfo(host_meminfo, m), "MemTotal") == 24576000);
    }
    SECTION("swap used beyond its limit: SwapFree 0")
    {
        m.swap_usage = 80 * MiB;
        CHECK(field(render_meminfo(host_meminfo, m), "SwapFree") == 0);
    }
    SECTION("swap not accounted: the host's Swap lines")
    {
        m.swap_limit.reset();
        m.swap_usage.reset();
        std::string host_swap = render_meminfo(host_meminfo, m);
        CHECK(field(host_swap, "SwapTotal") == 4194300);
        CHECK(field(host_swap, "SwapFree") == 4194300);
    }
}

TEST_CASE("swaps for a container: one virtual line of its swap, or the header alone",
          "[resources]")
{
    const char* host_swaps = "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n"
                             "/dev/vda3                               partition\t4194300\t\t0\t\t-2\n";
    cgroup::Memory m;
    m.swap_limit = 50 * MiB;
    m.swap_usage = 10 * MiB;
    std::string out = render_swaps(host_swaps, m);
    CHECK(out.rfind("Filename\t", 0) == 0);
    CHECK(out.find("/dev/vda3") == std::string::npos);
    CHECK(out.find("none") != std::string::npos);
    CHECK(out.find("virtual\t51200\t\t10240\t\t0\n") != std::string::npos);
    m.swap_limit = 0;
    CHECK(render_swaps(host_swaps, m) ==
          "Filename\t\t\t\tType\t\tSize\t\tUsed\t\tPriority\n");
    m.swap_limit.reset();
    m.swap_usage.reset();
    CHECK(render_swaps(host_swaps, m) == host_swaps);
}

TEST_CASE("cpuset lists parse as the kernel writes them", "[cgroup]")
{
    CHECK(cgroup::parse_cpu_list("0-3,8,10-11\n") == std::vector<unsigned>{0, 1, 2, 3, 8, 10, 11});
    CHECK(cgroup::parse_cpu_list("1\n") == std::vector<unsigned>{1});
    CHECK(cgroup::parse_cpu_list("\n") == std::vector<unsigned>{});
    CHECK_FALSE(cgroup::parse_cpu_list("3-1"));
    CHECK_FALSE(cgroup::parse_cpu_list("a"));
    CHECK_FALSE(cgroup::parse_cpu_list("0-4294967295"));
}

TEST_CASE("CPU figures: the effective cpuset, the least quota up the tree, usage; v1 and v2",
          "[cgroup]")
{
    Fixture f;
    f.put("cpuset/box/cpuset.effective_cpus", "1\n");
    f.put("cpu/cpu.cfs_quota_us", "-1\n");
    f.put("cpu/cpu.cfs_period_us", "100000\n");
    f.put("cpu/box/cpu.cfs_quota_us", "50000\n");
    f.put("cpu/box/cpu.cfs_period_us", "100000\n");
    f.put("cpuacct/box/cpuacct.usage", "2500000000\n");
    auto v1 = cgroup::Layout::hierarchies_at(f.root.string());
    auto cpus = cgroup::read_cpus(v1, cgroup::everywhere("/box"));
    REQUIRE(cpus);
    CHECK(cpus->allowed == std::vector<unsigned>{1});
    CHECK(cpus->quota == 0.5);
    CHECK(cpus->usage_ns == 2500000000ULL);

    Fixture g;
    g.put("box/cpuset.cpus.effective", "0-1\n");
    g.put("box/cpu.max", "150000 100000\n");
    g.put("box/app/cpu.max", "max 100000\n");
    g.put("box/app/cpuset.cpus.effective", "0\n");
    g.put("box/app/cpu.stat", "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n");
    auto v2 = cgroup::Layout::unified_at(g.root.string());
    cpus = cgroup::read_cpus(v2, cgroup::everywhere("/box/app"));
    REQUIRE(cpus);
    CHECK(cpus->allowed == std::vector<unsigned>{0});
    CHECK(cpus->quota == 1.5);
    CHECK(cpus->usage_ns == 1500000ULL);
    CHECK_FALSE(cgroup::read_cpus(v2, cgroup::everywhere("/gone")));
}

TEST_CASE("cpuinfo and stat for a container: its CPUs, renumbered, the totals their sum",
          "[resources]")
{
    const char* cpuinfo = "processor\t: 0\nmodel name\t: A\napicid\t\t: 0\n\n"
                          "processor\t: 1\nmodel name\t: A\napicid\t\t: 2\n\n";
    CHECK(render_cpuinfo(cpuinfo, {1}) == "processor\t: 0\nmodel name\t: A\napicid\t\t: 2\n\n");
    CHECK(render_cpuinfo(cpuinfo, {0, 1}) == cpuinfo);
    CHECK(render_cpuinfo(cpuinfo, {}) == cpuinfo);

    const char* stat = "cpu  30 0 60 900 0 0 0 0 0 0\n"
                       "cpu0 10 0 20 300 0 0 0 0 0 0\n"
                       "cpu1 20 0 40 600 0 0 0 0 0 0\n"
                       "intr 5 1 2\nctxt 99\nbtime 1700000000\nprocesses 7\n";
    CHECK(render_stat(stat, {1}) == "cpu  20 0 40 600 0 0 0 0 0 0\n"
                                    "cpu0 20 0 40 600 0 0 0 0 0 0\n"
                                    "intr 5 1 2\nctxt 99\nbtime 1700000000\nprocesses 7\n");
    CHECK(render_stat(stat, {0, 1}) == stat);
    CHECK(render_uptime({12.345, 20.0}) == "12.35 20.00\n");
    CHECK(render_uptime({-1, -5}) == "0.00 0.00\n");
}

TEST_CASE("a container's load averages fold as the kernel's calc_load and print as loadavg",
          "[resources][load]")
{
    using L = LoadSampler;
    // One task for 5 s from nothing: 0.08 over a minute, as the kernel's avenrun gives.
    auto once = L::fold({0, 0, 0}, 1);
    CHECK(once == L::Averages{164, 34, 11});
    // Steady: the averages converge on the count and stay there.
    L::Averages steady{2048 * 3, 2048 * 3, 2048 * 3};
    CHECK(L::fold(steady, 3) == steady);
    L::Averages decayed = steady;
    for (int i = 0; i < 12 * 15; ++i) // 15 minutes idle
        decayed = L::fold(decayed, 0);
    CHECK(decayed[0] < 10);
    CHECK(decayed[2] < 2048 * 3 / 2);

    L::Reading r{{2048, 1024, 0}, {.running = 1, .uninterruptible = 0, .total = 5}};
    CHECK(render_loadavg("0.00 0.01 0.05 1/123 4567\n", r) == "1.00 0.50 0.00 1/5 4567\n");
}

TEST_CASE("a container's disk figures: v2's io.stat, v1's throttle counts, diskstats from them",
          "[resources][disk]")
{
    Fixture f;
    f.put("box/io.stat", "254:0 rbytes=1048576 wbytes=4096 rios=16 wios=1 dbytes=0 dios=0\n"
                         "8:16 rbytes=512 wbytes=0 rios=1 wios=0 dbytes=8192 dios=2\n");
    f.put("box/cpu.pressure", "some avg10=0.00 avg60=0.00 avg300=0.00 total=7\n"
                              "full avg10=0.00 avg60=0.00 avg300=0.00 total=3\n");
    auto v2 = cgroup::Layout::unified_at(f.root.string());
    auto io = cgroup::read_disk_io(v2, cgroup::everywhere("/box"));
    REQUIRE(io);
    REQUIRE(io->size() == 2);
    CHECK(io->at(makedev(254, 0)).rbytes == 1048576);
    CHECK(io->at(makedev(254, 0)).rios == 16);
    CHECK(io->at(makedev(8, 16)).dios == 2);
    CHECK(cgroup::read_pressure(v2, cgroup::everywhere("/box"), "cpu").value_or("").find("total=7") !=
          std::string::npos);
    CHECK_FALSE(cgroup::read_disk_io(v2, cgroup::everywhere("/gone")));
    CHECK_FALSE(cgroup::read_pressure(v2, cgroup::everywhere("/box"), "io"));
    // v1 hierarchies have no pressure files.
    CHECK_FALSE(cgroup::Layout::hierarchies_at(f.root.string()).has(cgroup::Controller::pressure));

    f.put("blkio/box/blkio.throttle.io_service_bytes_recursive",
          "254:0 Read 8192\n254:0 Write 4096\n254:0 Sync 12288\n254:0 Async 0\n254:0 Discard 0\n"
          "254:0 Total 12288\nTotal 12288\n");
    f.put("blkio/box/blkio.throttle.io_serviced_recursive",
          "254:0 Read 2\n254:0 Write 1\n254:0 Sync 3\n254:0 Async 0\n254:0 Discard 0\n"
          "254:0 Total 3\nTotal 3\n");
    auto v1 = cgroup::read_disk_io(cgroup::Layout::hierarchies_at(f.root.string()), cgroup::everywhere("/box"));
    REQUIRE(v1);
    REQUIRE(v1->size() == 1);
    const auto& d = v1->begin()->second;
    CHECK((d.rbytes == 8192 && d.wbytes == 4096 && d.rios == 2 && d.wios == 1 && d.dios == 0));

    // Every host line stays, in order and width; the container's figures in fields 1, 3, 5, 7,
    // 12 and 14, the rest 0; a device it did not touch is all 0; older kernels' shorter lines
    // keep their length.
    const char* host = " 254       0 vda 5682 3288 522410 2309 1003 4064 328728 952 0 1256 3559 3659 60 "
                       "79616 291 107 5\n"
                       " 254       1 vda1 10 0 80 1 0 0 0 0 0 1 1 0 0 0 0 0 0\n"
                       "   8      16 sdb 1 2 3 4 5 6 7 8 9 10 11\n";
    CHECK(render_diskstats(host, *io) ==
          " 254       0 vda 16 0 2048 0 1 0 8 0 0 0 0 0 0 0 0 0 0\n"
          " 254       1 vda1 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n"
          "   8      16 sdb 1 0 1 0 0 0 0 0 0 0 0\n");
    CHECK(render_diskstats(host, {}).find(" 5682 ") == std::string::npos);
}

TEST_CASE("kept files read again from the start, at most as many as allowed", "[cgroup][kept]")
{
    Fixture f;
    f.put("a", "1\n");
    f.put("b", "2\n");
    f.put("c", std::string(20000, 'x')); // longer than one read
    KeptFiles kept(2);
    std::string a = (f.root / "a").string(), b = (f.root / "b").string(), c = (f.root / "c").string();
    CHECK(kept.read(a) == "1\n");
    CHECK(kept.read(b) == "2\n");
    CHECK(kept.held() == 2);
    f.put("a", "3\n"); // the same file, rewritten: read from the kept descriptor at 0
    CHECK(kept.read(a) == "3\n");
    CHECK(kept.read(c)->size() == 20000);
    CHECK(kept.held() == 2); // b, the least recently read, was closed
    errno = 0;
    CHECK_FALSE(kept.read((f.root / "none").string()));
    CHECK(errno == ENOENT);
    CHECK(kept.held() == 2);
    KeptFiles none(0);
    CHECK(none.read(a) == "3\n");
    CHECK(none.held() == 0);
}
