// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Pid namespaces of our own, for the pidns= tests and the benchmark's pidns targets: a
// namespace whose init runs a script, processes forked into it, and the kernel's own procfs
// instance for it (the reference a pidns= mount is compared with).

#include "procfsd/unique_fd.hpp"

#include <sys/types.h>

#include <functional>
#include <string>

namespace procfsd::support {

// The kernel's procfs instance for the pid namespace behind `nsfd`, detached (fsopen("proc") +
// fsconfig "pidns", Linux 6.18+; nothing to unmount): its root. Invalid, errno set, if the
// kernel cannot make one.
UniqueFd kernel_procfs(int nsfd);

// A process forked into a pid namespace: `pid` is its number in ours, `in_ns` there. It is
// forked by a helper of ours that joined the namespace (setns moves only the children) and that
// exits with its status once it ends; it dies with the helper, the helper with us. Both numbers
// are taken before the helper may reap it, so a process that ends at once has them too.
struct NsChild {
    pid_t helper = -1; // ours to reap; < 0 (errno set) if it could not start
    pid_t pid = -1;
    pid_t in_ns = 0;
};
// body()'s return is the process's exit status.
NsChild fork_into(int nsfd, const std::function<int()>& body);

// A pid namespace of our own whose init (pid 1 there) runs `script` with /bin/sh; with
// `parent_ns`, made below that namespace (nested). A reaper of ours unshares and forks the
// init; the destructor kills the init, which ends the namespace (the kernel kills every process
// in it), and reaps the reaper.
class PidNamespace {
public:
    explicit PidNamespace(const std::string& script, int parent_ns = -1);
    PidNamespace(const PidNamespace&) = delete;
    PidNamespace& operator=(const PidNamespace&) = delete;
    ~PidNamespace();

    // Whether it runs and has its kernel instance; if not, problem() says why.
    [[nodiscard]] bool ok() const noexcept { return kernel_.valid(); }
    [[nodiscard]] const std::string& problem() const noexcept { return problem_; }
    // The init's pid in our namespace.
    [[nodiscard]] pid_t init() const noexcept { return init_; }
    [[nodiscard]] std::string ns_path() const;
    [[nodiscard]] int ns() const noexcept { return ns_.get(); }
    // The kernel's procfs instance for it (its root, detached).
    [[nodiscard]] int kernel() const noexcept { return kernel_.get(); }

private:
    void fail(const std::string& what);

    pid_t reaper_ = -1;
    pid_t init_ = 0;
    UniqueFd ns_;
    UniqueFd kernel_;
    std::string problem_;
};

} // namespace procfsd::support
