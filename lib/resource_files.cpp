// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/resource_files.hpp"

#include <fmt/format.h>
#include <sys/sysmacros.h>

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <optional>
#include <sstream>
#include <vector>

namespace procfsd {

namespace {

using cgroup::Memory;
using cgroup::Stat;
using cgroup::unlimited;

// One "Name:   value kB" line of meminfo.
struct Line {
    std::string_view name;  // without the colon; empty for a line that is not name: value
    std::string_view value; // from its first digit
    std::string_view text;  // as the host wrote it, without the newline
};

// The first line of `text` (taken off it). Its value is left unparsed: of the host's some 55
// lines only MemTotal's and SwapTotal's are read.
Line next_line(std::string_view& text)
{
    auto nl = text.find('\n');
    Line l;
    l.text = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    auto colon = l.text.find(':');
    if (colon != std::string_view::npos) {
        auto digits = l.text.find_first_not_of(' ', colon + 1);
        if (digits != std::string_view::npos && l.text[digits] >= '0' && l.text[digits] <= '9') {
            l.name = l.text.substr(0, colon);
            l.value = l.text.substr(digits);
        }
    }
    return l;
}

uint64_t host_value(std::string_view text, std::string_view name)
{
    while (!text.empty())
        if (Line l = next_line(text); l.name == name) {
            uint64_t kb = 0;
            std::from_chars(l.value.data(), l.value.data() + l.value.size(), kb);
            return kb;
        }
    return 0;
}

// As the kernel prints it (show_val_kb): the name and colon padded to 16, the value to 8;
// appended to `out` without a formatting pass (a container's meminfo is made at every open).
void append_kb_line(std::string& out, std::string_view name, uint64_t kb)
{
    size_t start = out.size();
    out.append(name);
    out += ':';
    if (out.size() - start < 16)
        out.append(16 - (out.size() - start), ' ');
    char digits[24];
    auto end = std::to_chars(digits, digits + sizeof digits, kb).ptr;
    size_t n = static_cast<size_t>(end - digits);
    if (n < 8)
        out.append(8 - n, ' ');
    out.append(digits, n);
    out += " kB";
}

// The container's memory, in kB, as meminfo's lines need it.
struct MemoryView {
    uint64_t total = 0, free = 0, available = 0;
    std::optional<uint64_t> swap_total, swap_free;
};

MemoryView view_of(const Memory& m, uint64_t host_total_kb, uint64_t host_swap_kb)
{
    MemoryView v;
    // No limit, or a limit of 0 (which made ps divide by zero under LXCFS): the host's.
    uint64_t limit_kb = m.limit == unlimited || m.limit == 0 ? host_total_kb : m.limit / 1024;
    v.total = std::min(limit_kb, host_total_kb);
    // v1's usage_in_bytes is fuzzy (charges batched per CPU) and may fall below what memory.stat
    // counts exactly: the larger, so that MemFree + Cached + SReclaimable never exceed MemTotal
    // (free(1)'s "used" would be negative; it then prints total - free).
    uint64_t counted = m.get(Stat::anon) + m.get(Stat::file) + m.get(Stat::slab_reclaimable);
    uint64_t used = std::min(std::max(m.usage, counted) / 1024, v.total);
    v.free = v.total - used;
    uint64_t reclaimable =
        (m.get(Stat::active_file) + m.get(Stat::inactive_file) + m.get(Stat::slab_reclaimable)) / 1024;
    v.available = std::min(v.total, v.free + reclaimable);
    if (m.swap_limit && m.swap_usage) {
        uint64_t limit = *m.swap_limit == unlimited ? host_swap_kb : *m.swap_limit / 1024;
        v.swap_total = std::min(limit, host_swap_kb);
        v.swap_free = *v.swap_total - std::min(*m.swap_usage / 1024, *v.swap_total);
    }
    return v;
}

// meminfo's lines the container has figures for, sorted by name for a binary search: made at
// every open, a container's meminfo looks up each of the host's some 55 lines.
enum class Figure : uint8_t { total, free, available, zero, swap_total, swap_free, stat };
struct FigureLine {
    std::string_view name;
    Figure figure;
    Stat key = Stat::count, plus = Stat::count; // Figure::stat: the sum of one or two keys
};
constexpr FigureLine figure_lines[] = {
    {"Active", Figure::stat, Stat::active_anon, Stat::active_file},
    {"Active(anon)", Figure::stat, Stat::active_anon},
    {"Active(file)", Figure::stat, Stat::active_file},
    {"AnonHugePages", Figure::stat, Stat::anon_thp},
    {"AnonPages", Figure::stat, Stat::anon},
    {"Buffers", Figure::zero}, // counted in the cgroup's file pages
    {"Cached", Figure::stat, Stat::file},
    {"Dirty", Figure::stat, Stat::file_dirty},
    {"FileHugePages", Figure::stat, Stat::file_thp},
    {"Inactive", Figure::stat, Stat::inactive_anon, Stat::inactive_file},
    {"Inactive(anon)", Figure::stat, Stat::inactive_anon},
    {"Inactive(file)", Figure::stat, Stat::inactive_file},
    {"KReclaimable", Figure::stat, Stat::slab_reclaimable},
    {"KernelStack", Figure::stat, Stat::kernel_stack},
    {"Mapped", Figure::stat, Stat::file_mapped},
    {"MemAvailable", Figure::available},
    {"MemFree", Figure::free},
    {"MemTotal", Figure::total},
    {"PageTables", Figure::stat, Stat::pagetables},
    {"SReclaimable", Figure::stat, Stat::slab_reclaimable},
    {"SUnreclaim", Figure::stat, Stat::slab_unreclaimable},
    {"SecPageTables", Figure::stat, Stat::sec_pagetables},
    {"Shmem", Figure::stat, Stat::shmem},
    {"ShmemHugePages", Figure::stat, Stat::shmem_thp},
    {"Slab", Figure::stat, Stat::slab_reclaimable, Stat::slab_unreclaimable},
    {"SwapCached", Figure::stat, Stat::swapcached},
    {"SwapFree", Figure::swap_free},
    {"SwapTotal", Figure::swap_total},
    {"Unevictable", Figure::stat, Stat::unevictable},
    {"Writeback", Figure::stat, Stat::file_writeback},
    {"Zswap", Figure::stat, Stat::zswap},
    {"Zswapped", Figure::stat, Stat::zswapped},
};
constexpr auto by_name = [](const FigureLine& a, const FigureLine& b) { return a.name < b.name; };
static_assert(std::is_sorted(std::begin(figure_lines), std::end(figure_lines), by_name));

// The container's figure for a meminfo line, in kB; nullopt: the host's line stays.
std::optional<uint64_t> container_figure(std::string_view name, const MemoryView& v, const Memory& m)
{
    auto it = std::lower_bound(std::begin(figure_lines), std::end(figure_lines),
                               FigureLine{name, Figure::zero}, by_name);
    if (it == std::end(figure_lines) || it->name != name)
        return std::nullopt;
    switch (it->figure) {
    case Figure::total:
        return v.total;
    case Figure::free:
        return v.free;
    case Figure::available:
        return v.available;
    case Figure::zero:
        return 0;
    case Figure::swap_total:
        return v.swap_total;
    case Figure::swap_free:
        return v.swap_free;
    case Figure::stat:
        break;
    }
    return (m.get(it->key) + (it->plus == Stat::count ? 0 : m.get(it->plus))) / 1024;
}

} // namespace

std::string render_meminfo(std::string_view host, const Memory& m)
{
    MemoryView v = view_of(m, host_value(host, "MemTotal"), host_value(host, "SwapTotal"));
    std::string out;
    out.reserve(host.size());
    for (std::string_view rest = host; !rest.empty();) {
        Line l = next_line(rest);
        auto value = l.name.empty() ? std::nullopt : container_figure(l.name, v, m);
        if (value)
            append_kb_line(out, l.name, *value);
        else
            out.append(l.text);
        out += '\n';
    }
    return out;
}

std::string render_swaps(std::string_view host, const Memory& m)
{
    auto nl = host.find('\n');
    std::string_view header = host.substr(0, nl == std::string_view::npos ? host.size() : nl + 1);
    // The host's swap space: the Size column (kB) of each area below the header.
    uint64_t host_kb = 0;
    for (std::string_view rest = host.substr(header.size()); !rest.empty();) {
        auto end = rest.find('\n');
        std::string_view line = rest.substr(0, end);
        rest = end == std::string_view::npos ? std::string_view{} : rest.substr(end + 1);
        auto type_end = line.find_first_of(" \t", line.find_first_not_of(" \t", line.find_first_of(" \t")));
        auto size_at = line.find_first_not_of(" \t", type_end);
        uint64_t kb = 0;
        if (size_at != std::string_view::npos)
            std::from_chars(line.data() + size_at, line.data() + line.size(), kb);
        host_kb += kb;
    }
    MemoryView v = view_of(m, 0, host_kb);
    if (!v.swap_total)
        return std::string(host);
    std::string out(header);
    if (*v.swap_total > 0)
        out += fmt::format("{:<40}{}\t{}\t\t{}\t\t{}\n", "none", "virtual", *v.swap_total,
                           *v.swap_total - *v.swap_free, 0);
    return out;
}

namespace {

// Splits `text` into lines (without their newlines).
std::vector<std::string_view> split_lines(std::string_view text)
{
    std::vector<std::string_view> out;
    while (!text.empty()) {
        auto nl = text.find('\n');
        out.push_back(text.substr(0, nl));
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
    }
    return out;
}

// The CPU number of a "cpuN ..." line of stat; nullopt for other lines (the "cpu" total too).
std::optional<unsigned> stat_cpu(std::string_view line)
{
    if (line.size() < 4 || line.substr(0, 3) != "cpu" || line[3] < '0' || line[3] > '9')
        return std::nullopt;
    unsigned n = 0;
    std::from_chars(line.data() + 3, line.data() + line.size(), n);
    return n;
}

bool is_allowed(const std::vector<unsigned>& allowed, unsigned cpu)
{
    return std::binary_search(allowed.begin(), allowed.end(), cpu);
}

} // namespace

std::string render_cpuinfo(std::string_view host, const std::vector<unsigned>& allowed)
{
    if (allowed.empty())
        return std::string(host);
    std::string out;
    unsigned shown = 0;
    bool keep = true; // lines before the first "processor" line (none on x86) stay
    for (std::string_view line : split_lines(host)) {
        if (line.rfind("processor", 0) == 0) {
            auto colon = line.find(':');
            unsigned cpu = 0;
            if (colon != std::string_view::npos) {
                auto at = line.find_first_not_of(' ', colon + 1);
                if (at != std::string_view::npos)
                    std::from_chars(line.data() + at, line.data() + line.size(), cpu);
            }
            keep = is_allowed(allowed, cpu);
            if (keep) {
                out += std::string(line.substr(0, colon + 1)) + " " + std::to_string(shown++) + "\n";
                continue;
            }
        }
        // A blank line ends a block: kept with the block it ends.
        if (keep)
            out += std::string(line) + "\n";
    }
    return out;
}

std::string render_stat(std::string_view host, const std::vector<unsigned>& allowed)
{
    if (allowed.empty())
        return std::string(host);
    auto lines = split_lines(host);
    // The kept CPUs' lines renumbered, and their column sums for the "cpu" line.
    std::vector<uint64_t> sums;
    std::string per_cpu;
    unsigned shown = 0;
    for (std::string_view line : lines) {
        auto cpu = stat_cpu(line);
        if (!cpu || !is_allowed(allowed, *cpu))
            continue;
        std::string_view values = line.substr(line.find(' '));
        per_cpu += fmt::format("cpu{}{}\n", shown++, values);
        size_t column = 0;
        for (size_t at = 0; (at = values.find_first_not_of(' ', at)) != std::string_view::npos;
             ++column) {
            uint64_t v = 0;
            auto [end, ec] = std::from_chars(values.data() + at, values.data() + values.size(), v);
            at = static_cast<size_t>(end - values.data());
            if (sums.size() <= column)
                sums.push_back(0);
            sums[column] += v;
        }
    }
    std::string out;
    for (std::string_view line : lines) {
        if (line.rfind("cpu ", 0) == 0) {
            out += "cpu ";
            for (uint64_t v : sums)
                out += fmt::format(" {}", v);
            out += "\n" + per_cpu;
        } else if (!stat_cpu(line)) {
            out += std::string(line) + "\n";
        }
    }
    return out;
}

std::string render_uptime(const ContainerTime& t)
{
    return fmt::format("{:.2f} {:.2f}\n", std::max(0.0, t.up), std::max(0.0, t.idle));
}

std::string render_diskstats(std::string_view host, const cgroup::DiskIoMap& io)
{
    std::string out;
    for (std::string_view line : split_lines(host)) {
        std::istringstream words{std::string(line)};
        unsigned major = 0, minor = 0;
        std::string name, field;
        if (!(words >> major >> minor >> name)) {
            out += std::string(line) + "\n";
            continue;
        }
        size_t fields = 0;
        while (words >> field)
            ++fields;
        auto it = io.find(makedev(major, minor));
        cgroup::DiskIo d = it == io.end() ? cgroup::DiskIo{} : it->second;
        // Fields 1, 3, 5, 7, 12 and 14 (iostats.rst): ios and 512-byte sectors of reads, writes
        // and discards; what a cgroup does not count (merges, times, queue depth, flushes) is 0.
        const uint64_t values[] = {d.rios, 0, d.rbytes / 512, 0, d.wios, 0, d.wbytes / 512, 0, 0, 0, 0,
                                   d.dios, 0, d.dbytes / 512};
        out += fmt::format("{:4} {:7} {}", major, minor, name);
        for (size_t i = 0; i < fields; ++i)
            out += fmt::format(" {}", i < std::size(values) ? values[i] : 0);
        out += "\n";
    }
    return out;
}

} // namespace procfsd
