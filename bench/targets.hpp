// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// What the workloads run on: the kernel's /proc and the FUSE mounts the bench starts (procfsd
// twice, the floor, bindfs), each stopped by pid and unmounted when the bench ends; and a pid
// namespace of the bench's own shown twice, by the kernel's procfs instance for it and by a
// procfsd pidns= mount (W1 and W3 only).

#include "json.hpp"
#include "pid_namespace.hpp"
#include "uring_switch.hpp"

#include <optional>

#include <sys/types.h>

#include <initializer_list>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace procfsd::bench {

struct Options;

enum class Kind { native, procfsd, floor, bindfs };

struct Target {
    std::string name;
    Kind kind = Kind::native;
    std::string root;    // "/proc" or the mountpoint
    std::string control; // procfsd: its control socket name
    pid_t daemon = -1;   // the server we started (not native)
    int fd = -1;         // O_PATH of the root
    std::string device;  // MAJ:MIN of the FUSE mount
    bool up = false;
    bool measured = false; // was up for the workloads
    bool in_pidns = false; // shows the bench's pid namespace: ps and W3 read it from inside
    std::string problem;   // why it is not up

    bool is_procfsd() const { return kind == Kind::procfsd; }
};

// A procfsd daemon's counters (`procfsd ctl list`), by name.
using Counters = std::map<std::string, long long>;

class TargetSet {
public:
    explicit TargetSet(const Options& options) : opt_(options) {}
    TargetSet(const TargetSet&) = delete;
    TargetSet& operator=(const TargetSet&) = delete;
    ~TargetSet() { stop_all(); }

    // Opens /proc, starts the pid namespace of `pidns_procs` sleepers and its targets (none for
    // 0), then the mounts (the floor lists as many pids as /proc then does); false if neither
    // procfsd mount came up.
    bool start_all(size_t pidns_procs);
    // The pids /proc listed when the mounts started.
    size_t pids_listed() const { return pids_listed_; }
    // A procfsd daemon serving one mount named `name` in the bench's directory, with `opts`.
    bool start_procfsd(Target& t, const std::string& name, const std::string& opts);
    // Ends both and the namespace (before the workloads that need every pid: W4..W6).
    void stop_pidns();
    // The namespace's file and its init's pid (ours): for readers inside.
    int pidns_fd() const { return box_ ? box_->ns() : -1; }
    pid_t pidns_init() const { return box_ ? box_->init() : -1; }

    // Stops a server we started (SIGTERM, then SIGKILL, then aborting its connection) and makes
    // sure nothing stays mounted.
    void stop(Target& t);
    void stop_all();

    // Read through the daemon's control socket rather than `procfsd stats MOUNT`, whose stat()
    // of the mountpoint would itself be a FUSE request. Empty if the daemon does not answer.
    Counters counters(const Target& t) const;

    // Those of `list` that are up.
    std::vector<Target*> up(std::initializer_list<Target*> list) const;
    // The results file's "targets" and, when bindfs ran, "bindfs".
    Json json() const;
    Json bindfs_json() const;
    const std::string& dir() const { return dir_; }

    Target native, off, inv, floor, bindfs;
    // The same procfsd and floor over FUSE's io_uring rings (the bench allows it in the kernel
    // for its run: uring_), if this build and kernel have it.
    Target off_uring, floor_uring;
    Target native_ns;           // /proc bind-mounted in a new mount namespace: what that costs ps
    Target native_pidns, pidns; // the bench's pid namespace: the kernel's and procfsd's view
    Target w6;                  // W6's fresh daemon
    Target res;                 // W7's resources=cgroup daemon
    Target res_uring;           // the same on io_uring
    std::vector<Target*> main;  // native, off, inv, floor, bindfs: those up
    std::vector<Target*> pidns_pair; // native-pidns, procfsd-pidns, if both came up

private:
    bool start_floor(Target& t, const std::string& name, size_t pids, bool io_uring);
    bool start_bindfs();
    bool wait_ready(Target& t);
    // The pid namespace of `procs` sleepers and its two targets, native-pidns (the kernel's
    // instance, mounted in the bench's directory) and procfsd-pidns; false if either is not up.
    bool start_pidns(size_t procs);
    bool mount_kernel_instance(Target& t);

    const Options& opt_;
    // The kernel's switch, set before the io_uring mounts and put back after the last is
    // stopped (the destructor's stop_all() runs first).
    std::optional<support::UringSwitch> uring_;
    std::string dir_;
    std::string bindfs_mode_, bindfs_version_;
    std::unique_ptr<support::PidNamespace> box_;
    size_t box_procs_ = 0;
    size_t pids_listed_ = 0;
};

// `v` rotated by `round`: each target goes first in turn.
std::vector<Target*> rotated(const std::vector<Target*>& v, int round);
// `order` with `group` (rotated by `round`) inserted at a place that moves with `round`.
std::vector<Target*> with_group(const std::vector<Target*>& order,
                                const std::vector<Target*>& group, int round);

// The sum of the requests_* counters.
long long requests_total(const Counters& c);
// A counter; -1 if absent.
long long counter(const Counters& c, const std::string& key);
// "lookup=3 getattr=1": the requests counted between two readings.
std::string request_breakdown(const Counters& before, const Counters& after);
// The daemon's pid as it says (the one we started if it does not).
pid_t daemon_pid_of(const Target& t, const Counters& c);

} // namespace procfsd::bench
