// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/cgroup.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <charconv>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <utility>

#include "procfsd/kept_files.hpp"
#include "procfsd/mountinfo.hpp"
#include "procfsd/unique_fd.hpp"

namespace procfsd::cgroup {

namespace {

constexpr std::array<Controller, controller_count> all{Controller::memory, Controller::cpu,
                                                       Controller::cpuacct, Controller::cpuset,
                                                       Controller::io, Controller::pressure};

// Whether every cgroup of a v2 tree has the files, enabled or not (cpu.stat, *.pressure).
bool in_every_v2_cgroup(Controller c) noexcept
{
    return c == Controller::cpuacct || c == Controller::pressure;
}

// v2's name of a controller; cpuacct's figures are in cpu.stat, a file of every v2 cgroup.
std::string_view v2_name(Controller c) noexcept
{
    return in_every_v2_cgroup(c) ? "" : v1_name(c) == "blkio" ? "io" : v1_name(c);
}

bool has_word(std::string_view list, std::string_view word, char sep)
{
    while (!list.empty()) {
        auto cut = list.find(sep);
        if (list.substr(0, cut) == word)
            return true;
        if (cut == std::string_view::npos)
            break;
        list.remove_prefix(cut + 1);
    }
    return false;
}

// A small kernel file whole, with plain system calls (an open may compute several): from a
// descriptor `kept` keeps, or opened now without one.
std::optional<std::string> read_text(const std::string& path, KeptFiles* kept = nullptr)
{
    if (kept)
        return kept->read(path);
    UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd)
        return std::nullopt;
    return read_at_start(fd.get());
}

// A number file: "max" and v1's page-counter maximum are unlimited.
std::optional<uint64_t> read_number(const std::string& path, KeptFiles* kept)
{
    auto text = read_text(path, kept);
    if (!text)
        return std::nullopt;
    std::string_view v(*text);
    while (!v.empty() && (v.back() == '\n' || v.back() == ' '))
        v.remove_suffix(1);
    if (v == "max")
        return unlimited;
    uint64_t n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec != std::errc{} || end != v.data() + v.size())
        return std::nullopt;
    // v1 says "no limit" as PAGE_COUNTER_MAX pages in bytes (9223372036854771712 here).
    return n >= (uint64_t{1} << 62) ? unlimited : n;
}

// Calls `visit` with cgroup `path` and each of its ancestors up to the root ("/").
template <class Visit>
void up_the_tree(std::string path, Visit visit)
{
    for (;;) {
        visit(path);
        if (path.empty() || path == "/")
            return;
        auto slash = path.rfind('/');
        path = slash == 0 ? "/" : path.substr(0, slash);
    }
}

// The least of `file` over the cgroup `path` and its ancestors (a limit applies to the subtree
// below it); unlimited where none sets one.
uint64_t least_up(const Layout& layout, Controller c, const std::string& path, const char* file,
                  KeptFiles* kept)
{
    uint64_t least = unlimited;
    up_the_tree(path, [&](const std::string& p) {
        if (auto v = read_number(layout.dir(c, p) + "/" + file, kept))
            least = std::min(least, *v);
    });
    return least;
}

// "key value" lines (memory.stat, cpu.stat).
// Calls `take` with each "key value" line's key and value (memory.stat, cpu.stat), parsed in
// place: v1's memory.stat has some 40 lines, read at every open.
template <class Take>
void for_each_keyed(std::string_view text, Take take)
{
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        auto space = line.find(' ');
        if (space == std::string_view::npos)
            continue;
        uint64_t value = 0;
        std::string_view number = line.substr(space + 1);
        if (std::from_chars(number.data(), number.data() + number.size(), value).ec == std::errc{})
            take(line.substr(0, space), value);
    }
}

std::map<std::string, uint64_t, std::less<>> parse_keyed(std::string_view text)
{
    std::map<std::string, uint64_t, std::less<>> out;
    for_each_keyed(text, [&](std::string_view key, uint64_t value) { out.emplace(key, value); });
    return out;
}

