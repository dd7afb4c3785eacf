// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <sys/types.h>

#include <string>

#include "procfsd/sys.hpp"
#include "procfsd/unique_fd.hpp"

namespace procfsd {

// The pid namespace a mount shows (its pidns= option), and the translation of pids between it
// and the daemon's own namespace, in which FUSE names every caller and the process tracker keys
// every task. A mount without pidns= shows the daemon's namespace: every translation is then
// the identity and costs nothing.
//
// The translations are the nsfs ioctls of Linux 6.10+ (NS_GET_PID_FROM_PIDNS and friends): one
// system call each, and no /proc read that could race with the task's exit.
class PidNamespace {
public:
    PidNamespace() = default; // the daemon's own

    // Opens and checks `path` as the kernel's procfs does for pidns=: an nsfs file of a pid
    // namespace that is the daemon's or a descendant of it. The failure names the path and why.
    static sys::Result<PidNamespace> open(const std::string& path, sys::Failure& why);

    // False for the daemon's own namespace (no pidns=).
    [[nodiscard]] bool foreign() const noexcept { return static_cast<bool>(fd_); }
    // The namespace file, for fsconfig(FSCONFIG_SET_FD, "pidns"); -1 for the daemon's own.
    [[nodiscard]] int fd() const noexcept { return fd_.get(); }
    // "pid:[4026532301]", as the namespace's links read; "" for the daemon's own.
    [[nodiscard]] const std::string& name() const noexcept { return name_; }

    // The daemon's number for the task this namespace numbers `shown`; 0 if it has none.
    [[nodiscard]] pid_t to_daemon(pid_t shown) const noexcept;
    // This namespace's number for the daemon's task `tid`, and for its thread group; 0 if the
    // task is not in this namespace (it lives in an ancestor or a sibling). In the daemon's own
    // namespace both give `tid` back: the tgid is then the caller's to know (Caller::tgid()).
    [[nodiscard]] pid_t shown_tid(pid_t tid) const noexcept;
    [[nodiscard]] pid_t shown_tgid(pid_t tid) const noexcept;
    // True once the namespace's init is gone: the kernel has killed every process in it, and
    // its tree lists none.
    [[nodiscard]] bool empty() const noexcept;

private:
    UniqueFd fd_;
    std::string name_;
};

} // namespace procfsd
