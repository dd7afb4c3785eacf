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
using cgroup::unlimited;

// One "Name:   value kB" line of meminfo.
struct Line {
    std::string_view name; // without the colon; empty for a line that is not name: value
    uint64_t kb = 0;
    std::string_view text; // as the host wrote it, without the newline
};

std::vector<Line> lines_of(std::string_view text)
{
    std::vector<Line> out;
    while (!text.empty()) {
        auto nl = text.find('\n');
        Line l;
        l.text = text.substr(0, nl);
        text = nl == std::string_view::npos ? std::string_view{} : text.substr(nl + 1);
        auto colon = l.text.find(':');
        if (colon != std::string_view::npos) {
            std::string_view rest = l.text.substr(colon + 1);
            auto digits = rest.find_first_not_of(' ');
            if (digits != std::string_view::npos &&
                std::from_chars(rest.data() + digits, rest.data() + rest.size(), l.kb).ec ==
                    std::errc{})
                l.name = l.text.substr(0, colon);
        }
        out.push_back(l);
    }
    return out;
}

uint64_t host_value(const std::vector<Line>& lines, std::string_view name)
{
    for (auto& l : lines)
        if (l.name == name)
            return l.kb;
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
    uint64_t counted = m.get("anon") + m.get("file") + m.get("slab_reclaimable");
    uint64_t used = std::min(std::max(m.usage, counted) / 1024, v.total);
    v.free = v.total - used;
    uint64_t reclaimable =
        (m.get("active_file") + m.get("inactive_file") + m.get("slab_reclaimable")) / 1024;
    v.available = std::min(v.total, v.free + reclaimable);
    if (m.swap_limit && m.swap_usage) {
        uint64_t limit = *m.swap_limit == unlimited ? host_swap_kb : *m.swap_limit / 1024;
        v.swap_total = std::min(limit, host_swap_kb);
        v.swap_free = *v.swap_total - std::min(*m.swap_usage / 1024, *v.swap_total);
    }
    return v;
}

// meminfo's lines from memory.stat: the sum of one or two keys.
struct StatLine {
    std::string_view name, key, plus;
};
constexpr StatLine stat_lines[] = {
    {"Cached", "file", ""},
    {"SwapCached", "swapcached", ""},
    {"Active", "active_anon", "active_file"},
    {"Inactive", "inactive_anon", "inactive_file"},
    {"Active(anon)", "active_anon", ""},
    {"Inactive(anon)", "inactive_anon", ""},
    {"Active(file)", "active_file", ""},
    {"Inactive(file)", "inactive_file", ""},
    {"Unevictable", "unevictable", ""},
    {"Zswap", "zswap", ""},
    {"Zswapped", "zswapped", ""},
    {"Dirty", "file_dirty", ""},
    {"Writeback", "file_writeback", ""},
    {"AnonPages", "anon", ""},
    {"Mapped", "file_mapped", ""},
    {"Shmem", "shmem", ""},
    {"KReclaimable", "slab_reclaimable", ""},
    {"Slab", "slab_reclaimable", "slab_unreclaimable"},
    {"SReclaimable", "slab_reclaimable", ""},
    {"SUnreclaim", "slab_unreclaimable", ""},
    {"KernelStack", "kernel_stack", ""},
    {"PageTables", "pagetables", ""},
    {"SecPageTables", "sec_pagetables", ""},
    {"AnonHugePages", "anon_thp", ""},
    {"ShmemHugePages", "shmem_thp", ""},
    {"FileHugePages", "file_thp", ""},
};

// The container's figure for a meminfo line, in kB; nullopt: the host's line stays.
std::optional<uint64_t> container_figure(std::string_view name, const MemoryView& v, const Memory& m)
{
    if (name == "MemTotal")
        return v.total;
    if (name == "MemFree")
        return v.free;
    if (name == "MemAvailable")
        return v.available;
    if (name == "Buffers")
        return 0; // counted in the cgroup's file pages
    if (name == "SwapTotal")
        return v.swap_total;
    if (name == "SwapFree")
        return v.swap_free;
    for (auto& l : stat_lines)
        if (l.name == name)
            return (m.get(l.key) + (l.plus.empty() ? 0 : m.get(l.plus))) / 1024;
    return std::nullopt;
}

} // namespace

std::string render_meminfo(std::string_view host, const Memory& m)
{
    auto lines = lines_of(host);
    MemoryView v = view_of(m, host_value(lines, "MemTotal"), host_value(lines, "SwapTotal"));
    std::string out;
    out.reserve(host.size());
    for (auto& l : lines) {
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
