// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The resource files of a container (resources=cgroup), rendered from the host's file as the
// source gives it and the container's cgroup figures: pure functions, one per file, so that
// every formula is unit-tested without a cgroup. Where a line has no figure of the container,
// the host's line stays (README, "Resource files"); no figure ever underflows.

#include <string>
#include <string_view>
#include <vector>

#include "procfsd/cgroup.hpp"

namespace procfsd {

// meminfo: MemTotal is the least limit (capped by the host's, never 0), usage and memory.stat
// give the rest; MemAvailable <= MemTotal; Swap* from the swap limit and usage when swap is
// accounted.
std::string render_meminfo(std::string_view host, const cgroup::Memory& m);

// swaps: the header, and one line "none ... virtual" for the container's swap when it has any
// (capped by the host's swap space); the host's when swap is not accounted.
std::string render_swaps(std::string_view host, const cgroup::Memory& m);

// cpuinfo: the host's blocks of the CPUs the container may run on, `processor` renumbered from
// 0 (other fields, siblings and apicid among them, stay the host's); the host's file when the
// cpuset is unknown (empty).
std::string render_cpuinfo(std::string_view host, const std::vector<unsigned>& allowed);

// stat: the per-CPU lines of those CPUs, renumbered from 0, and the `cpu` line their sum; every
// other line (btime, ctxt, processes...) the host's.
std::string render_stat(std::string_view host, const std::vector<unsigned>& allowed);

// diskstats: the host's lines, each device's figures replaced by the container's (ios and
// sectors read, written and discarded); a device it did not use, and every field a cgroup does
// not count (merges, times, I/Os in flight), is 0.
std::string render_diskstats(std::string_view host, const cgroup::DiskIoMap& io);

// How long a container has been up and what it left idle, in seconds.
struct ContainerTime {
    double up = 0;   // since its init started (CLOCK_BOOTTIME), never negative
    double idle = 0; // its CPUs' time it did not use since then, never negative
};
// uptime: "UP IDLE" for a container, as the kernel prints it.
std::string render_uptime(const ContainerTime& t);

} // namespace procfsd
