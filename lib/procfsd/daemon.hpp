// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "procfsd/config_file.hpp"
#include "procfsd/containers.hpp"
#include "procfsd/control_server.hpp"
#include "procfsd/fd_store.hpp"
#include "procfsd/metrics.hpp"
#include "procfsd/handle_quota.hpp"
#include "procfsd/poll_watcher.hpp"
#include "procfsd/mount.hpp"
#include "procfsd/mount_options.hpp"
#include "procfsd/process_tracker.hpp"
#include "procfsd/stats.hpp"

namespace procfsd {

// Everything one procfsd process serves: its mounts and the state they share (one process
// tracker, one set of counters). Mounts come and go at run time.
// Tests only: holds the first write to a path before or after it is applied ("after:PATH",
// "before:PATH", PATH below the source), so that a test can kill the server with it in flight
// (lib/fuse/read.cpp).
void hold_writes_for_tests(const std::string& spec);

class Daemon {
public:
    // `cgroup_root`: read cgroups as a v2 tree there instead of the machine's (the tests' fixture
    // trees); empty: the machine's mounts.
    explicit Daemon(const std::string& cgroup_root = "");
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;
    ~Daemon();

    // Mounts a new instance at `mountpoint` (over a live FUSE mount only if `over_existing`).
    // The failure says why (also logged).
    sys::Failure add_mount(const std::string& mountpoint, const MountOptions& options,
                           bool over_existing = false);
    // A restarted server: serves again the mounts whose descriptors a previous server kept
    // (FdStore::take_inherited()), each with its state. Returns how many; the others are
    // dropped from the store with the reason logged.
    size_t resume_mounts(std::multimap<std::string, UniqueFd> inherited);
    // Starts serving every mount added so far (after daemonizing: threads do not survive fork).
    void start();
    // The mounts resume_mounts() resumed, taken once: after start(), Mount::finish_resume() of
    // each, on a thread that serves no request, invalidates what died while no server ran.
    std::vector<std::shared_ptr<Mount>> take_resumed();
    // Unmounts one instance; the others keep serving. Returns 0 or -ENOENT.
    int remove_mount(const std::string& mountpoint);
    // Unmounts everything.
    void stop();

    // Every counter, read at one moment.
    [[nodiscard]] DaemonMetrics metrics() const;
    // A human-readable report of mounts and counters (for `procfsd stats` and SIGUSR1).
    [[nodiscard]] std::string report() const;
    // One line per mount: "MOUNTPOINT OPTIONS".
    [[nodiscard]] std::string list() const;
    // Answers one control-socket command line: stats, list, mount DIR\tOPTS, umount DIR.
    // The answer starts with "ok" or "error: ..." on its own line.
    std::string handle_command(const std::string& line);

    // The config file whose mounts this daemon manages (`mounts`: those it listed at start).
    void manage_config(std::string path, std::vector<MountRequest> mounts);
    // Reads the config file again and applies the difference: new entries are mounted, removed
    // ones unmounted, changed ones mounted again. A file that does not parse or validate
    // changes nothing. Returns "" or why it failed (also logged), for SIGHUP and `ctl reload`.
    std::string reload();

    // Also answer on the daemon's own control socket "procfsd/ctl/NAME" (for `procfsd ctl`).
    // Fails when another daemon has that name: two daemons must not share one.
    // `inherited`: the socket a previous server kept (clients queued on it meanwhile).
    sys::Failure listen_control(const std::string& name, UniqueFd inherited = {});

    // Readable when a mount ended by itself (unmounted from outside); then call
    // reap_ended_mounts() from the main thread.
    [[nodiscard]] int ended_fd() const noexcept { return ended_.get(); }
    // Removes mounts whose loop ended; returns how many mounts remain.
    size_t reap_ended_mounts();
    [[nodiscard]] size_t mount_count() const;
    // The mountpoints served now, with their options.
    [[nodiscard]] std::map<std::string, MountOptions> mounts() const;
    [[nodiscard]] Stats& stats() noexcept { return stats_; }

    // Why the mounts cannot be left to a next server now (empty: they can): nothing keeps their
    // connections (--keeper=none), or a mount serves over io_uring, whose requests in flight
    // the kernel does not send again.
    [[nodiscard]] std::string why_no_handover() const;
    // Ends this server at a request boundary and leaves every mount to the next one started
    // with what the keeper or the service's fd store holds (a restart): never returns.
    [[noreturn]] void hand_over_to_next_start();

private:
    // Keeps a new mount's descriptors in the store; drops them.
    void keep(const Mount& mount, int control);
    void unkeep(const Mount& mount);
    // After the answer to `ctl upgrade` went out (control thread): waits for the requests in
    // flight, asks the keeper to start `handover_to_` instead, and exits.
    void hand_over_if_asked();
    // Stops at a request boundary, tells the keeper `note` (if any) and exits.
    [[noreturn]] void end_at_boundary(const std::string& note);

    const DaemonIdentity identity_ = DaemonIdentity::capture(); // before any thread exists
    Stats stats_;
    ProcessTracker tracker_;
    PollWatcher polls_; // before the mounts: their open files detach from it
    HandleQuota handles_; // before the mounts: their open handles give their charges back
    Containers containers_; // resources=cgroup mounts' finder
    ControlServer control_;
    mutable std::mutex mu_; // guards mounts_ and started_
    std::map<std::string, std::shared_ptr<Mount>> mounts_;
    bool started_ = false;
    UniqueFd ended_; // eventfd: a mount's loop ended without stop()
    std::mutex config_mu_; // guards config_path_ and managed_ (one reload at a time)
    std::string config_path_;
    std::vector<MountRequest> managed_;
    FdStore store_;
    std::vector<std::shared_ptr<Mount>> resumed_; // until take_resumed()
    std::string handover_to_; // set by `upgrade` on the control thread, read there after the answer
};

} // namespace procfsd
