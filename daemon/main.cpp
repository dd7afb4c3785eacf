// SPDX-License-Identifier: GPL-2.0-or-later
// procfsd: serves live, kernel-faithful clones of /proc over FUSE, any number of mounts in one
// daemon. This file is the executable: command line, daemonizing, signals, systemd notify.

#include <fuse_lowlevel.h>
#include <signal.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <optional>
#include <string>
#include <vector>

#include "procfsd/caller.hpp"
#include "procfsd/control_server.hpp"
#include "procfsd/daemon.hpp"
#include "procfsd/mount_options.hpp"
#include "procfsd/sys.hpp"
#include "procfsd/unique_fd.hpp"

#ifdef PROCFSD_HAVE_SYSTEMD
#include <systemd/sd-daemon.h>
#endif

namespace {

using procfsd::MountOptions;

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
    std::string dir = arg.substr(0, colon);
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

// Serves until SIGINT or SIGTERM. The signals are blocked in every thread and read here from a
// signalfd: libfuse's own handler knows one session only.
int serve(procfsd::Daemon& daemon, int signal_fd)
{
    notify_systemd("READY=1");
    for (;;) {
        signalfd_siginfo si{};
        ssize_t n = ::read(signal_fd, &si, sizeof si);
        if (n != sizeof si) {
            if (n < 0 && errno == EINTR)
                continue;
            spdlog::error("signalfd read: {}", procfsd::sys::errno_name(errno));
            break;
        }
        if (si.ssi_signo == SIGUSR1) {
            spdlog::info("counters:\n{}", daemon.report());
            continue;
        }
        spdlog::info("{}: unmounting", strsignal(static_cast<int>(si.ssi_signo)));
        break;
    }
    notify_systemd("STOPPING=1");
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

    std::string stats_mountpoint;
    auto* stats = app.add_subcommand("stats", "print the counters of the daemon serving MOUNTPOINT");
    stats->add_option("mountpoint", stats_mountpoint)->required();

    CLI11_PARSE(app, argc, argv);
    spdlog::set_level(spdlog::level::from_str(log_level));

    if (*stats)
        return procfsd::control_client(stats_mountpoint, "stats");

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
    if (requests.empty()) {
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
    daemon.start();
    return serve(daemon, signal_fd.get());
}
