// SPDX-License-Identifier: GPL-2.0-or-later
// procfsd: serves live, kernel-faithful clones of /proc over FUSE, any number of mounts in one
// daemon. This file is the executable: command line, daemonizing, signals, systemd notify.

#include <fuse_lowlevel.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/sinks/syslog_sink.h>
#include <spdlog/spdlog.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <future>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "procfsd/caller.hpp"
#include "procfsd/config_file.hpp"
#include "procfsd/control_server.hpp"
#include "procfsd/daemon.hpp"
#include "procfsd/mount.hpp"
#include "procfsd/fd_store.hpp"
#include "procfsd/keeper.hpp"
#include "procfsd/service_job.hpp"
#include "procfsd/mount_options.hpp"
#include "procfsd/paths.hpp"
#include "procfsd/sys.hpp"
#include "procfsd/unique_fd.hpp"

#include <spdlog/sinks/systemd_sink.h>
#include <systemd/sd-daemon.h>

namespace {

constexpr const char* default_config = PROCFSD_CONFIG;

// To systemd, or to the keeper, which speaks the same protocol (lib/keeper.cpp).
void notify_systemd(const char* state) { sd_notify(0, state); }

// The keeper (lib/keeper.cpp) runs the server as its child and holds the mounts' descriptors.
// In the background, this process waits until the first server is ready (or failed), so that
// mount(8) learns of a failure, then exits with its status; the keeper goes on in a session
// of its own.
int keep_and_serve(int argc, char** argv, bool foreground, spdlog::level::level_enum level);

// Stdin, stdout and stderr to /dev/null, as a daemon has them (fuse_daemonize without its fork):
// mount(8) waits for the end of its helper's output.
void detach_stdio()
{
    procfsd::UniqueFd null(::open("/dev/null", O_RDWR | O_CLOEXEC));
    if (!null)
        return;
    for (int fd : {STDIN_FILENO, STDOUT_FILENO, STDERR_FILENO})
        ::dup2(null.get(), fd);
}

using procfsd::MountRequest;

// `ctl mount DIR -o OPTS` as the daemon receives it. The paths are resolved here, by the one who
// names them, as mount(8) resolves its own: DIR made absolute, and a pidns= file's directories
// resolved, so that `pidns=/proc/self/ns/pid` names this client's namespace (/proc/<its pid>),
// not the daemon's, and a relative one this client's directory. The client waits for the
// answer, so the process named stays alive while the daemon opens its file. Options that do
// not parse go as given: the daemon refuses them and says why.
std::string ctl_mount_command(const std::string& dir, const std::string& opts)
{
    auto parsed = procfsd::parse_mount_options(opts);
    auto* options = std::get_if<procfsd::MountOptions>(&parsed);
    std::string sent = opts;
    if (options && !options->pidns.empty()) {
        options->pidns = procfsd::absolute_path(options->pidns);
        sent = options->to_string();
    }
    return "mount\t" + procfsd::absolute_path(dir) + "\t" + sent;
}

// The config file, or nothing after saying why not on stderr.
std::optional<procfsd::ConfigFile> read_config_or_say_why(const std::string& path)
{
    auto read = procfsd::read_config_file(path);
    if (auto* err = std::get_if<std::string>(&read)) {
        std::fprintf(stderr, "procfsd: %s\n", err->c_str());
        return std::nullopt;
    }
    return std::get<procfsd::ConfigFile>(std::move(read));
}

// Whether stderr is the journal's stream (systemd sets JOURNAL_STREAM to its device:inode).
bool stderr_is_journal()
{
    const char* stream = std::getenv("JOURNAL_STREAM");
    struct stat st{};
    if (!stream || ::fstat(STDERR_FILENO, &st) != 0)
        return false;
    return fmt::format("{}:{}", st.st_dev, st.st_ino) == stream;
}

bool is_socket(const char* path)
{
    struct stat st{};
    return ::stat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

// Where the log goes: in the foreground to stderr, or to the journal with its priorities when
// stderr is the journal's. Once daemonized: to syslog, else to the journal, else to the stderr
// the daemon was started with (`kept_stderr`) when that is a terminal or a file. Never to a
// pipe: mount(8) waits for the end of its helper's output, which a daemon holding it would
// never give.
void setup_logging(bool foreground, int kept_stderr, spdlog::level::level_enum level)
{
    std::shared_ptr<spdlog::logger> logger;
    auto journal = [] {
        return std::make_shared<spdlog::logger>(
            "procfsd", std::make_shared<spdlog::sinks::systemd_sink_mt>("procfsd"));
    };
    if (stderr_is_journal())
        logger = journal();
    if (!logger && !foreground) {
        struct stat st{};
        bool stderr_kept = kept_stderr >= 0 && ::fstat(kept_stderr, &st) == 0 &&
                           (S_ISREG(st.st_mode) || ::isatty(kept_stderr));
        if (is_socket("/dev/log"))
            logger = spdlog::syslog_logger_mt("procfsd", "procfsd", LOG_PID);
        else if (is_socket("/run/systemd/journal/socket"))
            logger = journal();
        else if (stderr_kept)
            ::dup2(kept_stderr, STDERR_FILENO);
    }
    spdlog::drop_all();
    if (!logger)
        logger = spdlog::stderr_color_mt("procfsd");
    spdlog::set_default_logger(logger);
    spdlog::set_level(level);
}

// SIGHUP: the config file's difference applied (Daemon::reload), bracketed for systemd.
void reload(procfsd::Daemon& daemon)
{
    notify_systemd("RELOADING=1");
    std::string err = daemon.reload();
    if (!err.empty())
        notify_systemd(fmt::format("STATUS=reload failed: {}", err).c_str());
    else
        notify_systemd("STATUS=");
    notify_systemd("READY=1");
}

// Within systemd's TimeoutStopSec (20 s in the unit).
constexpr std::chrono::seconds stop_deadline{15};

// A stop that leaves every mount to the next server, when the service is restarted: asked by
// the keeper (SIGUSR2, lib/keeper.cpp) or, with --keeper=systemd, seen in systemd's job for
// the unit at SIGTERM. Returns only when that cannot be (then the mounts are unmounted).
void restart_keeping_mounts(procfsd::Daemon& daemon)
{
    std::string why = daemon.why_no_handover();
    if (why.empty())
        daemon.hand_over_to_next_start();
    spdlog::warn("restart: the mounts are unmounted: {}", why);
}

// Serves until SIGINT or SIGTERM, or until the last mount is unmounted from outside (unless
// `persist`). The signals are blocked in every thread and read here from a signalfd:
// libfuse's own handler knows one session only. `systemd_store`: systemd's fd store holds the
// connections (--keeper=systemd under systemd), so a SIGTERM of a restart keeps the mounts.
int serve(procfsd::Daemon& daemon, int signal_fd, bool persist, bool systemd_store)
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
            reload(daemon);
            continue;
        }
        if (si.ssi_signo == SIGUSR2) {
            restart_keeping_mounts(daemon);
        } else if (si.ssi_signo == SIGTERM && systemd_store && procfsd::systemd_restarts_unit_of(::getpid())) {
            restart_keeping_mounts(daemon);
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

int keep_and_serve(int argc, char** argv, bool foreground, spdlog::level::level_enum level)
{
    procfsd::KeeperOptions o;
    o.argv.assign(argv, argv + argc);
    if (foreground)
        return procfsd::run_keeper(o);
    int ready[2];
    if (::pipe2(ready, O_CLOEXEC) != 0) {
        std::fprintf(stderr, "procfsd: pipe: %s\n", std::string(procfsd::sys::errno_name(errno)).c_str());
        return 1;
    }
    pid_t keeper = ::fork();
    if (keeper < 0) {
        std::fprintf(stderr, "procfsd: fork: %s\n", std::string(procfsd::sys::errno_name(errno)).c_str());
        return 1;
    }
    if (keeper > 0) {
        ::close(ready[1]);
        unsigned char status = 1;
        if (::read(ready[0], &status, 1) != 1)
            status = 1; // the keeper died before it could tell
        return status;
    }
    ::close(ready[0]);
    ::setsid();
    o.ready_pipe = ready[1];
    o.on_ready = [level] {
        procfsd::UniqueFd kept_stderr(::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3));
        detach_stdio();
        setup_logging(false, kept_stderr.get(), level);
    };
    return procfsd::run_keeper(o);
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
    app.add_option("-o,--options", option_lists, "mount options for MOUNTPOINT (below)")
        ->allow_extra_args(false);
    app.footer("Mount options (-o, --mount DIR:OPTS, fstab, the config file, ctl mount -o):\n" +
               procfsd::mount_options_help() +
               "\nExit status: 0 ok, 1 a failure at run time, 2 a usage, option or config error.\n"
               "See procfsd(8) and procfsd.conf(5).");
    app.add_option("--mount", extra_mounts, "another mount, DIR[:OPTS]; may be repeated")
        ->allow_extra_args(false);
    app.add_flag("-f,--foreground", foreground, "stay in the foreground, log to stderr");
    auto* log_level_opt = app.add_option("--log-level", log_level,
                                         "trace, debug, info, warn, error, critical, off")
                              ->check(CLI::IsMember(procfsd::log_level_names()));

    std::string control_name = "default";
    bool persist = false;
    std::string config_file;
    app.add_option("--control", control_name,
                   "name of this daemon's control socket, @procfsd/ctl/NAME (for procfsd ctl)");
    app.add_flag("--persist", persist, "keep running when no mount is left (for a service)");
    bool force = false;
    app.add_flag("--force", force, "mount over a live FUSE mount (another procfsd's too)");
    std::string keeper_mode = "auto";
    app.add_option("--keeper", keeper_mode,
                   "who holds the mounts' connections so that a crash or an upgrade of the server goes "
                   "unnoticed: process (a keeper process; auto, the default), systemd (the service's "
                   "fd store), none")
        ->check(CLI::IsMember({"auto", "process", "systemd", "none"}));
    app.add_option("--config", config_file,
                   "config file listing mounts: mount = [\"DIR:OPTS\", ...]; SIGHUP re-reads it")
        ->check(CLI::ExistingFile);
    std::string cgroup_root;
    app.add_option("--cgroup-root", cgroup_root,
                   "for tests: read resources=cgroup's cgroups as a v2 tree at DIR (a fixture) "
                   "instead of the machine's")
        ->check(CLI::ExistingDirectory);
    std::string hold_write;
    app.add_option("--test-hold-write", hold_write, "for tests: hold a write in flight (WHEN:PATH)")
        ->group(""); // hidden from --help
    std::string check_config;
    app.add_option("--check-config", check_config,
                   "check a config file (syntax, keys, values, mount options) and exit: 0 or 2");

    std::string stats_mountpoint;
    std::string stats_format = "text";
    auto* stats = app.add_subcommand("stats", "print the counters of the daemon serving MOUNTPOINT");
    stats->add_option("mountpoint", stats_mountpoint)->required();
    stats->add_option("--format", stats_format, "text (default) or openmetrics")
        ->check(CLI::IsMember({"text", "openmetrics"}));

    auto* ctl = app.add_subcommand("ctl", "control a running daemon: list, mount, umount");
    ctl->require_subcommand(1);
    std::string ctl_via;
    ctl->add_option("--via", ctl_via, "reach the daemon serving this mountpoint instead");
    auto* ctl_list = ctl->add_subcommand("list", "mounts, options and counters");
    auto* ctl_reload = ctl->add_subcommand("reload", "re-read the config file and apply it");
    std::string ctl_dir, ctl_opts;
    auto* ctl_mount = ctl->add_subcommand("mount", "add a mount without a restart");
    ctl_mount->add_option("dir", ctl_dir)->required();
    ctl_mount->add_option("-o,--options", ctl_opts, "mount options");
    auto* ctl_umount = ctl->add_subcommand("umount", "remove one mount; the others keep serving");
    std::string ctl_umount_dir;
    ctl_umount->add_option("dir", ctl_umount_dir)->required();
    auto* ctl_upgrade = ctl->add_subcommand(
        "upgrade", "serve every mount from BINARY (default: this one) without a consumer noticing");
    std::string ctl_upgrade_binary;
    ctl_upgrade->add_option("binary", ctl_upgrade_binary, "the procfsd executable to serve from");

    // Exit statuses: 0 ok, 1 a failure at run time, 2 a usage or option error (CLI11 would
    // return its own 105, 106, 109...).
    try {
        app.parse(argc, argv);
    } catch (const CLI::Success& e) {
        return app.exit(e); // --help, --version
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return 2;
    }
    setup_logging(true, -1, spdlog::level::from_str(log_level));

    if (!check_config.empty()) {
        auto config = read_config_or_say_why(check_config);
        if (!config)
            return 2;
        std::printf("%s: ok, %zu mount%s\n", check_config.c_str(), config->mounts.size(),
                    config->mounts.size() == 1 ? "" : "s");
        return 0;
    }

    if (*stats)
        return procfsd::control_client(stats_mountpoint, control_name,
                                       "stats\t" + stats_format + "\t" +
                                           procfsd::absolute_path(stats_mountpoint));
    if (*ctl_upgrade) {
        std::string binary = ctl_upgrade_binary.empty() ? "" : procfsd::absolute_path(ctl_upgrade_binary);
        if (binary.empty()) {
            auto self = procfsd::sys::readlinkat(AT_FDCWD, "/proc/self/exe");
            binary = self.ok() ? self.value : "";
        }
        return procfsd::upgrade_client(control_name, binary);
    }
    if (*ctl) {
        using procfsd::absolute_path;
        std::string command = *ctl_list     ? "list"
                              : *ctl_reload ? "reload"
                              : *ctl_mount  ? ctl_mount_command(ctl_dir, ctl_opts)
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
    auto add_request = [&](const std::string& arg, const std::string& opts) {
        auto parsed = procfsd::parse_mount_arg(arg, opts);
        if (auto* err = std::get_if<std::string>(&parsed)) {
            std::fprintf(stderr, "procfsd: %s\n", err->c_str());
            return false;
        }
        requests.push_back(std::get<MountRequest>(parsed));
        return true;
    };
    if (!positional.empty() && !add_request(positional.back(), common))
        return 2;
    for (auto& m : extra_mounts)
        if (!add_request(m, ""))
            return 2;
    std::vector<MountRequest> managed; // the config file's mounts, which a reload updates
    if (!config_file.empty()) {
        auto config = read_config_or_say_why(config_file);
        if (!config)
            return 2;
        // The command line's --log-level wins over the file's.
        if (config->log_level && log_level_opt->count() == 0) {
            log_level = *config->log_level;
            spdlog::set_level(spdlog::level::from_str(log_level));
        }
        managed = config->mounts;
        requests.insert(requests.end(), managed.begin(), managed.end());
    }
    if (requests.empty() && !persist) {
        std::fprintf(stderr, "procfsd: no mountpoint given (see --help)\n");
        return 2;
    }
    // Every caller's checks are made with its credentials on a worker thread, which only root
    // may take; a daemon that could not would refuse everything to everyone.
    if (::geteuid() != 0) {
        std::fprintf(stderr, "procfsd: EPERM (procfsd must run as root: it reads on behalf of every "
                             "user, with their credentials)\n");
        return 1;
    }
    // Who holds the connections: under a keeper this process is its server; else, by default
    // (also under systemd, whose notifications the keeper passes on), it becomes the keeper and
    // starts the server; with --keeper=systemd, the service's fd store.
    const bool under_keeper = std::getenv(procfsd::keeper_pid_env) != nullptr;
    if (keeper_mode == "auto")
        keeper_mode = "process";
    if (!under_keeper && keeper_mode == "process")
        return keep_and_serve(argc, argv, foreground, spdlog::level::from_str(log_level));
    if (keeper_mode == "none")
        ::unsetenv("NOTIFY_SOCKET"); // nothing keeps descriptors; READY=1 goes nowhere
    // What a previous server kept: its mounts are served again, and the command line's and
    // config's are taken as those (a mount removed since must not come back).
    auto inherited = procfsd::FdStore::take_inherited();
    const char* incarnation = std::getenv("PROCFSD_INCARNATION");
    const bool restarted = !inherited.empty() || (incarnation && std::atoi(incarnation) > 1);

    // A stale mount of ours left by a killed daemon answers ENOTCONN; clear it and mount again.
    if (!restarted)
        for (auto& r : requests)
            procfsd::clear_stale_mount(r.mountpoint);

    // Blocked before any thread starts, so that every thread inherits the mask.
    sigset_t signals;
    sigemptyset(&signals);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGUSR1, SIGUSR2})
        sigaddset(&signals, s);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);
    procfsd::UniqueFd signal_fd(::signalfd(-1, &signals, SFD_CLOEXEC));
    ::signal(SIGPIPE, SIG_IGN);

    if (!hold_write.empty())
        procfsd::hold_writes_for_tests(hold_write);
    procfsd::Daemon daemon(cgroup_root);
    // Before mounting (and daemonizing): a name in use refuses the start where mount(8) sees it.
    procfsd::UniqueFd kept_control;
    if (auto it = inherited.find("ctl"); it != inherited.end()) {
        kept_control = std::move(it->second);
        inherited.erase(it);
    }
    if (auto f = daemon.listen_control(control_name, std::move(kept_control))) {
        std::fprintf(stderr, "procfsd: %s\n", f.reason.c_str());
        return 1;
    }
    if (restarted) {
        size_t n = daemon.resume_mounts(std::move(inherited));
        spdlog::info("server {} (incarnation {}): {} mounts resumed", ::getpid(), incarnation ? incarnation : "?", n);
        if (n == 0 && !persist) {
            spdlog::info("no mount is left to serve: exiting");
            return 0;
        }
    } else {
        for (auto& r : requests) {
            if (auto f = daemon.add_mount(r.mountpoint, r.options, force)) {
                std::fprintf(stderr, "procfsd: %s\n", f.reason.c_str());
                daemon.stop();
                return 1;
            }
        }
    }
    if (!foreground && under_keeper) {
        // The keeper went to the background already; its server only drops the terminal.
        procfsd::UniqueFd kept_stderr(::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3));
        detach_stdio();
        setup_logging(false, kept_stderr.get(), spdlog::level::from_str(log_level));
    } else if (!foreground) {
        // Mounted first, so that mount(8) learns of a failure; threads start after the fork.
        procfsd::UniqueFd kept_stderr(::fcntl(STDERR_FILENO, F_DUPFD_CLOEXEC, 3));
        if (fuse_daemonize(0) != 0) {
            daemon.stop();
            return 1;
        }
        spdlog::drop_all();
        setup_logging(false, kept_stderr.get(), spdlog::level::from_str(log_level));
    }
    if (!config_file.empty())
        daemon.manage_config(procfsd::absolute_path(config_file), managed);
    daemon.start();
    if (under_keeper) {
        // The keeper's sign that this server died (lib/keeper.cpp): a thread that never
        // touches a mount, so that it ends at once when the process is killed.
        std::promise<pid_t> tid;
        std::thread([&tid] {
            tid.set_value(static_cast<pid_t>(::gettid()));
            for (;;)
                ::pause();
        }).detach();
        notify_systemd(fmt::format("PROCFSD_SENTINEL={}", tid.get_future().get()).c_str());
    }
    // Off the main thread: an invalidation waits for its directory's lock, which a request in
    // flight may hold for as long as that request waits (one lost on an io_uring ring: forever).
    // READY=1 (serve()) follows them, within a bound.
    auto invalidated = std::make_shared<std::promise<void>>();
    auto resumed_done = invalidated->get_future();
    std::thread([resumed = daemon.take_resumed(), invalidated] {
        for (auto& m : resumed)
            m->finish_resume();
        invalidated->set_value();
    }).detach();
    if (resumed_done.wait_for(std::chrono::seconds(2)) != std::future_status::ready)
        spdlog::warn("resume: invalidations still wait after 2 s (a request in flight holds a directory)");
    return serve(daemon, signal_fd.get(), persist,
                 !under_keeper && keeper_mode == "systemd" && std::getenv("NOTIFY_SOCKET"));
}
