// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <optional>
#include <mutex>
#include <string>
#include <vector>

#include "procfsd/unique_fd.hpp"
#include "procfsd/worker.hpp"

namespace procfsd {

// The daemon's control socket: one abstract unix socket per mount, named after the mount's
// device ("procfsd/dev/MAJ:MIN"), so that `procfsd stats MOUNTPOINT` finds the daemon serving
// any mount without touching the tree. Only root peers (SO_PEERCRED) are answered. A client
// sends one command line and reads the answer until EOF.
class ControlServer {
public:
    using Handler = std::function<std::string(const std::string& command)>;

    // `after_answer`: called on the control thread once an answer went out (an upgrade
    // hands over then).
    explicit ControlServer(Handler handler, std::function<void()> after_answer = {});
    ControlServer(const ControlServer&) = delete;
    ControlServer& operator=(const ControlServer&) = delete;
    ~ControlServer();

    void start();
    void stop();
    // Starts or stops answering for the mount with this device number; on `inherited`, the
    // listening socket a previous server kept, if given. Returns the socket, or -1.
    int listen(dev_t device, UniqueFd inherited = {});
    void unlisten(dev_t device);
    // Answers on a named abstract socket as well (the daemon's own "procfsd/ctl/NAME"), or on
    // the one a previous server kept. Returns the socket or -errno (EADDRINUSE: another daemon
    // has that name).
    int listen_name(const std::string& name, UniqueFd inherited = {});

    static std::string socket_name(dev_t device);

private:
    void run();
    void serve_client(int listener);

    Handler handler_;
    std::function<void()> after_answer_;
    UniqueFd epoll_;
    UniqueFd spare_; // given up to refuse a client when out of descriptors
    std::mutex mu_; // guards listeners_
    std::map<dev_t, UniqueFd> listeners_;
    std::vector<UniqueFd> named_;
    Worker worker_; // last: stopped before what it uses goes
};

// Client side: sends `command` to the daemon serving `mountpoint` (or, when `mountpoint` is
// empty, to the daemon whose control socket is "procfsd/ctl/<name>"), prints the answer after
// its status line. Returns the exit status: 0 when the daemon said "ok", 1 when it said why
// not or cannot be reached, 2 when the caller may not ask (not root) or named no procfsd mount.
int control_client(const std::string& mountpoint, const std::string& name, const std::string& command);

// `procfsd ctl upgrade`: asks the daemon named `name` to hand its mounts over to `binary`
// (absolute), waits for the next server and says which binary serves. 0 when `binary` does.
int upgrade_client(const std::string& name, const std::string& binary);

// The pid of the daemon answering on the abstract socket `socket`, from its stats; nothing when
// none answers there.
std::optional<pid_t> daemon_pid_at(const std::string& socket);

// Sends one command to the abstract socket `socket` and returns the whole answer ("ok\n..." or
// "error: ...\n"); nothing when no daemon answers there. `error` (if given) says why not.
std::optional<std::string> control_request(const std::string& socket, const std::string& command,
                                           int* error = nullptr);

// A mountpoint left behind by a procfsd that was killed answers ENOTCONN: detach it, so that a
// restart mounts again with no manual step. Touches only fuse.procfsd mounts.
void clear_stale_mount(const std::string& mountpoint);

} // namespace procfsd
