// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace procfsd {

// FUSE operations counted per mount and in total.
enum class Op : uint8_t {
    init, lookup, forget, getattr, setattr, readlink, open, read, write, release, opendir,
    readdir, readdirplus, releasedir, statfs, access, other, count_
};
std::string_view op_name(Op op) noexcept;

// The daemon's counters. Lock-free: bumped on the request path.
struct Stats {
    std::array<std::atomic<uint64_t>, static_cast<size_t>(Op::count_)> requests{};
    std::atomic<int64_t> pidfds_held{0};    // open, wherever they are held (HeldPidfd)
    std::atomic<int64_t> pidfds_watched{0}; // of those, in the exit watcher's epoll
    std::atomic<uint64_t> exits_seen{0};
    std::atomic<uint64_t> reaps_seen{0};
    std::atomic<uint64_t> invalidations_sent{0};
    std::atomic<uint64_t> invalidations_enoent{0};
    std::atomic<uint64_t> invalidations_failed{0};
    // Entries of processes that ended while no server ran, invalidated by a restarted server.
    std::atomic<uint64_t> resume_invalidations{0};
    // Poll waits left by a previous server, woken by a restarted one to ask it again.
    std::atomic<uint64_t> resume_poll_wakeups{0};
    // Reap-to-invalidation latency, log2 buckets of microseconds: [0] < 1 µs, [i] < 2^i µs.
    std::array<std::atomic<uint64_t>, 24> reap_latency_us{};
    std::atomic<uint64_t> reap_latency_sum_us{0};

    void count(Op op) noexcept { requests[static_cast<size_t>(op)].fetch_add(1, std::memory_order_relaxed); }
    void record_reap_latency(std::chrono::steady_clock::duration d) noexcept;
};

} // namespace procfsd
