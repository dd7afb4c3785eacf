// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/mount_options.hpp"

#include <grp.h>

#include <array>
#include <charconv>
#include <cmath>
#include <fmt/format.h>
#include <map>

namespace procfsd {

namespace {

using Error = std::optional<std::string>;

// One mount option: its name, what its value is ("" when it takes none), what it does (for
// --help and the man page), how it applies, and how a mount's options show it ("" when they
// hold its default).
struct OptionSpec {
    std::string_view name;
    std::string_view value;
    std::string_view help;
    Error (*apply)(MountOptions&, std::string_view value);
    std::string (*show)(const MountOptions&);

    [[nodiscard]] bool takes_value() const noexcept { return !value.empty(); }
};

Error parse_seconds(std::string_view value, double& out)
{
    double v = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), v);
    if (ec != std::errc{} || end != value.data() + value.size() || !std::isfinite(v) || v < 0 ||
        v > 1e9)
        return fmt::format("'{}' is not a number of seconds (0 to 1e9)", value);
    out = v;
    return std::nullopt;
}

std::string show_seconds(std::string_view key, double value, double default_value)
{
    return value == default_value ? "" : fmt::format("{}={:g}", key, value);
}

Error parse_hidepid(MountOptions& o, std::string_view v)
{
    static constexpr std::array<std::pair<std::string_view, Hidepid>, 8> names{{
        {"0", Hidepid::off},
        {"off", Hidepid::off},
        {"1", Hidepid::noaccess},
        {"noaccess", Hidepid::noaccess},
        {"2", Hidepid::invisible},
        {"invisible", Hidepid::invisible},
        {"4", Hidepid::ptraceable},
        {"ptraceable", Hidepid::ptraceable},
    }};
    for (auto& [name, level] : names)
        if (v == name) {
            o.hidepid = level;
            return std::nullopt;
        }
    return fmt::format("unknown value '{}' (off|noaccess|invisible|ptraceable or 0|1|2|4)", v);
}

Error parse_gid(MountOptions& o, std::string_view v)
{
    unsigned n = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
    if (ec == std::errc{} && end == v.data() + v.size() && !v.empty()) {
        o.gid = static_cast<gid_t>(n);
        return std::nullopt;
    }
    std::string name(v);
    struct group grp{};
    struct group* found = nullptr;
    std::array<char, 16384> buf{};
    if (name.empty() || ::getgrnam_r(name.c_str(), &grp, buf.data(), buf.size(), &found) != 0 ||
        !found)
        return fmt::format("no such group '{}'", v);
    o.gid = found->gr_gid;
    return std::nullopt;
}