// memory.stat's keys the resource files read, sorted by key for a binary search: v2's names,
// and v1's hierarchical total_* keys (v1's plain keys count the cgroup alone, not its subtree).
struct StatKey {
    std::string_view key;
    Stat stat;
};
constexpr StatKey v2_stat_keys[] = {
    {"active_anon", Stat::active_anon},
    {"active_file", Stat::active_file},
    {"anon", Stat::anon},
    {"anon_thp", Stat::anon_thp},
    {"file", Stat::file},
    {"file_dirty", Stat::file_dirty},
    {"file_mapped", Stat::file_mapped},
    {"file_thp", Stat::file_thp},
    {"file_writeback", Stat::file_writeback},
    {"inactive_anon", Stat::inactive_anon},
    {"inactive_file", Stat::inactive_file},
    {"kernel_stack", Stat::kernel_stack},
    {"pagetables", Stat::pagetables},
    {"sec_pagetables", Stat::sec_pagetables},
    {"shmem", Stat::shmem},
    {"shmem_thp", Stat::shmem_thp},
    {"slab_reclaimable", Stat::slab_reclaimable},
    {"slab_unreclaimable", Stat::slab_unreclaimable},
    {"swapcached", Stat::swapcached},
    {"unevictable", Stat::unevictable},
    {"zswap", Stat::zswap},
    {"zswapped", Stat::zswapped},
};
constexpr StatKey v1_stat_keys[] = {
    {"total_active_anon", Stat::active_anon},
    {"total_active_file", Stat::active_file},
    {"total_cache", Stat::file},
    {"total_dirty", Stat::file_dirty},
    {"total_inactive_anon", Stat::inactive_anon},
    {"total_inactive_file", Stat::inactive_file},
    {"total_mapped_file", Stat::file_mapped},
    {"total_rss", Stat::anon},
    {"total_rss_huge", Stat::anon_thp},
    {"total_shmem", Stat::shmem},
    {"total_swapcached", Stat::swapcached},
    {"total_unevictable", Stat::unevictable},
    {"total_writeback", Stat::file_writeback},
};
constexpr auto by_key = [](const StatKey& a, const StatKey& b) { return a.key < b.key; };
static_assert(std::is_sorted(std::begin(v2_stat_keys), std::end(v2_stat_keys), by_key));
static_assert(std::is_sorted(std::begin(v1_stat_keys), std::end(v1_stat_keys), by_key));
static_assert(std::size(v2_stat_keys) == stat_count);

template <size_t N>
const StatKey* find_key(const StatKey (&keys)[N], std::string_view key) noexcept
{
    auto it = std::lower_bound(std::begin(keys), std::end(keys), StatKey{key, Stat::count}, by_key);
    return it != std::end(keys) && it->key == key ? it : nullptr;
}

} // namespace

std::string_view v1_name(Controller c) noexcept
{
    switch (c) {
    case Controller::memory:
        return "memory";
    case Controller::cpu:
        return "cpu";
    case Controller::cpuacct:
        return "cpuacct";
    case Controller::cpuset:
        return "cpuset";
    case Controller::io:
        return "blkio";
    case Controller::pressure:
        return "pressure";
    }
    return "";
}

Layout Layout::discover()
{
    Layout out;
    std::string unified;
    for (const MountInfo& m : all_mounts()) {
        if (m.fstype == "cgroup2" && unified.empty() && m.root == "/")
            unified = m.point;
        if (m.fstype != "cgroup" || m.root != "/")
            continue;
        for (Controller c : all)
            if (has_word(m.super, v1_name(c), ',') && out.at(c).mountpoint.empty())
                out.places_[static_cast<size_t>(c)] = {m.point, Version::v1};
    }
    if (unified.empty())
        return out;
    std::string enabled = read_text(unified + "/cgroup.controllers").value_or("");
    while (!enabled.empty() && enabled.back() == '\n')
        enabled.pop_back();
    for (Controller c : all)
        if (out.at(c).mountpoint.empty() &&
            (in_every_v2_cgroup(c) || has_word(enabled, v2_name(c), ' ')))
            out.places_[static_cast<size_t>(c)] = {unified, Version::v2};
    return out;
}

