// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Containers' load averages (resources=cgroup's loadavg), as the kernel's calc_global_load()
// keeps the machine's: every 5 s, the tasks running or waiting uninterruptibly, folded into
// three exponentially decaying averages in the kernel's fixed point. Only cgroups read in the
// last minute are sampled (at most max_sampled), by one thread that serves no request and that
// sleeps while there is none; LXCFS re-reads every task of every container every 5 s, read or
// not (lxcfs#407, #446, #504).

#include <array>
#include <chrono>
#include <map>
#include <mutex>
#include <optional>
#include <string>

#include "procfsd/cgroup.hpp"
#include "procfsd/task_counts.hpp"
#include "procfsd/worker.hpp"

namespace procfsd {

class LoadSampler {
public:
    LoadSampler();
    LoadSampler(const LoadSampler&) = delete;
    LoadSampler& operator=(const LoadSampler&) = delete;
    ~LoadSampler() { worker_.stop(); }

    // The kernel's fixed point (FSHIFT 11) for each average.
    using Averages = std::array<unsigned long, 3>;
    struct Reading {
        Averages averages{};
        TaskCounts now;
    };
    // The load of cgroup directory `dir` (of the hierarchy that counts tasks); sampled from now
    // on while it is read at least once a minute. A cgroup read for the first time is counted
    // then and starts its averages at that count; later reads give the last sample's (at most
    // 5 s old), so that reading costs no count. nullopt if it is gone.
    std::optional<Reading> read(const std::string& dir, cgroup::Version version);

    [[nodiscard]] size_t sampled() const;
    static constexpr size_t max_sampled = 1024;
    static constexpr std::chrono::seconds interval{5};
    static constexpr std::chrono::seconds kept{60};

    // One step of the kernel's calc_load() for the three averages, `active` tasks counted.
    static Averages fold(const Averages& load, unsigned active) noexcept;

private:
    void run();

    struct Sampled {
        cgroup::Version version;
        Averages averages{};
        TaskCounts counts; // of the last sample: what loadavg's running/total field shows
        std::chrono::steady_clock::time_point last_read;
    };
    mutable std::mutex mu_; // guards sampled_
    std::map<std::string, Sampled> sampled_;
    std::mutex count_mu_; // guards counter_ (its netlink socket)
    TaskCounter counter_;
    Worker worker_;
};

// loadavg: the three averages as the kernel prints them, running/total of the container, and
// the host's last field (the last pid of the reader's pid namespace, which the kernel gives).
std::string render_loadavg(std::string_view host, const LoadSampler::Reading& r);

} // namespace procfsd