// In the order `mount` output and `ctl list` print them.
constexpr std::array<OptionSpec, 13> option_table{{
    {"ro", "", "refuse every write with EROFS",
     [](MountOptions& o, std::string_view) -> Error {
         o.read_only = true;
         return std::nullopt;
     },
     [](const MountOptions& o) { return std::string(o.read_only ? "ro" : ""); }},
    {"rw", "", "pass writes to writable files (default)",
     [](MountOptions& o, std::string_view) -> Error {
         o.read_only = false;
         return std::nullopt;
     },
     [](const MountOptions& o) { return std::string(o.read_only ? "" : "rw"); }},
    {"source", "PATH", "the procfs the content comes from (default /proc)",
     [](MountOptions& o, std::string_view v) -> Error {
         if (v.empty() || v.front() != '/')
             return fmt::format("'{}' is not an absolute path", v);
         o.source = std::string(v);
         return std::nullopt;
     },
     [](const MountOptions& o) { return o.source == MountOptions{}.source ? "" : "source=" + o.source; }},
    {"hidepid", "off|noaccess|invisible|ptraceable",
     "whose pid directories each caller sees (0|1|2|4 too), as procfs", parse_hidepid,
     [](const MountOptions& o) {
         return o.hidepid == Hidepid::off ? "" : fmt::format("hidepid={}", hidepid_name(o.hidepid));
     }},
    {"gid", "GID", "a group (number or name) exempt from hidepid=, as procfs", parse_gid,
     [](const MountOptions& o) { return o.gid ? fmt::format("gid={}", *o.gid) : ""; }},
    {"subset", "pid", "serve only pid directories, self and thread-self, as procfs",
     [](MountOptions& o, std::string_view v) -> Error {
         if (v != "pid")
             return fmt::format("unsupported subset '{}' (only 'pid')", v);
         o.subset_pid = true;
         return std::nullopt;
     },
     [](const MountOptions& o) { return std::string(o.subset_pid ? "subset=pid" : ""); }},
    {"pidns", "PATH", "show that pid namespace's processes (/proc/<pid>/ns/pid), as procfs",
     [](MountOptions& o, std::string_view v) -> Error {
         if (v.empty() || v.front() != '/')
             return fmt::format("'{}' is not an absolute path", v);
         o.pidns = std::string(v);
         return std::nullopt;
     },
     [](const MountOptions& o) { return o.pidns.empty() ? "" : "pidns=" + o.pidns; }},
    {"resources", "host|cgroup|cgroup:PATH",
     "whose memory, swap, CPUs, uptime, load, disks and pressure (meminfo, swaps, cpuinfo, stat, uptime, loadavg, diskstats, pressure/*) "
     "show: the host's (default), each reader's container's (its pid namespace's init's "
     "cgroups), or that cgroup's",
     [](MountOptions& o, std::string_view v) -> Error {
         if (v == "host" || v == "cgroup") {
             o.resources = v == "host" ? MountOptions::Resources::host : MountOptions::Resources::cgroup;
             o.resources_cgroup.clear();
             return std::nullopt;
         }
         if (v.rfind("cgroup:", 0) == 0) {
             std::string_view path = v.substr(7);
             if (path.empty() || path.front() != '/' || path.find("/..") != std::string_view::npos ||
                 path.find("//") != std::string_view::npos)
                 return fmt::format("'{}' is not a cgroup path such as /machine/box", path);
             o.resources = MountOptions::Resources::cgroup;
             o.resources_cgroup = std::string(path);
             return std::nullopt;
         }
         return fmt::format("unknown value '{}' (host|cgroup|cgroup:PATH)", v);
     },
     [](const MountOptions& o) {
         return o.resources == MountOptions::Resources::host ? std::string()
                : o.resources_cgroup.empty()                 ? std::string("resources=cgroup")
                                                             : "resources=cgroup:" + o.resources_cgroup;
     }},
    {"entry_timeout", "S", "seconds the kernel may cache pid directory entries (default 3600)",
     [](MountOptions& o, std::string_view v) { return parse_seconds(v, o.entry_timeout); },
     [](const MountOptions& o) {
         return show_seconds("entry_timeout", o.entry_timeout, MountOptions{}.entry_timeout);
     }},
    {"attr_timeout", "S", "seconds the kernel may cache attributes (default 1)",
     [](MountOptions& o, std::string_view v) { return parse_seconds(v, o.attr_timeout); },
     [](const MountOptions& o) {
         return show_seconds("attr_timeout", o.attr_timeout, MountOptions{}.attr_timeout);
     }},
    {"io_uring", "auto|on|off",
     "carry requests over FUSE's io_uring rings when the kernel allows it (auto, the default: "
     "fuse.enable_uring=Y), always (on: refuse to mount without), or never (off)",
     [](MountOptions& o, std::string_view v) -> Error {
         using R = MountOptions::IoUring;
         if (v == "auto" || v == "on" || v == "off") {
             o.io_uring = v == "auto" ? R::automatic : v == "on" ? R::on : R::off;
             return std::nullopt;
         }
         return fmt::format("unknown value '{}' (auto|on|off)", v);
     },
     [](const MountOptions& o) {
         using R = MountOptions::IoUring;
         return std::string(o.io_uring == R::on ? "io_uring=on" : o.io_uring == R::off ? "io_uring=off" : "");
     }},
    {"io_uring_depth", "N", "ring entries per CPU queue on io_uring mounts (1 to 64, default 2)",
     [](MountOptions& o, std::string_view v) -> Error {
         unsigned n = 0;
         auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
         if (ec != std::errc{} || end != v.data() + v.size() || n < 1 || n > 64)
             return fmt::format("'{}' is not a queue depth (1 to 64)", v);
         o.io_uring_depth = n;
         return std::nullopt;
     },
     [](const MountOptions& o) {
         return o.io_uring_depth == MountOptions{}.io_uring_depth
                    ? std::string()
                    : fmt::format("io_uring_depth={}", o.io_uring_depth);
     }},
    {"allow_other", "", "accepted for fstab; always on",
     [](MountOptions&, std::string_view) -> Error { return std::nullopt; },
     [](const MountOptions&) { return std::string(); }},
}};

