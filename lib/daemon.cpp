// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/daemon.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "procfsd/descriptor_budget.hpp"

namespace procfsd {

namespace {

// The kept files' share of the raised descriptor limit (the constructor raises it later too:
// raising is idempotent).
size_t kept_share()
{
    raise_descriptor_limit();
    return descriptor_budget().kept;
}

} // namespace

Daemon::Daemon(const std::string& cgroup_root)
    : tracker_(stats_),
      handles_([] { return descriptor_budget().handles; }),
      containers_(cgroup_root.empty() ? cgroup::Layout::discover()
                                      : cgroup::Layout::unified_at(cgroup_root),
                  kept_share()),
      control_([this](const std::string& command) { return handle_command(command); })
{
    ended_.reset(::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
    raise_descriptor_limit();
}

Daemon::~Daemon() { stop(); }

sys::Failure Daemon::add_mount(const std::string& mountpoint, const MountOptions& options,
                               bool over_existing)
{
    std::lock_guard lock(mu_);
    if (mounts_.count(mountpoint)) {
        sys::Failure f{-EBUSY, fmt::format("mount {}: EBUSY (this daemon serves it already)", mountpoint)};
        spdlog::error("{}", f.reason);
        return f;
    }
    auto mount = std::make_shared<Mount>(mountpoint, options,
                                         Mount::Shared{identity_, tracker_, stats_, handles_, tracker_.reports_reap(),
                                                       ended_.get(), &polls_, nullptr, &containers_});
    if (auto f = mount->mount(nullptr, -1, over_existing))
        return f;
    if (started_)
        mount->start();
    control_.listen(mount->device());
    mounts_.emplace(mountpoint, std::move(mount));
    return {};
}

void Daemon::start()
{
    std::lock_guard lock(mu_);
    if (started_)
        return;
    started_ = true;
    tracker_.start();
    polls_.start();
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
    // Every mount detached first, then one grace period for all of them: a stop costs the
    // longest wait, not the sum of them.
    for (auto& [path, mount] : mounts) {
        control_.unlisten(mount->device());
        mount->detach();
    }
    auto abort_after = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    for (auto& [path, mount] : mounts)
        mount->stop(abort_after);
    control_.stop();
    tracker_.stop();
    polls_.stop();
}

void Daemon::manage_config(std::string path, std::vector<MountRequest> mounts)
{
    std::lock_guard lock(config_mu_);
    config_path_ = std::move(path);
    managed_ = std::move(mounts);
}

std::string Daemon::reload()
{
    std::lock_guard lock(config_mu_);
    if (config_path_.empty()) {
        spdlog::warn("reload: no config file to reload");
        return "no config file to reload (the daemon was started without --config)";
    }
    auto read = read_config_file(config_path_);
    if (auto* err = std::get_if<std::string>(&read)) {
        spdlog::error("reload: nothing changed: {}", *err);
        return "nothing changed: " + *err;
    }
    auto& wanted = std::get<ConfigFile>(read).mounts;
    auto same = [](const MountRequest& a, const MountRequest& b) {
        return a.mountpoint == b.mountpoint && a.options.to_string() == b.options.to_string();
    };
    auto listed = [&](const std::vector<MountRequest>& list, const MountRequest& r) {
        return std::any_of(list.begin(), list.end(), [&](auto& x) { return same(x, r); });
    };
    for (auto& old : managed_)
        if (!listed(wanted, old) && remove_mount(old.mountpoint) == 0)
            spdlog::info("reload: unmounted {}", old.mountpoint);
    std::vector<MountRequest> now;
    std::string failed;
    for (auto& w : wanted) {
        if (listed(managed_, w)) {
            now.push_back(w);
        } else if (auto f = add_mount(w.mountpoint, w.options); !f) {
            spdlog::info("reload: mounted {}", w.mountpoint);
            now.push_back(w);
        } else {
            failed += (failed.empty() ? "" : "; ") + f.reason;
        }
    }
    managed_ = std::move(now);
    if (!failed.empty()) {
        spdlog::error("reload: {}", failed);
        return failed;
    }
    return "";
}

sys::Failure Daemon::listen_control(const std::string& name)
{
    std::string socket = "procfsd/ctl/" + name;
    int rv = control_.listen_name(socket);
    if (rv == 0)
        return {};
    std::string why = "cannot listen there";
    if (rv == -EADDRINUSE) {
        auto pid = daemon_pid_at(socket);
        why = pid ? fmt::format("procfsd pid {} has that name; give this one another with "
                                "--control NAME",
                                *pid)
                  : "another daemon has that name";
    }
    sys::Failure f{rv, fmt::format("control socket @{}: {} ({})", socket, sys::errno_name(rv), why)};
    spdlog::error("{}", f.reason);
    return f;
}

size_t Daemon::reap_ended_mounts()
{
    uint64_t n = 0;
    [[maybe_unused]] auto r = ::read(ended_.get(), &n, sizeof n);
    std::vector<std::shared_ptr<Mount>> ended;
    {
        std::lock_guard lock(mu_);
        for (auto it = mounts_.begin(); it != mounts_.end();) {
            if (it->second->ended()) {
                ended.push_back(it->second);
                it = mounts_.erase(it);
            } else {
                ++it;
            }
        }
    }
    for (auto& m : ended) {
        spdlog::info("{} was unmounted from outside", m->mountpoint());
        control_.unlisten(m->device());
        m->stop();
    }
    return mount_count();
}

size_t Daemon::mount_count() const
{
    std::lock_guard lock(mu_);
    return mounts_.size();
}

std::map<std::string, MountOptions> Daemon::mounts() const
{
    std::lock_guard lock(mu_);
    std::map<std::string, MountOptions> out;
    for (auto& [path, mount] : mounts_)
        out.emplace(path, mount->options());
    return out;
}

std::string Daemon::list() const
{
    std::lock_guard lock(mu_);
    std::string out;
    for (auto& [path, mount] : mounts_) {
        out += fmt::format("{} {}", path, mount->options().to_string());
        // A pid namespace whose processes are all gone is served as the kernel would: an empty
        // tree, which the list says.
        if (const PidNamespace& ns = mount->pids(); ns.foreign())
            out += fmt::format(" ({}{})", ns.name(), ns.empty() ? ", no process left" : "");
        out += fmt::format(" transport={}\n", transport_name(mount->transport()));
    }
    return out;
}

std::string Daemon::handle_command(const std::string& line)
{
    auto tab = line.find('\t');
    std::string verb = line.substr(0, tab);
    std::string rest = tab == std::string::npos ? "" : line.substr(tab + 1);
    if (verb == "stats") {
        // stats [TAB format [TAB mountpoint]]
        auto sep = rest.find('\t');
        std::string format = rest.substr(0, sep);
        std::string mountpoint = sep == std::string::npos ? "" : rest.substr(sep + 1);
        return "ok\n" + (format == "openmetrics" ? render_openmetrics(metrics()) : render_text(metrics(), mountpoint));
    }
    if (verb == "list")
        return "ok\n" + list() + report();
    if (verb == "mount") {
        auto sep = rest.find('\t');
        std::string dir = rest.substr(0, sep);
        std::string opts = sep == std::string::npos ? "" : rest.substr(sep + 1);
        if (dir.empty() || dir.front() != '/')
            return "error: mount needs an absolute directory\n";
        auto parsed = parse_mount_options(opts);
        if (auto* err = std::get_if<std::string>(&parsed))
            return fmt::format("error: {}: {}\n", dir, *err);
        if (auto f = add_mount(dir, std::get<MountOptions>(parsed)))
            return fmt::format("error: {}\n", f.reason);
        return fmt::format("ok\nmounted {}\n", dir);
    }
    if (verb == "reload") {
        std::string err = reload();
        return err.empty() ? "ok\nreloaded\n" : "error: reload: " + err + "\n";
    }
    if (verb == "umount") {
        if (remove_mount(rest) < 0)
            return fmt::format("error: {} is not mounted by this daemon\n", rest);
        return fmt::format("ok\nunmounted {}\n", rest);
    }
    return fmt::format("error: unknown command '{}'\n", verb);
}

DaemonMetrics Daemon::metrics() const
{
    DaemonMetrics m;
    {
        std::lock_guard lock(mu_);
        for (auto& [path, mount] : mounts_) {
            MountMetrics mm{path, mount->options().to_string(), mount->nodes().size(), {},
                            transport_name(mount->transport()), mount->requests_via_uring(),
                            mount->requests_via_dev()};
            for (size_t i = 0; i < mm.requests.size(); ++i)
                mm.requests[i] = mount->requests(static_cast<Op>(i));
            m.mounts.push_back(std::move(mm));
        }
    }
    auto counts = tracker_.counts();
    m.daemon_pid = ::getpid();
    m.tracked_processes = counts.tasks;
    m.listed_inodes = counts.entries;
    m.pidfds = stats_.pidfds_held.load();
    m.pidfds_watched = stats_.pidfds_watched.load();
    m.exits_seen = stats_.exits_seen.load();
    m.reaps_seen = stats_.reaps_seen.load();
    m.invalidations_sent = stats_.invalidations_sent.load();
    m.invalidations_enoent = stats_.invalidations_enoent.load();
    m.invalidations_failed = stats_.invalidations_failed.load();
    m.open_files = handles_.held();
    m.container_inits = containers_.cached();
    m.resource_files_kept = containers_.kept();
    m.load_sampled = containers_.load().sampled();
    for (size_t i = 0; i < m.requests.size(); ++i)
        m.requests[i] = stats_.requests[i].load();
    for (size_t i = 0; i < m.reap_latency.size(); ++i)
        m.reap_latency[i] = stats_.reap_latency_us[i].load();
    m.reap_latency_sum_us = stats_.reap_latency_sum_us.load();
    return m;
}

std::string Daemon::report() const { return render_text(metrics()); }

} // namespace procfsd
