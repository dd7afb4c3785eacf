// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <linux/capability.h>
#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <vector>

namespace procfsd {

// The daemon's own process and credentials, captured once at start-up before any thread
// exists (DaemonIdentity::capture()): worker threads take them back after each caller's
// (CredentialScope), callers are compared with them, and the daemon's own process is judged by
// them (lib/policy.cpp). Owned by the Daemon; tests make their own.
struct DaemonIdentity {
    pid_t pid = 0;
    std::vector<gid_t> groups;
    gid_t fsgid = 0;
    gid_t egid = 0;
    __user_cap_data_struct caps[_LINUX_CAPABILITY_U32S_3]{};
    uint64_t effective = 0; // effective capabilities
    ino_t user_ns = 0;      // its user namespace's inode number

    static DaemonIdentity capture();
};

// Who sent a FUSE request: what the request header carries (fsuid, fsgid, thread id in the
// mount's pid namespace) plus what it does not carry and the kernel would use: the thread group
// (tgkill() for a group leader, else /proc/<tid>/status), supplementary groups (status) and
// effective capabilities (capget), each read on first use and only then, so that a request that
// needs none of them costs nothing.
class Caller {
public:
    Caller(uid_t fsuid, gid_t fsgid, pid_t tid, const DaemonIdentity& daemon)
        : fsuid_(fsuid), fsgid_(fsgid), tid_(tid), daemon_(&daemon)
    {
    }

    // What a caller is, told instead of read (the unit tests of lib/policy.cpp).
    struct Known {
        pid_t tgid = 0;
        std::vector<gid_t> groups;
        uint64_t capabilities = 0; // effective, in its own user namespace
        ino_t user_ns = 0;
        // The user namespace of another process (null: none known).
        ino_t (*user_ns_of)(pid_t) = nullptr;
    };
    static Caller known(uid_t fsuid, gid_t fsgid, pid_t tid, const DaemonIdentity& daemon,
                        Known facts);

    [[nodiscard]] const DaemonIdentity& daemon() const noexcept { return *daemon_; }

    [[nodiscard]] uid_t fsuid() const noexcept { return fsuid_; }
    [[nodiscard]] gid_t fsgid() const noexcept { return fsgid_; }
    // 0 when the caller has no pid in the mount's pid namespace.
    [[nodiscard]] pid_t tid() const noexcept { return tid_; }
    // The thread group (process) id; 0 when unknown (caller gone or not in our pid namespace).
    [[nodiscard]] pid_t tgid() const;
    [[nodiscard]] const std::vector<gid_t>& groups() const;
    // Effective uid and gid (status), which sysctl permissions use where files use fsuid.
    [[nodiscard]] uid_t euid() const;
    [[nodiscard]] gid_t egid() const;
    // Whether the caller lives in the daemon's user namespace (where its ids and capabilities
    // mean what they mean to the daemon).
    [[nodiscard]] bool in_daemon_user_ns() const;
    // Its user namespace's inode number; 0 when unknown (gone, or not in our pid namespace).
    [[nodiscard]] ino_t user_ns() const;
    // Whether process `pid` lives in the caller's user namespace (asked now: a process may
    // change its user namespace at any time).
    [[nodiscard]] bool shares_user_ns_with(pid_t pid) const;
    // Effective capabilities as they count against processes of the daemon's user namespace:
    // none for a caller in another user namespace, whose capabilities are relative to its own.
    [[nodiscard]] uint64_t capabilities() const;
    // Its effective capabilities as they count in its own user namespace.
    [[nodiscard]] uint64_t capabilities_in_own_user_ns() const;
    // True when the caller's fsgid or a supplementary group is `gid` (the kernel's in_group_p).
    [[nodiscard]] bool in_group(gid_t gid) const;
    // True when running the request with the daemon's own credentials gives the caller no more
    // than it has itself: fsuid 0 with every capability the daemon holds.
    [[nodiscard]] bool as_privileged_as_daemon() const;

    // access(2) without AT_EACCESS runs with the real uid and gid as fs ids and with no
    // capabilities unless the real uid is root (access_override_creds()), for the whole path
    // walk: its requests carry the real ids where the task's status shows other fs ids, and the
    // caller is judged so (see capabilities()). For FUSE_ACCESS itself the header cannot tell
    // access(2) from faccessat(AT_EACCESS) when the real and fs ids are the same; then the
    // smaller answer holds, access(2)'s.
    void judge_as_access() noexcept { access_check_ = true; }

private:
    void load() const;              // tgid and groups, from /proc/<tid>/status
    void load_capabilities() const; // effective capabilities, from capget()
    // True when the request runs under access(2)'s credentials (see judge_as_access()).
    [[nodiscard]] bool under_access_override() const;

    uid_t fsuid_;
    gid_t fsgid_;
    pid_t tid_;
    const DaemonIdentity* daemon_;
    ino_t (*user_ns_of_)(pid_t) = nullptr; // null: user_namespace_of()
    mutable bool loaded_ = false;
    mutable pid_t tgid_ = 0;
    mutable std::vector<gid_t> groups_;
    mutable uid_t euid_ = fsuid_; // until the status says otherwise
    mutable gid_t egid_ = fsgid_;
    mutable bool real_ids_ = false;   // the header's ids are the task's real ids
    mutable bool fs_ids_ = false;     // the header's ids are the task's fs ids
    mutable bool real_root_ = false;  // the real uid is 0
    bool access_check_ = false;
    mutable bool stranger_ = false; // the tid's fs ids are not the request's: see load()
    mutable bool user_ns_loaded_ = false;
    mutable ino_t user_ns_ = 0;
    mutable bool caps_loaded_ = false;
    mutable uint64_t caps_ = 0;
    mutable uint64_t raw_caps_ = 0;
};

// Runs the current thread with a caller's credentials (fsuid, fsgid, euid, egid, supplementary
// groups, effective capabilities) for as long as it lives, so that the source procfs applies
// the kernel's own access checks (mode bits, ptrace_may_access, sysctl's euid test) for that
// caller. The real and saved ids stay the daemon's. Uses raw
// system calls because they are per-thread, where glibc's setgroups() would change every thread
// of the daemon. The destructor restores the daemon's credentials on every path; a thread that
// cannot be restored must never serve again, so that aborts.
class CredentialScope {
public:
    // Scopes never nest (the inner one's end would give the rest of the outer one the daemon's
    // credentials): a nested scope aborts. `stand_in`: capabilities added to the caller's for
    // this operation. The kernel lets a task
    // do some things to itself that it may not do to others (same_thread_group() in
    // __ptrace_may_access, `p == current` for timerslack_ns, proc_fd_permission); the daemon's
    // thread is not the caller's, so it stands in with the capability that passes the same check
    // (see lib/policy.cpp). Only those the daemon holds are added.
    CredentialScope(const Caller& caller, uint64_t stand_in);
    CredentialScope(const CredentialScope&) = delete;
    CredentialScope& operator=(const CredentialScope&) = delete;
    ~CredentialScope();

    // 0, or -errno when the switch failed (then nothing is switched and the request must fail).
    [[nodiscard]] int status() const noexcept { return status_; }

private:
    const DaemonIdentity& daemon_;
    bool switched_ = false;
    int status_ = 0;
};

// The user namespace (its inode number) of thread `tid`; 0 when it cannot be told.
ino_t user_namespace_of(pid_t tid);

} // namespace procfsd