// Generic flags of any mount, passed to the kernel. Options that mount(8) and mount.fuse3 consume
// themselves (auto, noauto, nofail, user, _netdev, ...) may still reach us and mean nothing here.
constexpr std::array<std::string_view, 10> vfs_flag_names{
    "nosuid", "nodev", "noexec", "suid", "dev", "exec", "noatime", "atime", "relatime", "nodiratime"};
constexpr std::array<std::string_view, 7> ignored_names{
    "auto", "noauto", "nofail", "user", "users", "_netdev", "defaults"};

} // namespace

std::string_view hidepid_name(Hidepid level) noexcept
{
    switch (level) {
    case Hidepid::off:
        return "off";
    case Hidepid::noaccess:
        return "noaccess";
    case Hidepid::invisible:
        return "invisible";
    case Hidepid::ptraceable:
        return "ptraceable";
    }
    return "off";
}

std::variant<MountOptions, std::string> parse_mount_options(std::string_view text, MountOptions base)
{
    MountOptions opts = std::move(base);
    std::map<std::string, std::string, std::less<>> seen;
    while (!text.empty()) {
        auto comma = text.find(',');
        std::string_view item = text.substr(0, comma);
        text = comma == std::string_view::npos ? std::string_view{} : text.substr(comma + 1);
        if (item.empty())
            continue;
        auto eq = item.find('=');
        std::string_view key = item.substr(0, eq);
        std::optional<std::string_view> value;
        if (eq != std::string_view::npos)
            value = item.substr(eq + 1);

        bool handled = false;
        for (auto name : vfs_flag_names)
            if (item == name) {
                opts.vfs_flags.emplace_back(name);
                handled = true;
            }
        for (auto name : ignored_names)
            if (item == name)
                handled = true;
        if (handled)
            continue;

        const OptionSpec* spec = nullptr;
        for (auto& s : option_table)
            if (s.name == key)
                spec = &s;
        if (!spec)
            return fmt::format("option '{}': unknown option", item);
        if (spec->takes_value() != value.has_value())
            return fmt::format("option '{}': {}", item,
                               spec->takes_value() ? "needs a value (key=value)" : "takes no value");
        // The same key twice is fine when it says the same thing; a contradiction is refused.
        std::string canonical_key = (key == "ro" || key == "rw") ? "ro/rw" : std::string(key);
        auto prev = seen.find(canonical_key);
        if (prev != seen.end() && prev->second != item)
            return fmt::format("option '{}': conflicts with '{}'", item, prev->second);
        seen.emplace(canonical_key, std::string(item));
        if (auto err = spec->apply(opts, value.value_or(std::string_view{})))
            return fmt::format("option '{}': {}", item, *err);
    }
    return opts;
}

std::string mount_options_help()
{
    std::string out;
    // The name on its own line when it is longer than the column, as man(1) lays out a tagged
    // paragraph.
    auto row = [&](const std::string& left, std::string_view help) {
        if (left.size() <= 26)
            out += fmt::format("  {:<27} {}\n", left, help);
        else
            out += fmt::format("  {}\n  {:<27} {}\n", left, "", help);
    };
    for (auto& spec : option_table)
        row(std::string(spec.name) + (spec.takes_value() ? "=" + std::string(spec.value) : ""),
            spec.help);
    std::string flags;
    for (auto name : vfs_flag_names)
        flags += (flags.empty() ? "" : ",") + std::string(name);
    row(flags, "generic mount flags for the kernel; nosuid, nodev, noexec are always on");
    std::string ignored;
    for (auto name : ignored_names)
        ignored += (ignored.empty() ? "" : ",") + std::string(name);
    row(ignored, "fstab options, accepted and ignored");
    return out;
}

std::vector<std::string> mount_option_names()
{
    std::vector<std::string> out;
    for (auto& spec : option_table)
        out.emplace_back(spec.name);
    return out;
}

std::string MountOptions::to_string(bool with_vfs_flags) const
{
    std::string out;
    for (auto& spec : option_table)
        if (std::string shown = spec.show(*this); !shown.empty())
            out += (out.empty() ? "" : ",") + shown;
    if (with_vfs_flags)
        for (auto& f : vfs_flags)
            out += "," + f;
    return out;
}

} // namespace procfsd
