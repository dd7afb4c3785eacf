// SPDX-License-Identifier: GPL-2.0-or-later
// procfsd: serves live, kernel-faithful clones of /proc over FUSE, any number of mounts in one
// daemon. This file is the executable: command line, daemonizing, signals, systemd notify.

#include <fuse_lowlevel.h>
#include <signal.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>
#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "procfsd/caller.hpp"
#include "procfsd/control_server.hpp"
#include "procfsd/daemon.hpp"
#include "procfsd/mount_options.hpp"
#include "procfsd/paths.hpp"
#include "procfsd/sys.hpp"
#include "procfsd/unique_fd.hpp"

#ifdef PROCFSD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace {

using procfsd::MountOptions;

constexpr const char* default_config = "/etc/procfsd/procfsd.conf";

void notify_systemd([[maybe_unused]] const char* state)
{
#ifdef PROCFSD_HAVE_SYSTEMD
    sd_notify(0, state);
#endif
}

struct MountRequest {
    std::string mountpoint;
    MountOptions options;
};

// Parses "DIR[:OPTS]" (--mount) into a mount request; returns an error line or nothing.
std::optional<std::string> parse_mount_arg(const std::string& arg, const std::string& common,
                                           std::vector<MountRequest>& out)
{
    auto colon = arg.find(':');
    std::string dir = procfsd::absolute_path(arg.substr(0, colon));
    std::string opts = common;
    if (colon != std::string::npos) {
        if (!opts.empty())
            opts += ',';
        opts += arg.substr(colon + 1);
    }
    auto parsed = procfsd::parse_mount_options(opts);
    if (auto* err = std::get_if<std::string>(&parsed))
        return fmt::format("{}: {}", dir, *err);
    out.push_back({dir, std::get<MountOptions>(parsed)});
    return std::nullopt;
}

// The mounts a config file lists (CLI11's config support: `mount = ["DIR:OPTS", ...]`).
std::optional<std::vector<MountRequest>> read_config_mounts(const std::string& path)
{
    CLI::App app;
    std::vector<std::string> mounts;
    std::string ignored;
    app.allow_config_extras(true);
    app.add_option("--mount", mounts);
    app.add_option("--log-level", ignored);
    app.set_config("--config", path, "", true);
    std::vector<std::string> args{"procfsd", "--config", path};
    std::vector<const char*> argv;
    for (auto& a : args)
        argv.push_back(a.c_str());
    try {
        app.parse(static_cast<int>(argv.size()), argv.data());
    } catch (const CLI::Error& e) {
        spdlog::error("config {}: {}", path, e.what());
        return std::nullopt;
    }
    std::vector<MountRequest> out;
    for (auto& m : mounts)
        if (auto err = parse_mount_arg(m, "", out)) {
            spdlog::error("config {}: {}", path, *err);
            return std::nullopt;
        }
    return out;
}

// SIGHUP: re-reads the config file and applies the difference to the mounts it manages:
// new ones are mounted, dropped ones unmounted, changed ones mounted again with the new options.
void reload(procfsd::Daemon& daemon, const std::string& config, std::vector<MountRequest>& managed)
{
    notify_systemd("RELOADING=1");
    auto wanted = read_config_mounts(config);
    if (!wanted) {
        notify_systemd("READY=1");
        return;
    }
    auto same = [](const MountRequest& a, const MountRequest& b) {
        return a.mountpoint == b.mountpoint && a.options.to_string() == b.options.to_string();
    };
    for (auto& old : managed) {
        bool kept = std::any_of(wanted->begin(), wanted->end(), [&](auto& w) { return same(old, w); });
        if (!kept && daemon.remove_mount(old.mountpoint) == 0)
            spdlog::info("reload: unmounted {}", old.mountpoint);
    }
    std::vector<MountRequest> now;
    for (auto& w : *wanted) {
        bool had = std::any_of(managed.begin(), managed.end(), [&](auto& m) { return same(m, w); });
        if (had || daemon.add_mount(w.mountpoint, w.options) == 0) {
            if (!had)
                spdlog::info("reload: mounted {}", w.mountpoint);
            now.push_back(w);
        }
    }
    managed = std::move(now);
    notify_systemd("READY=1");
}

