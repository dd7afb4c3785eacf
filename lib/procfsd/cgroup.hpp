// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The cgroups a container's resource files are computed from (resources=cgroup): where each
// controller's files are (v1 hierarchies or the v2 unified tree, as this machine mounts them),
// which cgroup of each a process is in, and the figures read from them. Both versions are read
// into the same figures, named as v2 names them, so that one renderer serves both
// (lib/resource_files.cpp).

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace procfsd {
class KeptFiles;
}

namespace procfsd::cgroup {

// Every reader below reads its files from descriptors `kept` keeps open (procfsd/kept_files.hpp),
// or opens them each time without one.

enum class Version { v1, v2 };

// The controllers the resource files need. cpuacct is v1's CPU usage; v2 gives it in cpu.stat.
// pressure is no controller: the PSI files of every cgroup of the v2 tree, which a machine that
// mounts v1 hierarchies may mount beside them (the "unified" tree of a hybrid layout).
enum class Controller : uint8_t { memory, cpu, cpuacct, cpuset, io, pressure };
constexpr size_t controller_count = 6;

// v1's name of a controller ("blkio" for io; "pressure", which v1 does not have).
std::string_view v1_name(Controller c) noexcept;

// Where each controller's files are.
class Layout {
public:
    // This machine's, from the daemon's mountinfo: a v1 hierarchy of the controller if one is
    // mounted, else the v2 tree if it has the controller.
    static Layout discover();
    // A v2 tree at `root` holding every controller (the tests' fixture directories).
    static Layout unified_at(std::string root);
    // v1 hierarchies below `root`, one directory per controller named as v1 names it
    // (/sys/fs/cgroup's layout; the tests' fixture directories).
    static Layout hierarchies_at(const std::string& root);

    // Whether the controller's files can be read at all.
    [[nodiscard]] bool has(Controller c) const noexcept { return !at(c).mountpoint.empty(); }
    [[nodiscard]] Version version(Controller c) const noexcept { return at(c).version; }
    // The directory of cgroup `path` ("/box/app") of that controller; "" without the controller.
    [[nodiscard]] std::string dir(Controller c, std::string_view path) const;
    // "memory v1 /sys/fs/cgroup/memory, cpu v1 ..., io none", for the log and `ctl`.
    [[nodiscard]] std::string describe() const;

private:
    struct Place {
        std::string mountpoint; // "" when not mounted
        Version version = Version::v2;
    };
    [[nodiscard]] const Place& at(Controller c) const noexcept
    {
        return places_[static_cast<size_t>(c)];
    }
    std::array<Place, controller_count> places_;
};

// A process's cgroup of each controller: the paths /proc/<pid>/cgroup gives.
struct Membership {
    std::array<std::string, controller_count> path;

    [[nodiscard]] const std::string& of(Controller c) const noexcept
    {
        return path[static_cast<size_t>(c)];
    }
    bool operator==(const Membership&) const = default;
};

// From /proc/<pid>/cgroup's text; controllers the layout does not have stay "".
Membership parse_membership(std::string_view text, const Layout& layout);
// One cgroup for every controller (resources=cgroup:PATH).
Membership everywhere(const std::string& path);

// A limit that is no limit ("max", or v1's PAGE_COUNTER_MAX in bytes).
constexpr uint64_t unlimited = UINT64_MAX;

// The memory.stat figures the resource files use, by v2's names (v1's total_* keys are read
// into them: total_rss -> anon, ...). A fixed set, so that a container's meminfo, made at every
// open, finds each figure by index instead of by name.
enum class Stat : uint8_t {
    anon, file, file_mapped, file_dirty, file_writeback, shmem, swapcached,
    active_anon, inactive_anon, active_file, inactive_file, unevictable,
    slab_reclaimable, slab_unreclaimable, kernel_stack, pagetables, sec_pagetables,
    anon_thp, shmem_thp, file_thp, zswap, zswapped,
    count
};
constexpr size_t stat_count = static_cast<size_t>(Stat::count);

// Memory figures of a cgroup and its descendants, in bytes.
struct Memory {
    uint64_t limit = unlimited; // the least of its and its ancestors' limits
    uint64_t usage = 0;
    std::optional<uint64_t> swap_limit; // swap alone; none when swap is not accounted
    std::optional<uint64_t> swap_usage;
    std::array<uint64_t, stat_count> stat{}; // memory.stat, 0 where this version gives none

    [[nodiscard]] uint64_t get(Stat s) const noexcept { return stat[static_cast<size_t>(s)]; }
    void set(Stat s, uint64_t bytes) noexcept { stat[static_cast<size_t>(s)] = bytes; }
};

// Read now; nullopt if the memory controller is not mounted or the cgroup is gone.
std::optional<Memory> read_memory(const Layout& layout, const Membership& m, KeptFiles* kept = nullptr);

// CPU figures of a cgroup.
struct Cpus {
    // The CPUs it may run on (the effective cpuset), ascending; empty when no cpuset is mounted.
    std::vector<unsigned> allowed;
    // CPUs' worth of quota (quota / period), the least up the tree; 0 without one.
    double quota = 0;
    // CPU time used by it and its descendants, in ns; none without cpuacct (v1) or cpu.stat.
    std::optional<uint64_t> usage_ns;
};

// Read now; nullopt if the cgroup is gone.
std::optional<Cpus> read_cpus(const Layout& layout, const Membership& m, KeptFiles* kept = nullptr);

// What a cgroup and its descendants moved to and from one disk, as v2's io.stat counts it.
struct DiskIo {
    uint64_t rbytes = 0, wbytes = 0, dbytes = 0; // read, written, discarded
    uint64_t rios = 0, wios = 0, dios = 0;
};
// Keyed by the disk's device number (makedev(major, minor)).
using DiskIoMap = std::map<dev_t, DiskIo>;

// Read now; nullopt if the cgroup is gone. v1 gives them in blkio.throttle.io_service_bytes_recursive
// and io_serviced_recursive, which the kernel counts only for disks that some cgroup throttles.
std::optional<DiskIoMap> read_disk_io(const Layout& layout, const Membership& m, KeptFiles* kept = nullptr);
// io.stat's text ("8:0 rbytes=1 wbytes=2 rios=3 wios=4 dbytes=0 dios=0" lines).
DiskIoMap parse_io_stat(std::string_view text);
// v1's blkio.throttle files ("8:0 Read 4096" ... "Total 8192" lines) into `out`'s bytes
// (`bytes`) or ios.
void parse_blkio_rwstat(std::string_view text, bool bytes, DiskIoMap& out);

// A pressure file of the cgroup ("cpu", "memory", "io") as the kernel gives it; nullopt if the
// cgroup is gone or its PSI is off.
std::optional<std::string> read_pressure(const Layout& layout, const Membership& m, std::string_view which,
                                         KeptFiles* kept = nullptr);

// A cpuset list ("0-3,8,10-11"), ascending; nullopt if malformed.
std::optional<std::vector<unsigned>> parse_cpu_list(std::string_view text);

} // namespace procfsd::cgroup
