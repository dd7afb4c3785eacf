// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The server's side of keeping descriptors where its death does not close them: the keeper
// (lib/keeper.cpp) or systemd's file descriptor store, through one protocol, systemd's
// (sd_notify's FDSTORE=1/FDNAME=, then LISTEN_FDS/LISTEN_FDNAMES for the next server).

#include <map>
#include <string>
#include <vector>

#include "procfsd/unique_fd.hpp"

namespace procfsd {

class FdStore {
public:
    // Keeps descriptors where $NOTIFY_SOCKET says (the keeper's or systemd's); nowhere without it.
    FdStore();

    [[nodiscard]] bool enabled() const noexcept { return enabled_; }
    // A dup of `fd` is kept under `name` (ASCII, no ':'). `poll`: dropped by the store once the
    // descriptor reports EPOLLERR or EPOLLHUP (a FUSE connection that ended). 0 or -errno.
    int keep(const std::string& name, int fd, bool poll) const;
    // Drops every descriptor kept under `name`.
    void drop(const std::string& name) const;
    // Sends one more notification (READY=1, STOPPING=1, ...) to the same place.
    void notify(const std::string& state) const;

    // What the previous server kept, handed to this one at its start: taken once, by name.
    static std::multimap<std::string, UniqueFd> take_inherited();

private:
    bool enabled_ = false;
};

} // namespace procfsd
