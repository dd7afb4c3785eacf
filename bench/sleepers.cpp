// SPDX-License-Identifier: GPL-2.0-or-later
#include "sleepers.hpp"

#include "emergency_stop.hpp"
#include "process_tools.hpp"

#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>

namespace procfsd::bench {

size_t Sleepers::grow_to(size_t n, int* err)
{
    pid_t parent = ::getpid();
    while (pids_.size() < n) {
        if (pids_.size() >= max_sleepers) {
            *err = EMFILE;
            break;
        }
        pid_t p = ::fork();
        if (p < 0) {
            *err = errno;
            break;
        }
        if (p == 0) {
            if (!support::tie_to_parent(parent, SIGKILL))
                ::_exit(0);
            support::close_fds_from(0);
            ::prctl(PR_SET_NAME, "bench-sleeper");
            for (;;)
                ::pause();
        }
        remember_sleeper(pids_.size(), p);
        pids_.push_back(p);
        set_sleeper_count(pids_.size());
    }
    return pids_.size();
}

void Sleepers::kill_all()
{
    for (pid_t p : pids_)
        ::kill(p, SIGKILL);
    for (size_t i = 0; i < pids_.size(); ++i) {
        while (::waitpid(pids_[i], nullptr, 0) < 0 && errno == EINTR) {
        }
        remember_sleeper(i, 0);
    }
    pids_.clear();
    set_sleeper_count(0);
}

} // namespace procfsd::bench