// Within systemd's TimeoutStopSec (20 s in the unit).
constexpr std::chrono::seconds stop_deadline{15};

// Serves until SIGINT or SIGTERM, or until the last mount is unmounted from outside (unless
// `persist`). The signals are blocked in every thread and read here from a signalfd:
// libfuse's own handler knows one session only.
int serve(procfsd::Daemon& daemon, int signal_fd, bool persist, const std::string& config,
          std::vector<MountRequest> managed)
{
    notify_systemd("READY=1");
    for (;;) {
        struct pollfd fds[2] = {{signal_fd, POLLIN, 0}, {daemon.ended_fd(), POLLIN, 0}};
        if (::poll(fds, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            spdlog::error("poll: {}", procfsd::sys::errno_name(errno));
            break;
        }
        if (fds[1].revents & POLLIN) {
            if (daemon.reap_ended_mounts() == 0 && !persist) {
                spdlog::info("the last mount is gone: exiting");
                break;
            }
        }
        if (!(fds[0].revents & POLLIN))
            continue;
        signalfd_siginfo si{};
        if (::read(signal_fd, &si, sizeof si) != sizeof si)
            continue;
        if (si.ssi_signo == SIGUSR1) {
            spdlog::info("counters:\n{}", daemon.report());
            continue;
        }
        if (si.ssi_signo == SIGHUP) {
            if (config.empty())
                spdlog::warn("SIGHUP: no config file to reload");
            else
                reload(daemon, config, managed);
            continue;
        }
        spdlog::info("{}: unmounting", strsignal(static_cast<int>(si.ssi_signo)));
        break;
    }
    notify_systemd("STOPPING=1");
    // A daemon asked to stop must stop. Should unmounting hang (a handler that never returns, a
    // connection the kernel does not end), it exits after a bounded time: exiting closes
    // /dev/fuse, which ends every connection it held.
    std::thread([] {
        std::this_thread::sleep_for(stop_deadline);
        spdlog::critical("stopping took longer than {} s: exiting now", stop_deadline.count());
        std::_Exit(1);
    }).detach();
    daemon.stop();
    return 0;
}

} // namespace

