// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/resource_content.hpp"

#include <fcntl.h>
#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <ctime>
#include <sstream>
#include <type_traits>

#include <cerrno>

#include "procfsd/caller.hpp"
#include "procfsd/containers.hpp"
#include "procfsd/load_sampler.hpp"
#include "procfsd/resource_files.hpp"

namespace procfsd {

namespace {

constexpr size_t max_file_size = 1u << 20;

// Figures of the reader's container, read by `read`. A container whose cgroup is gone (removed,
// or a pinned path that does not exist) is ENOENT, said in the log: never the host's figures in
// its place, which LXCFS gives silently.
template <class Read>
auto container_figures(const ContentRequest& r, const char* file, Read read, cgroup::Controller named)
    -> sys::Result<typename std::invoke_result_t<Read, const cgroup::Layout&, const cgroup::Membership&,
                                                 KeptFiles*>::value_type>
{
    auto who = r.resources->of(r.caller);
    if (!who) {
        int err = -errno;
        return {{}, err ? err : -ESRCH};
    }
    auto figures = read(r.resources->containers.layout(), *who, &r.resources->containers.files());
    if (!figures) {
        spdlog::warn("{} for the reader {}: ENOENT (its container's {} cgroup {} is gone or not "
                     "mounted)",
                     file, r.caller.tid(), cgroup::v1_name(named), who->of(named));
        return {{}, -ENOENT};
    }
    return {std::move(*figures), 0};
}

sys::Result<cgroup::Memory> container_memory(const ContentRequest& r, const char* file)
{
    return container_figures(r, file, cgroup::read_memory, cgroup::Controller::memory);
}

sys::Result<cgroup::Cpus> container_cpus(const ContentRequest& r, const char* file)
{
    return container_figures(r, file, cgroup::read_cpus, cgroup::Controller::cpuset);
}

sys::Result<cgroup::DiskIoMap> container_disks(const ContentRequest& r, const char* file)
{
    return container_figures(r, file, cgroup::read_disk_io, cgroup::Controller::io);
}

// The averages of the container's tasks, counted in the hierarchy that holds them all (v1's
// cpuacct, or the v2 tree), from the sampler.
sys::Result<LoadSampler::Reading> container_load(const ContentRequest& r, const char* file)
{
    constexpr auto c = cgroup::Controller::cpuacct;
    auto& containers = r.resources->containers;
    return container_figures(
        r, file,
        [&](const cgroup::Layout& l, const cgroup::Membership& m, KeptFiles*) {
            return l.has(c) ? containers.load().read(l.dir(c, m.of(c)), l.version(c)) : std::nullopt;
        },
        c);
}

// Where the machine mounts no hierarchy with the controller, the file stays the host's.
bool counted(const ContentRequest& r, cgroup::Controller c)
{
    return r.resources->containers.layout().has(c);
}

// When process `pid` started, in seconds since boot (stat's field 22); nullopt if it is gone.
std::optional<double> started(pid_t pid)
{
    auto fd = sys::openat(AT_FDCWD, fmt::format("/proc/{}/stat", pid).c_str(), O_RDONLY);
    if (!fd.ok())
        return std::nullopt;
    auto text = sys::read_to_end(fd.value.get(), 4096);
    auto paren = text.ok() ? text.value.rfind(')') : std::string::npos;
    if (paren == std::string::npos)
        return std::nullopt;
    std::istringstream fields(text.value.substr(paren + 1));
    std::string field;
    for (int i = 3; i <= 22 && fields >> field; ++i)
        if (i == 22)
            return static_cast<double>(std::strtoull(field.c_str(), nullptr, 10)) /
                   static_cast<double>(::sysconf(_SC_CLK_TCK));
    return std::nullopt;
}

// A resource file: the source's text as this open read it, the container's figures, and the
// renderer that makes the one from the other.
template <class Figures, class Render>
sys::Result<std::string> rendered(const ContentRequest& r, const char* file,
                                  sys::Result<Figures> (*figures)(const ContentRequest&, const char*),
                                  Render render)
{
    auto host = sys::read_to_end(r.file, max_file_size);
    if (!host.ok())
        return host;
    auto f = figures(r, file);
    if (!f.ok())
        return {{}, f.error};
    return {render(host.value, f.value), 0};
}

} // namespace

sys::Result<std::string> meminfo_for_container(const ContentRequest& r)
{
    return rendered(r, "meminfo", container_memory,
                    [](const std::string& host, const cgroup::Memory& m) { return render_meminfo(host, m); });
}

sys::Result<std::string> swaps_for_container(const ContentRequest& r)
{
    return rendered(r, "swaps", container_memory,
                    [](const std::string& host, const cgroup::Memory& m) { return render_swaps(host, m); });
}

sys::Result<std::string> cpuinfo_for_container(const ContentRequest& r)
{
    return rendered(r, "cpuinfo", container_cpus, [](const std::string& host, const cgroup::Cpus& c) {
        return render_cpuinfo(host, c.allowed);
    });
}

sys::Result<std::string> stat_for_container(const ContentRequest& r)
{
    return rendered(r, "stat", container_cpus, [](const std::string& host, const cgroup::Cpus& c) {
        return render_stat(host, c.allowed);
    });
}

sys::Result<std::string> diskstats_for_container(const ContentRequest& r)
{
    if (!counted(r, cgroup::Controller::io))
        return sys::read_to_end(r.file, max_file_size);
    return rendered(r, "diskstats", container_disks, [](const std::string& host, const cgroup::DiskIoMap& io) {
        return render_diskstats(host, io);
    });
}

// pressure/cpu, memory and io: the cgroup's own file, as LXCFS gives the first two.
sys::Result<std::string> pressure_for_container(const ContentRequest& r)
{
    if (!counted(r, cgroup::Controller::pressure))
        return sys::read_to_end(r.file, max_file_size);
    return container_figures(
        r, "pressure",
        [&](const cgroup::Layout& l, const cgroup::Membership& m, KeptFiles* kept) {
            return cgroup::read_pressure(l, m, r.node.name, kept);
        },
        cgroup::Controller::pressure);
}

// A reader in the daemon's pid namespace has no container's init: the host's uptime. Inside
// a container: since its init started, against CLOCK_BOOTTIME (as stat's start times count),
// never negative; idle is its CPUs' time since then minus what it used.
sys::Result<std::string> uptime_for_container(const ContentRequest& r)
{
    auto host = sys::read_to_end(r.file, max_file_size);
    if (!host.ok())
        return host;
    auto init = r.resources->namespace_init(r.caller);
    if (!init)
        return {{}, -ESRCH};
    if (*init == 0)
        return host;
    auto since = started(*init);
    struct timespec now{};
    if (!since || ::clock_gettime(CLOCK_BOOTTIME, &now) != 0)
        return {{}, -ESRCH}; // the init is gone: so is the namespace
    ContainerTime t;
    t.up = std::max(0.0, static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9 - *since);
    auto cpus = container_cpus(r, "uptime");
    if (!cpus.ok())
        return {{}, cpus.error};
    double n = cpus.value.allowed.empty() ? static_cast<double>(::sysconf(_SC_NPROCESSORS_ONLN))
                                          : static_cast<double>(cpus.value.allowed.size());
    double used = cpus.value.usage_ns ? static_cast<double>(*cpus.value.usage_ns) / 1e9 : 0;
    t.idle = std::max(0.0, t.up * n - used);
    return {render_uptime(t), 0};
}

sys::Result<std::string> loadavg_for_container(const ContentRequest& r)
{
    return rendered(r, "loadavg", container_load, [](const std::string& host, const LoadSampler::Reading& l) {
        return render_loadavg(host, l);
    });
}

} // namespace procfsd
