// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/load_sampler.hpp"

#include <fmt/format.h>
#include <poll.h>

#include <vector>

namespace procfsd {

namespace {

// include/linux/sched/loadavg.h
constexpr unsigned long fshift = 11;
constexpr unsigned long fixed_1 = 1UL << fshift;
constexpr std::array<unsigned long, 3> exps{1884, 2014, 2037}; // 1, 5 and 15 min at 5 s

std::string shown(unsigned long load)
{
    unsigned long a = load + fixed_1 / 200; // rounded to 0.01, as loadavg_proc_show does
    return fmt::format("{}.{:02}", a >> fshift, ((a & (fixed_1 - 1)) * 100) >> fshift);
}

} // namespace

LoadSampler::LoadSampler()
{
    worker_.start([this] { run(); });
}

LoadSampler::Averages LoadSampler::fold(const Averages& load, unsigned active) noexcept
{
    Averages out;
    unsigned long a = static_cast<unsigned long>(active) * fixed_1;
    for (size_t i = 0; i < 3; ++i) {
        unsigned long next = load[i] * exps[i] + a * (fixed_1 - exps[i]);
        if (a >= load[i])
            next += fixed_1 - 1;
        out[i] = next / fixed_1;
    }
    return out;
}

std::optional<LoadSampler::Reading> LoadSampler::read(const std::string& dir, cgroup::Version version)
{
    // A sampled cgroup is answered from its last sample: a reader in a loop costs no count
    // (on v2 a count reads every thread's stat).
    {
        std::lock_guard lock(mu_);
        if (auto it = sampled_.find(dir); it != sampled_.end()) {
            it->second.last_read = std::chrono::steady_clock::now();
            return Reading{it->second.averages, it->second.counts};
        }
    }
    std::optional<TaskCounts> now;
    {
        std::lock_guard lock(count_mu_);
        now = counter_.count(dir, version);
    }
    if (!now)
        return std::nullopt;
    unsigned long start = static_cast<unsigned long>(now->running + now->uninterruptible) * fixed_1;
    Reading r{{start, start, start}, *now};
    bool first = false;
    {
        std::lock_guard lock(mu_);
        // Beyond the bound: the instant's count, unaveraged, and no sampling.
        if (sampled_.size() < max_sampled) {
            auto [it, added] =
                sampled_.emplace(dir, Sampled{version, r.averages, *now, std::chrono::steady_clock::now()});
            first = added && sampled_.size() == 1;
            r = Reading{it->second.averages, it->second.counts};
        }
    }
    if (first)
        worker_.wake(); // it sleeps while nothing is sampled
    return r;
}

size_t LoadSampler::sampled() const
{
    std::lock_guard lock(mu_);
    return sampled_.size();
}

void LoadSampler::run()
{
    auto next = std::chrono::steady_clock::now() + interval;
    while (!worker_.stopping()) {
        bool idle;
        {
            std::lock_guard lock(mu_);
            idle = sampled_.empty();
        }
        auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
            next - std::chrono::steady_clock::now());
        struct pollfd p{worker_.wakeup_fd(), POLLIN, 0};
        int ready = ::poll(&p, 1, idle ? -1 : static_cast<int>(std::max<long>(0, wait.count())));
        if (ready > 0) {
            worker_.drain();
            if (idle)
                next = std::chrono::steady_clock::now() + interval;
            continue;
        }
        if (ready < 0)
            continue; // EINTR
        next += interval;
        // A snapshot, counted without the lock: readers are never held behind a sample.
        std::vector<std::pair<std::string, cgroup::Version>> dirs;
        auto now = std::chrono::steady_clock::now();
        {
            std::lock_guard lock(mu_);
            std::erase_if(sampled_, [&](const auto& kv) { return now - kv.second.last_read > kept; });
            for (auto& [dir, s] : sampled_)
                dirs.emplace_back(dir, s.version);
        }
        for (auto& [dir, version] : dirs) {
            std::optional<TaskCounts> counts;
            {
                std::lock_guard lock(count_mu_);
                counts = counter_.count(dir, version);
            }
            std::lock_guard lock(mu_);
            auto it = sampled_.find(dir);
            if (it == sampled_.end())
                continue;
            if (!counts) {
                sampled_.erase(it); // the cgroup is gone
                continue;
            }
            it->second.averages = fold(it->second.averages, counts->running + counts->uninterruptible);
            it->second.counts = *counts;
        }
    }
}

std::string render_loadavg(std::string_view host, const LoadSampler::Reading& r)
{
    // The host's last field: "0.00 0.01 0.05 1/123 4567".
    auto last = host.find_last_of(' ');
    std::string_view last_pid = last == std::string_view::npos ? "0\n" : host.substr(last + 1);
    return fmt::format("{} {} {} {}/{} {}", shown(r.averages[0]), shown(r.averages[1]),
                       shown(r.averages[2]), r.now.running, r.now.total, last_pid);
}

} // namespace procfsd
