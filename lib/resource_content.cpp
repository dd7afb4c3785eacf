// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/resource_content.hpp"

#include <spdlog/spdlog.h>

#include <cerrno>

#include "procfsd/caller.hpp"
#include "procfsd/containers.hpp"
#include "procfsd/resource_files.hpp"

namespace procfsd {

namespace {

constexpr size_t max_file_size = 1u << 20;

// The memory figures of the reader's container. A container whose cgroup is gone (removed, or a
// pinned path that does not exist) is ENOENT, said in the log: never the host's figures in its
// place, which LXCFS gives silently.
sys::Result<cgroup::Memory> container_memory(const ContentRequest& r, const char* file)
{
    auto who = r.resources->of(r.caller);
    if (!who) {
        int err = -errno;
        return {{}, err ? err : -ESRCH};
    }
    auto mem = cgroup::read_memory(r.resources->containers.layout(), *who);
    if (!mem) {
        spdlog::warn("{} for the reader {}: ENOENT (its container's memory cgroup {} is gone or "
                     "not mounted)",
                     file, r.caller.tid(), who->of(cgroup::Controller::memory));
        return {{}, -ENOENT};
    }
    return {std::move(*mem), 0};
}

} // namespace

sys::Result<std::string> meminfo_for_container(const ContentRequest& r)
{
    auto host = sys::read_to_end(r.file, max_file_size);
    if (!host.ok())
        return host;
    auto mem = container_memory(r, "meminfo");
    if (!mem.ok())
        return {{}, mem.error};
    return {render_meminfo(host.value, mem.value), 0};
}

sys::Result<std::string> swaps_for_container(const ContentRequest& r)
{
    auto host = sys::read_to_end(r.file, max_file_size);
    if (!host.ok())
        return host;
    auto mem = container_memory(r, "swaps");
    if (!mem.ok())
        return {{}, mem.error};
    return {render_swaps(host.value, mem.value), 0};
}

} // namespace procfsd
