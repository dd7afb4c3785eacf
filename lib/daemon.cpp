// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/daemon.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/eventfd.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <chrono>
#include <utility>
#include <vector>

#include "procfsd/descriptor_budget.hpp"
#include "procfsd/keeper.hpp"

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
      control_([this](const std::string& command) { return handle_command(command); },
               [this] { hand_over_if_asked(); })
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
                                                       ended_.get(), &polls_, nullptr, &containers_, store_.enabled()});
    if (auto f = mount->mount(nullptr, -1, over_existing))
        return f;
    if (started_)
        mount->start();
    keep(*mount, control_.listen(mount->device()));
    mounts_.emplace(mountpoint, std::move(mount));
    return {};
}

namespace {

// The names a mount's descriptors are kept under: its connection's number, unique among live
// FUSE connections, then what each holds.
std::string kept_name(dev_t device, const char* what)
{
    return fmt::format("m{}-{}", minor(device), what);
}

// What a mount keeps: its connection, its state file, its pid namespace (pidns=) and its
// control socket.
constexpr const char* kept_kinds[] = {"fuse", "state", "pidns", "ctl"};

} // namespace

void Daemon::keep(const Mount& mount, int control)
{
    if (!store_.enabled() || !mount.device())
        return;
    store_.keep(kept_name(mount.device(), "fuse"), mount.fuse_fd(), true);
    if (control >= 0)
        store_.keep(kept_name(mount.device(), "ctl"), control, false);
    if (auto* state = mount.state())
        store_.keep(kept_name(mount.device(), "state"), state->file().fd(), false);
    if (mount.pids().foreign())
        store_.keep(kept_name(mount.device(), "pidns"), mount.pids().fd(), false);
}

void Daemon::unkeep(const Mount& mount)
{
    if (!store_.enabled() || !mount.device())
        return;
    for (const char* what : kept_kinds)
        store_.drop(kept_name(mount.device(), what));
}

size_t Daemon::resume_mounts(std::multimap<std::string, UniqueFd> inherited)
{
    // By connection: m<N>-fuse, m<N>-state and, for pidns=, m<N>-pidns.
    struct Handed {
        UniqueFd fuse, state, pidns, ctl;
    };
    std::map<std::string, Handed> by_mount;
    for (auto& [name, fd] : inherited) {
        auto dash = name.rfind('-');
        if (name.empty() || name[0] != 'm' || dash == std::string::npos) {
            spdlog::warn("resume: an unknown descriptor {} was handed over: closed", name);
            store_.drop(name);
            continue;
        }
        std::string what = name.substr(dash + 1);
        auto& h = by_mount[name.substr(0, dash)];
        (what == "fuse" ? h.fuse : what == "state" ? h.state : what == "ctl" ? h.ctl : h.pidns) = std::move(fd);
    }
    size_t resumed = 0;
    for (auto& entry : by_mount) {
        const std::string& key = entry.first; // a plain name: lambdas cannot capture bindings in C++20
        Handed& h = entry.second;
        auto drop_all = [&] {
            for (const char* what : kept_kinds)
                store_.drop(key + "-" + what);
        };
        if (!h.fuse || !h.state) {
            // The store drops a FUSE descriptor whose connection ended (an unmount while no
            // server ran): the rest of it goes too.
            spdlog::info("resume: {}: its connection ended while no server ran", key);
            drop_all();
            continue;
        }
        auto file = StateFile::adopt(std::move(h.state));
        if (!file.ok()) {
            spdlog::error("resume: {}: its state file is not one: {}", key, sys::errno_name(file.error));
            drop_all();
            continue;
        }
        std::string mountpoint = file.value.header().mountpoint;
        auto parsed = parse_mount_options(file.value.header().options);
        if (auto* err = std::get_if<std::string>(&parsed)) {
            spdlog::error("resume: {}: its options do not parse: {}", mountpoint, *err);
            drop_all();
            continue;
        }
        std::lock_guard lock(mu_);
        auto mount = std::make_shared<Mount>(mountpoint, std::get<MountOptions>(parsed),
                                             Mount::Shared{identity_, tracker_, stats_, handles_, tracker_.reports_reap(),
                                                           ended_.get(), &polls_, nullptr, &containers_, store_.enabled()});
        if (auto f = mount->resume(std::move(h.fuse), std::move(file.value), h.pidns.get())) {
            spdlog::error("resume: {}", f.reason);
            drop_all();
            continue;
        }
        control_.listen(mount->device(), std::move(h.ctl));
        resumed_.push_back(mount);
        mounts_.emplace(mountpoint, std::move(mount));
        ++resumed;
    }
    return resumed;
}

std::vector<std::shared_ptr<Mount>> Daemon::take_resumed()
{
    std::lock_guard lock(mu_);
    return std::exchange(resumed_, {});
}

void Daemon::hand_over_if_asked()
{
    if (handover_to_.empty())
        return;
    spdlog::info("upgrade: handing over to {}", handover_to_);
    end_at_boundary(std::string(handover_key) + handover_to_);
}