int main(int argc, char** argv)
{
    CLI::App app{"procfsd: a live, kernel-faithful procfs over FUSE, many mounts in one daemon"};
    app.set_version_flag("--version", std::string("procfsd ") + PROCFSD_VERSION);

    std::vector<std::string> positional;
    std::vector<std::string> option_lists;
    std::vector<std::string> extra_mounts;
    bool foreground = false;
    std::string log_level = "info";
    app.add_option("args", positional, "[SOURCE] MOUNTPOINT (SOURCE as mount.fuse3 passes it)")
        ->expected(0, 2);
    app.add_option("-o,--options", option_lists,
                   "mount options: source=PATH, ro, entry_timeout=S, attr_timeout=S, ...")
        ->allow_extra_args(false);
    app.add_option("--mount", extra_mounts, "another mount, DIR[:OPTS]; may be repeated")
        ->allow_extra_args(false);
    app.add_flag("-f,--foreground", foreground, "stay in the foreground, log to stderr");
    app.add_option("--log-level", log_level, "trace, debug, info, warn, error, critical, off")
        ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "critical", "off"}));

    std::string control_name = "default";
    bool persist = false;
    std::string config_file;
    app.add_option("--control", control_name,
                   "name of this daemon's control socket, @procfsd/ctl/NAME (for procfsd ctl)");
    app.add_flag("--persist", persist, "keep running when no mount is left (for a service)");
    app.add_option("--config", config_file,
                   "config file listing mounts: mount = [\"DIR:OPTS\", ...]; SIGHUP re-reads it")
        ->check(CLI::ExistingFile);

    std::string stats_mountpoint;
    auto* stats = app.add_subcommand("stats", "print the counters of the daemon serving MOUNTPOINT");
    stats->add_option("mountpoint", stats_mountpoint)->required();

    auto* ctl = app.add_subcommand("ctl", "control a running daemon: list, mount, umount");
    ctl->require_subcommand(1);
    std::string ctl_via;
    ctl->add_option("--via", ctl_via, "reach the daemon serving this mountpoint instead");
    auto* ctl_list = ctl->add_subcommand("list", "mounts, options and counters");
    std::string ctl_dir, ctl_opts;
    auto* ctl_mount = ctl->add_subcommand("mount", "add a mount without a restart");
    ctl_mount->add_option("dir", ctl_dir)->required();
    ctl_mount->add_option("-o,--options", ctl_opts, "mount options");
    auto* ctl_umount = ctl->add_subcommand("umount", "remove one mount; the others keep serving");
    std::string ctl_umount_dir;
    ctl_umount->add_option("dir", ctl_umount_dir)->required();

    CLI11_PARSE(app, argc, argv);
    spdlog::set_level(spdlog::level::from_str(log_level));

    if (*stats)
        return procfsd::control_client(stats_mountpoint, control_name, "stats");
    if (*ctl) {
        using procfsd::absolute_path;
        std::string command = *ctl_list    ? "list"
                              : *ctl_mount ? "mount\t" + absolute_path(ctl_dir) + "\t" + ctl_opts
                                           : "umount\t" + absolute_path(ctl_umount_dir);
        return procfsd::control_client(ctl_via, control_name, command);
    }
    if (config_file.empty() && ::access(default_config, R_OK) == 0 && positional.empty() &&
        extra_mounts.empty())
        config_file = default_config;

    std::string common;
    for (auto& o : option_lists) {
        if (!common.empty())
            common += ',';
        common += o;
    }
    std::vector<MountRequest> requests;
    if (positional.size() == 2 && !positional[0].empty() && positional[0].front() == '/') {
        // mount.fuse3 passes the fstab source first; an absolute one names the source procfs.
        common = "source=" + positional[0] + (common.empty() ? "" : "," + common);
    }
    if (!positional.empty())
        if (auto err = parse_mount_arg(positional.back(), common, requests)) {
            std::fprintf(stderr, "procfsd: %s\n", err->c_str());
            return 2;
        }
    for (auto& m : extra_mounts)
        if (auto err = parse_mount_arg(m, "", requests)) {
            std::fprintf(stderr, "procfsd: %s\n", err->c_str());
            return 2;
        }
    std::vector<MountRequest> managed; // the config file's mounts, which SIGHUP updates
    if (!config_file.empty()) {
        auto from_config = read_config_mounts(config_file);
        if (!from_config) {
            std::fprintf(stderr, "procfsd: cannot use config %s\n", config_file.c_str());
            return 2;
        }
        managed = *from_config;
        requests.insert(requests.end(), managed.begin(), managed.end());
    }
    if (requests.empty() && !persist) {
        std::fprintf(stderr, "procfsd: no mountpoint given (see --help)\n");
        return 2;
    }
    // A stale mount of ours left by a killed daemon answers ENOTCONN; clear it and mount again.
    for (auto& r : requests)
        procfsd::clear_stale_mount(r.mountpoint);

    // Blocked before any thread starts, so that every thread inherits the mask.
    sigset_t signals;
    sigemptyset(&signals);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGUSR1})
        sigaddset(&signals, s);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    procfsd::UniqueFd signal_fd(::signalfd(-1, &signals, SFD_CLOEXEC));
    ::signal(SIGPIPE, SIG_IGN);

    procfsd::capture_daemon_credentials();
    procfsd::Daemon daemon;
    for (auto& r : requests) {
        if (int rv = daemon.add_mount(r.mountpoint, r.options); rv < 0) {
            std::fprintf(stderr, "procfsd: mount %s: %s\n", r.mountpoint.c_str(),
                         std::string(procfsd::sys::errno_name(rv)).c_str());
            daemon.stop();
            return 1;
        }
    }
    if (!foreground) {
        // Mounted first, so that mount(8) learns of a failure; threads start after the fork.
        if (fuse_daemonize(0) != 0) {
            daemon.stop();
            return 1;
        }
        spdlog::set_default_logger(spdlog::syslog_logger_mt("procfsd", "procfsd", LOG_PID));
        spdlog::set_level(spdlog::level::from_str(log_level));
    }
    daemon.listen_control(control_name);
    daemon.start();
    return serve(daemon, signal_fd.get(), persist, config_file, managed);
}