Layout Layout::unified_at(std::string root)
{
    Layout out;
    for (Controller c : all)
        out.places_[static_cast<size_t>(c)] = {root, Version::v2};
    return out;
}

Layout Layout::hierarchies_at(const std::string& root)
{
    Layout out;
    for (Controller c : all)
        if (c != Controller::pressure) // v1 has no PSI files
            out.places_[static_cast<size_t>(c)] = {root + "/" + std::string(v1_name(c)), Version::v1};
    return out;
}

std::string Layout::dir(Controller c, std::string_view path) const
{
    const Place& p = at(c);
    if (p.mountpoint.empty())
        return "";
    return path.empty() || path == "/" ? p.mountpoint : p.mountpoint + std::string(path);
}

std::string Layout::describe() const
{
    std::string out;
    for (Controller c : all) {
        const Place& p = at(c);
        out += fmt::format("{}{} {}", out.empty() ? "" : ", ", v1_name(c),
                           p.mountpoint.empty() ? std::string("none")
                                                : fmt::format("{} {}",
                                                              p.version == Version::v1 ? "v1" : "v2",
                                                              p.mountpoint));
    }
    return out;
}

Membership parse_membership(std::string_view text, const Layout& layout)
{
    Membership out;
    while (!text.empty()) {
        auto nl = text.find('\n');
        std::string_view line = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        // ID:CONTROLLERS:PATH; v2's line is 0::PATH.
        auto first = line.find(':');
        auto second = first == std::string_view::npos ? first : line.find(':', first + 1);
        if (second == std::string_view::npos)
            continue;
        std::string_view id = line.substr(0, first);
        std::string_view controllers = line.substr(first + 1, second - first - 1);
        std::string_view path = line.substr(second + 1);
        for (Controller c : all) {
            if (!layout.has(c))
                continue;
            bool mine = layout.version(c) == Version::v1 ? has_word(controllers, v1_name(c), ',')
                                                         : id == "0" && controllers.empty();
            if (mine)
                out.path[static_cast<size_t>(c)] = std::string(path);
        }
    }
    return out;
}

Membership everywhere(const std::string& path)
{
    Membership out;
    out.path.fill(path);
    return out;
}

std::optional<Memory> read_memory(const Layout& layout, const Membership& m, KeptFiles* kept)
{
    constexpr Controller c = Controller::memory;
    const std::string& path = m.of(c);
    std::string dir = layout.dir(c, path);
    if (dir.empty() || path.empty())
        return std::nullopt;
    // memory.stat tells whether the cgroup is there (a cgroup without one, v2's root, has its
    // directory).
    auto stat_text = read_text(dir + "/memory.stat", kept);
    struct stat st{};
    if (!stat_text && ::stat(dir.c_str(), &st) != 0)
        return std::nullopt;
    bool v2 = layout.version(c) == Version::v2;
    Memory out;
    // v1's memory.stat also gives the least limits up the tree (hierarchical_*_limit), and the
    // swap used (total_swap) where the kernel accounts swap.
    std::optional<uint64_t> memory_limit, both_limit, swapped;
    for_each_keyed(stat_text.value_or(""), [&](std::string_view key, uint64_t value) {
        if (const StatKey* k = v2 ? find_key(v2_stat_keys, key) : find_key(v1_stat_keys, key))
            out.set(k->stat, value);
        else if (v2)
            return;
        else if (key == "hierarchical_memory_limit")
            memory_limit = value;
        else if (key == "hierarchical_memsw_limit")
            both_limit = value;
        else if (key == "total_swap")
            swapped = value;
    });
    if (v2) {
        out.limit = least_up(layout, c, path, "memory.max", kept);
        out.usage = read_number(dir + "/memory.current", kept).value_or(0);
        if (auto swap = read_number(dir + "/memory.swap.current", kept)) {
            out.swap_usage = swap;
            out.swap_limit = least_up(layout, c, path, "memory.swap.max", kept);
        }
        return out;
    }
    auto hierarchical = [&](const std::optional<uint64_t>& given, const char* file) {
        return given ? (*given >= (uint64_t{1} << 62) ? unlimited : *given)
                     : least_up(layout, c, path, file, kept);
    };
    out.limit = hierarchical(memory_limit, "memory.limit_in_bytes");
    out.usage = read_number(dir + "/memory.usage_in_bytes", kept).value_or(0);
    if (!swapped)
        if (auto both = read_number(dir + "/memory.memsw.usage_in_bytes", kept)) // memory and swap
            swapped = *both > out.usage ? *both - out.usage : 0;
    if (swapped) {
        uint64_t both = hierarchical(both_limit, "memory.memsw.limit_in_bytes");
        out.swap_usage = swapped;
        out.swap_limit = both == unlimited        ? unlimited
                         : out.limit == unlimited ? both
                         : both > out.limit       ? both - out.limit
                                                  : 0;
    }
    return out;
}

