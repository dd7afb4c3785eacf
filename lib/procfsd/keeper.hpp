// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The keeper: a small process that holds every mount's /dev/fuse descriptor and state file
// (README, Restarts and upgrades) and runs the server as its child. It does nothing else, so
// nothing in it can crash the way a server can. When the server dies it starts it again with
// those descriptors; `procfsd ctl upgrade` makes it start another binary, and the previous one
// again if that one fails to start.
//
// It speaks systemd's protocol to its server: $NOTIFY_SOCKET names its socket, where the
// server sends READY=1, STOPPING=1 and FDSTORE=1 with descriptors (procfsd/fd_store.hpp); the
// next server finds them in LISTEN_FDS/LISTEN_FDNAMES. The same server code runs under systemd,
// whose file descriptor store then keeps them instead.

#include <sys/types.h>

#include <functional>
#include <string>
#include <vector>

namespace procfsd {

struct KeeperOptions {
    std::vector<std::string> argv; // the server's command line (the keeper's own)
    // Report to this pipe when the first server is ready (a byte 0) or failed to start (its exit
    // status), then go on in the background; -1 in the foreground.
    int ready_pipe = -1;
    // Called once the first server is ready (in the background: drop the terminal, log to syslog).
    std::function<void()> on_ready;
};

// The keeper's environment variable in its server: the keeper's pid.
constexpr const char* keeper_pid_env = "PROCFSD_KEEPER_PID";
// Set in a server started after a failed upgrade: why the new binary did not serve.
constexpr const char* upgrade_failed_env = "PROCFSD_UPGRADE_FAILED";
// A server's notification asking the keeper to start this binary in its place.
constexpr const char* handover_key = "PROCFSD_HANDOVER=";

// Runs the keeper until its server stops for good; returns the exit status.
int run_keeper(const KeeperOptions& options);

} // namespace procfsd
