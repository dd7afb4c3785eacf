// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <sys/types.h>

#include <vector>

namespace procfsd::bench {

// The background processes: forked children that pause (named bench-sleeper) until killed, and
// die with the bench.
class Sleepers {
public:
    Sleepers() = default;
    Sleepers(const Sleepers&) = delete;
    Sleepers& operator=(const Sleepers&) = delete;
    ~Sleepers() { kill_all(); }

    // Starts sleepers until there are `n`; stops at the first failure (its errno in *err).
    // Returns how many there are.
    size_t grow_to(size_t n, int* err);
    void kill_all();

    const std::vector<pid_t>& pids() const { return pids_; }
    size_t size() const { return pids_.size(); }

private:
    std::vector<pid_t> pids_;
};

} // namespace procfsd::bench