DiskIoMap parse_io_stat(std::string_view text)
{
    DiskIoMap out;
    std::istringstream in{std::string(text)};
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        std::string dev, pair;
        unsigned major = 0, minor = 0;
        if (!(words >> dev) || std::sscanf(dev.c_str(), "%u:%u", &major, &minor) != 2)
            continue;
        DiskIo& d = out[makedev(major, minor)];
        constexpr std::pair<std::string_view, uint64_t DiskIo::*> keys[] = {
            {"rbytes", &DiskIo::rbytes}, {"wbytes", &DiskIo::wbytes}, {"dbytes", &DiskIo::dbytes},
            {"rios", &DiskIo::rios},     {"wios", &DiskIo::wios},     {"dios", &DiskIo::dios},
        };
        while (words >> pair) {
            auto eq = pair.find('=');
            for (auto [name, field] : keys)
                if (std::string_view(pair).substr(0, eq) == name)
                    d.*field = std::strtoull(pair.c_str() + eq + 1, nullptr, 10);
        }
    }
    return out;
}

void parse_blkio_rwstat(std::string_view text, bool bytes, DiskIoMap& out)
{
    std::istringstream in{std::string(text)};
    std::string dev, op;
    uint64_t n = 0;
    for (std::string line; std::getline(in, line);) {
        std::istringstream words(line);
        unsigned major = 0, minor = 0;
        // "Total N" ends the file; "8:0 Total N" sums a disk's.
        if (!(words >> dev >> op >> n) || std::sscanf(dev.c_str(), "%u:%u", &major, &minor) != 2)
            continue;
        uint64_t DiskIo::*field = op == "Read"      ? (bytes ? &DiskIo::rbytes : &DiskIo::rios)
                                  : op == "Write"   ? (bytes ? &DiskIo::wbytes : &DiskIo::wios)
                                  : op == "Discard" ? (bytes ? &DiskIo::dbytes : &DiskIo::dios)
                                                    : nullptr;
        if (field)
            out[makedev(major, minor)].*field = n;
    }
}

std::optional<DiskIoMap> read_disk_io(const Layout& layout, const Membership& m, KeptFiles* kept)
{
    constexpr Controller c = Controller::io;
    std::string dir = layout.dir(c, m.of(c));
    if (dir.empty() || m.of(c).empty())
        return std::nullopt;
    if (layout.version(c) == Version::v2) {
        auto text = read_text(dir + "/io.stat", kept);
        return text ? std::optional(parse_io_stat(*text)) : std::nullopt;
    }
    auto bytes = read_text(dir + "/blkio.throttle.io_service_bytes_recursive", kept);
    auto ios = read_text(dir + "/blkio.throttle.io_serviced_recursive", kept);
    if (!bytes || !ios)
        return std::nullopt;
    DiskIoMap out;
    parse_blkio_rwstat(*bytes, true, out);
    parse_blkio_rwstat(*ios, false, out);
    return out;
}

