// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/daemon.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <vector>

namespace procfsd {

namespace {

// One pidfd per tracked process: use every descriptor the hard limit allows.
void raise_fd_limit()
{
    struct rlimit rl{};
    if (::getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        if (::setrlimit(RLIMIT_NOFILE, &rl) != 0)
            spdlog::warn("setrlimit RLIMIT_NOFILE: {}", sys::errno_name(errno));
    }
}

} // namespace

Daemon::Daemon()
    : watcher_(stats_),
      registry_([this](TrackedTask& t) { return watcher_.watch(t); },
                [this](TrackedTask& t) { watcher_.unwatch(t); }),
      control_([this](const std::string& command) {
          if (command == "stats")
              return report();
          return fmt::format("error: unknown command '{}'\n", command);
      })
{
    raise_fd_limit();
    watcher_.attach(registry_);
}

Daemon::~Daemon() { stop(); }

int Daemon::add_mount(const std::string& mountpoint, const MountOptions& options)
{
    std::lock_guard lock(mu_);
    if (mounts_.count(mountpoint)) {
        spdlog::error("mount {}: already served by this daemon", mountpoint);
        return -EBUSY;
    }
    auto mount = std::make_shared<Mount>(
        mountpoint, options, Mount::Shared{registry_, stats_, watcher_.reports_reap()});
    if (int rv = mount->mount(); rv < 0)
        return rv;
    if (started_)
        mount->start();
    control_.listen(mount->device());
    mounts_.emplace(mountpoint, std::move(mount));
    return 0;
}

void Daemon::start()
{
    std::lock_guard lock(mu_);
    if (started_)
        return;
    started_ = true;
    watcher_.start();
    control_.start();
    for (auto& [path, mount] : mounts_)
        mount->start();
}

int Daemon::remove_mount(const std::string& mountpoint)
{
    std::shared_ptr<Mount> mount;
    {
        std::lock_guard lock(mu_);
        auto it = mounts_.find(mountpoint);
        if (it == mounts_.end())
            return -ENOENT;
        mount = std::move(it->second);
        mounts_.erase(it);
    }
    control_.unlisten(mount->device());
    mount->stop();
    return 0;
}

void Daemon::stop()
{
    std::map<std::string, std::shared_ptr<Mount>> mounts;
    {
        std::lock_guard lock(mu_);
        mounts.swap(mounts_);
    }
    for (auto& [path, mount] : mounts) {
        control_.unlisten(mount->device());
        mount->stop();
    }
    control_.stop();
    watcher_.stop();
}

std::string Daemon::report() const
{
    std::string out;
    {
        std::lock_guard lock(mu_);
        for (auto& [path, mount] : mounts_)
            out += fmt::format("mount {} {} nodes={}\n", path, mount->options().to_string(),
                               const_cast<Mount&>(*mount).nodes().size());
    }
    auto counts = registry_.counts();
    out += fmt::format("tracked_processes {}\nlisted_inodes {}\npidfds {}\n", counts.tasks,
                       counts.entries, stats_.pidfds_watched.load());
    out += fmt::format("exits_seen {}\nreaps_seen {}\n", stats_.exits_seen.load(),
                       stats_.reaps_seen.load());
    out += fmt::format("invalidations_sent {}\ninvalidations_enoent {}\ninvalidations_failed {}\n",
                       stats_.invalidations_sent.load(), stats_.invalidations_enoent.load(),
                       stats_.invalidations_failed.load());
    out += fmt::format("open_files {}\n", stats_.open_files.load());
    for (size_t i = 0; i < stats_.requests.size(); ++i)
        out += fmt::format("requests_{} {}\n", op_name(static_cast<Op>(i)), stats_.requests[i].load());
    for (size_t i = 0; i < stats_.reap_latency_us.size(); ++i)
        if (auto n = stats_.reap_latency_us[i].load())
            out += fmt::format("reap_latency_us_lt_{} {}\n", 1ull << i, n);
    return out;
}

} // namespace procfsd
