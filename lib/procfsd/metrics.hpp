// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <sys/types.h>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "procfsd/stats.hpp"

namespace procfsd {

using RequestCounts = std::array<uint64_t, static_cast<size_t>(Op::count_)>;

// One mount's part of the daemon's counters.
struct MountMetrics {
    std::string mountpoint;
    std::string options;
    size_t nodes = 0;
    RequestCounts requests{};
    std::string_view transport = "dev_fuse"; // transport_name()
    uint64_t via_uring = 0;                  // requests that came over the io_uring rings
    uint64_t via_dev = 0;                    // and over /dev/fuse
    uint64_t requests_resent = 0; // sent again by the kernel after a restart (FUSE_NOTIFY_RESEND)
    size_t state_records = 0;     // nodes, handles and writes kept in its state file
};

// Everything `procfsd stats` reports, read at one moment.
struct DaemonMetrics {
    pid_t daemon_pid = 0;    // the serving process
    pid_t keeper_pid = 0;    // the keeper holding its descriptors (0: none)
    uint64_t incarnation = 0; // which server of the keeper this is (1: the first)
    std::string upgrade_failed; // why the last upgrade fell back to this binary ("" if it did not)
    size_t tracked_processes = 0;
    size_t listed_inodes = 0;
    int64_t pidfds = 0;
    int64_t pidfds_watched = 0;
    uint64_t exits_seen = 0;
    uint64_t reaps_seen = 0;
    uint64_t invalidations_sent = 0;
    uint64_t invalidations_enoent = 0;
    uint64_t invalidations_failed = 0;
    uint64_t resume_invalidations = 0;
    uint64_t resume_poll_wakeups = 0;
    size_t open_files = 0;
    size_t container_inits = 0; // resources=cgroup: namespaces whose init is cached (a pidfd each)
    size_t load_sampled = 0;    // resources=cgroup: cgroups whose load is sampled
    size_t resource_files_kept = 0; // resources=cgroup: cgroup and readers' files kept open
    RequestCounts requests{};
    std::array<uint64_t, std::tuple_size_v<decltype(Stats::reap_latency_us)>> reap_latency{};
    uint64_t reap_latency_sum_us = 0;
    std::vector<MountMetrics> mounts;
};

// The counters as `key value` lines (`procfsd stats`, SIGUSR1); with `mountpoint`, first that
// mount's transport (`transport io_uring`).
std::string render_text(const DaemonMetrics& m, std::string_view mountpoint = {});
// The counters in the OpenMetrics text format: gauges and counters with # TYPE, # HELP and
// # UNIT, requests per mount labelled with its mountpoint, the reap latency as a histogram of
// cumulative buckets, and # EOF.
std::string render_openmetrics(const DaemonMetrics& m);

} // namespace procfsd