std::optional<std::string> read_pressure(const Layout& layout, const Membership& m, std::string_view which,
                                         KeptFiles* kept)
{
    constexpr Controller c = Controller::pressure;
    std::string dir = layout.dir(c, m.of(c));
    if (dir.empty() || m.of(c).empty())
        return std::nullopt;
    return read_text(dir + "/" + std::string(which) + ".pressure", kept);
}

std::optional<std::vector<unsigned>> parse_cpu_list(std::string_view text)
{
    std::vector<unsigned> out;
    while (!text.empty() && (text.back() == '\n' || text.back() == ' '))
        text.remove_suffix(1);
    while (!text.empty()) {
        auto comma = text.find(',');
        std::string_view item = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        unsigned lo = 0, hi = 0;
        auto dash = item.find('-');
        auto number = [](std::string_view v, unsigned& n) {
            auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
            return ec == std::errc{} && end == v.data() + v.size() && !v.empty();
        };
        if (!number(item.substr(0, dash), lo) ||
            !number(dash == std::string_view::npos ? item : item.substr(dash + 1), hi) || hi < lo ||
            hi - lo > 65536)
            return std::nullopt;
        for (unsigned c = lo; c <= hi; ++c)
            out.push_back(c);
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    return out;
}

std::optional<Cpus> read_cpus(const Layout& layout, const Membership& m, KeptFiles* kept)
{
    Cpus out;
    bool any = false;
    if (layout.has(Controller::cpuset) && !m.of(Controller::cpuset).empty()) {
        std::string dir = layout.dir(Controller::cpuset, m.of(Controller::cpuset));
        const char* file = layout.version(Controller::cpuset) == Version::v1
                               ? "/cpuset.effective_cpus"
                               : "/cpuset.cpus.effective";
        auto text = read_text(dir + file, kept);
        if (!text)
            return std::nullopt;
        out.allowed = parse_cpu_list(*text).value_or(std::vector<unsigned>{});
        any = true;
    }
    if (layout.has(Controller::cpu) && !m.of(Controller::cpu).empty()) {
        // The least quota/period up the tree.
        bool v2 = layout.version(Controller::cpu) == Version::v2;
        up_the_tree(m.of(Controller::cpu), [&](const std::string& path) {
            std::string dir = layout.dir(Controller::cpu, path);
            double q = 0;
            if (v2) {
                std::istringstream max(read_text(dir + "/cpu.max", kept).value_or(""));
                std::string quota;
                double period = 0;
                if (max >> quota >> period && quota != "max" && period > 0)
                    q = std::atof(quota.c_str()) / period;
            } else {
                auto quota = read_text(dir + "/cpu.cfs_quota_us", kept);
                auto period = read_number(dir + "/cpu.cfs_period_us", kept);
                if (quota && period && *period > 0 && std::atoll(quota->c_str()) > 0)
                    q = static_cast<double>(std::atoll(quota->c_str())) / static_cast<double>(*period);
            }
            if (q > 0 && (out.quota == 0 || q < out.quota))
                out.quota = q;
        });
        any = true;
    }
    if (layout.has(Controller::cpuacct) && !m.of(Controller::cpuacct).empty()) {
        std::string dir = layout.dir(Controller::cpuacct, m.of(Controller::cpuacct));
        if (layout.version(Controller::cpuacct) == Version::v1) {
            out.usage_ns = read_number(dir + "/cpuacct.usage", kept);
        } else {
            auto stat = parse_keyed(read_text(dir + "/cpu.stat", kept).value_or(""));
            if (auto it = stat.find("usage_usec"); it != stat.end())
                out.usage_ns = it->second * 1000;
        }
        any = any || out.usage_ns.has_value();
    }
    if (!any)
        return std::nullopt;
    return out;
}

} // namespace procfsd::cgroup
