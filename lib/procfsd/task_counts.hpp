// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// How many tasks of a cgroup (and its descendants) run or wait uninterruptibly: what a
// container's load average counts. On cgroup v1 the kernel counts them itself, one netlink
// request per cgroup (taskstats' CGROUPSTATS_CMD_GET, which walks the cgroup's tasks in the
// kernel); on v2, which that request does not serve, each thread's state is read from its stat.
// LXCFS reads every task's status file for both, every 5 s.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "procfsd/cgroup.hpp"
#include "procfsd/unique_fd.hpp"

namespace procfsd {

struct TaskCounts {
    unsigned running = 0;         // R
    unsigned uninterruptible = 0; // D
    unsigned total = 0;           // every task
};

class TaskCounter {
public:
    TaskCounter();
    TaskCounter(const TaskCounter&) = delete;
    TaskCounter& operator=(const TaskCounter&) = delete;

    // The counts of cgroup directory `dir` of a hierarchy of that version and of its
    // descendants (at most max_cgroups directories, max_tasks threads on v2); nullopt if it is
    // gone.
    std::optional<TaskCounts> count(const std::string& dir, cgroup::Version version);

    static constexpr size_t max_cgroups = 256; // per count: a container's sub-cgroups
    static constexpr size_t max_tasks = 65536; // per count, on v2

private:
    bool count_v1(int dir_fd, TaskCounts& into);
    // Each thread of a list of thread ids (v2's cgroup.threads, v1's tasks), by its stat.
    static void count_threads(const std::string& file, TaskCounts& into, size_t& tasks);

    UniqueFd netlink_; // NETLINK_GENERIC, when taskstats answers
    uint16_t family_ = 0;
    uint32_t seq_ = 0;
};

} // namespace procfsd
