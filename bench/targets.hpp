// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// What the workloads run on: the kernel's /proc and the FUSE mounts the bench starts (procfsd
// twice, the floor, bindfs), each stopped by pid and unmounted when the bench ends.

#include "json.hpp"

#include <sys/types.h>

#include <initializer_list>
#include <map>
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

    // Opens /proc and starts the mounts (the floor lists `pids_listed` pids); false if neither
    // procfsd mount came up.
    bool start_all(size_t pids_listed);
    // A procfsd daemon serving one mount named `name` in the bench's directory, with `opts`.
    bool start_procfsd(Target& t, const std::string& name, const std::string& opts);
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
    Target native_ns;          // /proc bind-mounted in a new mount namespace: what that costs ps
    Target w6;                 // W6's fresh daemon
    std::vector<Target*> main; // native, off, inv, floor, bindfs: those up

private:
    bool start_floor(size_t pids);
    bool start_bindfs();
    bool wait_ready(Target& t);

    const Options& opt_;
    std::string dir_;
    std::string bindfs_mode_, bindfs_version_;
};

// `v` rotated by `round`: each target goes first in turn.
std::vector<Target*> rotated(const std::vector<Target*>& v, int round);

// The sum of the requests_* counters.
long long requests_total(const Counters& c);
// A counter; -1 if absent.
long long counter(const Counters& c, const std::string& key);
// "lookup=3 getattr=1": the requests counted between two readings.
std::string request_breakdown(const Counters& before, const Counters& after);
// The daemon's pid as it says (the one we started if it does not).
pid_t daemon_pid_of(const Target& t, const Counters& c);

} // namespace procfsd::bench