std::string Daemon::why_no_handover() const
{
    if (!store_.enabled())
        return "nothing keeps its connections (--keeper=none)";
    std::lock_guard lock(mu_);
    for (auto& [path, m] : mounts_)
        if (m->transport() == Transport::io_uring)
            return fmt::format("{} serves over io_uring, whose requests in flight the kernel does not send "
                               "again to a next server; mount it with io_uring=off to keep it across restarts",
                               path);
    return {};
}

void Daemon::hand_over_to_next_start()
{
    spdlog::info("restart: leaving every mount to the next server");
    end_at_boundary({});
}

void Daemon::end_at_boundary(const std::string& note)
{
    std::vector<std::shared_ptr<Mount>> mounts;
    {
        std::lock_guard lock(mu_);
        for (auto& [path, m] : mounts_)
            mounts.push_back(m);
    }
    // A request boundary, in three steps; nothing is unmounted, the keeper (or the service's
    // fd store) holds every connection. First no invalidation is sent any more: one waits for
    // its directory's lock, which a lookup in flight holds, and a thread of this process left
    // waiting there could not end until a next server answered that lookup (the next server
    // invalidates what ended meanwhile). Then no thread reads another request (none may be
    // inside the kernel's read when this process ends: session_io.hpp). Then the requests read
    // already finish (one stuck for 2 s is left to the resend, FUSE_NOTIFY_RESEND).
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    for (auto& m : mounts)
        if (!m->quiesce_notifications(deadline))
            spdlog::warn("{}: an invalidation still waits after 2 s", m->mountpoint());
    std::vector<SessionIo*> ios;
    for (auto& m : mounts)
        ios.push_back(&m->session_io());
    if (!park_readers(ios, std::chrono::steady_clock::now() + std::chrono::seconds(2)))
        spdlog::warn("a thread still reads /dev/fuse after 2 s: the request it reads may end with EIO");
    std::vector<std::unique_lock<std::shared_timed_mutex>> held;
    for (auto& m : mounts) {
        std::unique_lock lock(m->gate(), std::defer_lock);
        if (!lock.try_lock_for(std::chrono::seconds(2)))
            spdlog::warn("{}: a request still runs after 2 s; it will be sent again", m->mountpoint());
        held.push_back(std::move(lock));
    }
    if (!note.empty())
        store_.notify(note);
    ::_exit(0);
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
    unkeep(*mount);
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
        unkeep(*mount); // no next server: the connection ends with this one
        mount->detach();
    }
    auto abort_after = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    for (auto& [path, mount] : mounts)
        mount->stop(abort_after);
    control_.stop();
    store_.drop("ctl");
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

sys::Failure Daemon::listen_control(const std::string& name, UniqueFd inherited)
{
    std::string socket = "procfsd/ctl/" + name;
    bool fresh = !inherited;
    int rv = control_.listen_name(socket, std::move(inherited));
    if (rv >= 0) {
        if (fresh)
            store_.keep("ctl", rv, false);
        return {};
    }
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
        unkeep(*m);
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
    if (verb == "upgrade") {
        if (!std::getenv(keeper_pid_env))
            return "error: upgrade: EOPNOTSUPP (no keeper serves this daemon: it runs with --keeper=none "
                   "or under systemd, whose `systemctl restart procfsd` is the upgrade)\n";
        if (std::string why = why_no_handover(); !why.empty())
            return fmt::format("error: upgrade: EOPNOTSUPP ({})\n", why);
        if (rest.empty() || rest.front() != '/' || ::access(rest.c_str(), X_OK) != 0)
            return fmt::format("error: upgrade: {}: {} (not an executable file)\n", rest,
                               sys::errno_name(rest.empty() || rest.front() != '/' ? EINVAL : errno));
        handover_to_ = rest;
        return fmt::format("ok\npid {} hands over to {}\n", ::getpid(), rest);
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
            mm.requests_resent = mount->session_io().resent();
            if (auto* state = mount->state())
                mm.state_records = state->file().slots_in_use();
            m.mounts.push_back(std::move(mm));
        }
    }
    auto counts = tracker_.counts();
    m.daemon_pid = ::getpid();
    if (const char* keeper = std::getenv(keeper_pid_env))
        m.keeper_pid = std::atoi(keeper);
    if (const char* inc = std::getenv("PROCFSD_INCARNATION"))
        m.incarnation = std::strtoull(inc, nullptr, 10);
    if (const char* failed = std::getenv(upgrade_failed_env))
        m.upgrade_failed = failed;
    m.tracked_processes = counts.tasks;
    m.listed_inodes = counts.entries;
    m.pidfds = stats_.pidfds_held.load();
    m.pidfds_watched = stats_.pidfds_watched.load();
    m.exits_seen = stats_.exits_seen.load();
    m.reaps_seen = stats_.reaps_seen.load();
    m.invalidations_sent = stats_.invalidations_sent.load();
    m.invalidations_enoent = stats_.invalidations_enoent.load();
    m.invalidations_failed = stats_.invalidations_failed.load();
    m.resume_invalidations = stats_.resume_invalidations.load();
    m.resume_poll_wakeups = stats_.resume_poll_wakeups.load();
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
