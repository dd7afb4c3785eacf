// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <sys/types.h>

#include <cstddef>

namespace procfsd {

// How the daemon's descriptors (RLIMIT_NOFILE, one table for every mount) are shared out, so
// that no use of them can take what another needs. The shares add up to less than the limit:
// the rest is the daemon's own (sessions, private procfs instances, sockets, epoll, logging).
struct DescriptorBudget {
    size_t limit = 0;   // RLIMIT_NOFILE
    size_t pidfds = 0;  // one per tracked task; past it, processes are served uncached
    size_t handles = 0; // open files and directories of every caller on every mount
    size_t polls = 0;   // sources duplicated for the poll watcher
    // Taken from the daemon's own share: files resources=cgroup keeps open to read again
    // (cgroup files, and readers' /proc/<pid>/cgroup), half each.
    size_t kept = 0;
};

// The budget for a descriptor limit: half for pidfds, a quarter for open handles, an eighth for
// polls, an eighth left to the daemon itself, of which a quarter (at most 8,192) for kept files.
DescriptorBudget descriptor_budget_for(size_t limit) noexcept;
// The budget for the daemon's RLIMIT_NOFILE. The limit is read once and again when
// raise_descriptor_limit() changes it, not on the opens, lookups and polls that ask.
DescriptorBudget descriptor_budget() noexcept;
// Raises RLIMIT_NOFILE to its hard limit (one pidfd per tracked process wants every descriptor
// there is) and takes the new limit for the budget.
void raise_descriptor_limit();

} // namespace procfsd
