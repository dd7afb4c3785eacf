// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The content hooks of the resource files a resources=cgroup mount renders for the reader's
// container (lib/entries.cpp's container rows): the source's file, as this open read it, and
// the container's cgroup figures, through the renderers of procfsd/resource_files.hpp.

#include <string>

#include "procfsd/entry.hpp"

namespace procfsd {

sys::Result<std::string> meminfo_for_container(const ContentRequest& r);
sys::Result<std::string> swaps_for_container(const ContentRequest& r);
sys::Result<std::string> cpuinfo_for_container(const ContentRequest& r);
sys::Result<std::string> stat_for_container(const ContentRequest& r);
sys::Result<std::string> uptime_for_container(const ContentRequest& r);
sys::Result<std::string> loadavg_for_container(const ContentRequest& r);
sys::Result<std::string> diskstats_for_container(const ContentRequest& r);
// The files below pressure/ (cpu, memory, io), by the node's name.
sys::Result<std::string> pressure_for_container(const ContentRequest& r);

} // namespace procfsd
