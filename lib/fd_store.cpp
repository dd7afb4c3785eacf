// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/fd_store.hpp"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <fcntl.h>

#include <cstdlib>

#include "procfsd/sys.hpp"

namespace procfsd {

FdStore::FdStore() : enabled_(std::getenv("NOTIFY_SOCKET") != nullptr) {}

int FdStore::keep(const std::string& name, int fd, bool poll) const
{
    if (!enabled_)
        return -ENOTCONN;
    std::string msg = "FDSTORE=1\nFDNAME=" + name + (poll ? "" : "\nFDPOLL=0");
    int rv = sd_pid_notify_with_fds(0, 0, msg.c_str(), &fd, 1);
    if (rv <= 0) {
        spdlog::warn("keep descriptor {}: {}", name, rv < 0 ? std::string(sys::errno_name(rv)) : "no store");
        return rv < 0 ? rv : -ENOTCONN;
    }
    return 0;
}

void FdStore::drop(const std::string& name) const
{
    if (enabled_)
        sd_pid_notify(0, 0, ("FDSTOREREMOVE=1\nFDNAME=" + name).c_str());
}

void FdStore::notify(const std::string& state) const
{
    if (enabled_)
        sd_pid_notify(0, 0, state.c_str());
}

std::multimap<std::string, UniqueFd> FdStore::take_inherited()
{
    std::multimap<std::string, UniqueFd> out;
    char** names = nullptr;
    int n = sd_listen_fds_with_names(1, &names); // unsets LISTEN_*: children inherit none
    for (int i = 0; i < n; ++i) {
        int fd = SD_LISTEN_FDS_START + i;
        // Ours from now on, closed at exec like every other descriptor.
        ::fcntl(fd, F_SETFD, FD_CLOEXEC);
        out.emplace(names && names[i] ? names[i] : "unknown", UniqueFd(fd));
    }
    if (names) {
        for (int i = 0; i < n; ++i)
            std::free(names[i]);
        std::free(names);
    }
    return out;
}

} // namespace procfsd
