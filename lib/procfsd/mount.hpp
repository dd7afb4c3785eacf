// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <fuse_lowlevel.h>
#include <sys/types.h>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "procfsd/caller.hpp"
#include "procfsd/containers.hpp"
#include "procfsd/entry.hpp"
#include "procfsd/handle_quota.hpp"
#include "procfsd/handle_table.hpp"
#include "procfsd/mount_options.hpp"
#include "procfsd/mount_state.hpp"
#include "procfsd/session_io.hpp"
#include "procfsd/link_hints.hpp"
#include "procfsd/node_table.hpp"
#include "procfsd/pid_namespace.hpp"
#include "procfsd/policy.hpp"
#include "procfsd/process_tracker.hpp"
#include "procfsd/stats.hpp"
#include "procfsd/transport.hpp"
#include "procfsd/unique_fd.hpp"

namespace procfsd {

class PollWatcher;
struct OpenFile;
struct OpenDir;

// A libfuse session, destroyed with its owner.
struct SessionDeleter {
    void operator()(fuse_session* s) const noexcept { fuse_session_destroy(s); }
};
using SessionPtr = std::unique_ptr<fuse_session, SessionDeleter>;

// One FUSE mount: its session, its request loop thread, its options and its inodes. Every mount
// shares the daemon's process tracker and counters.
class Mount : public std::enable_shared_from_this<Mount> {
public:
    struct Shared {
        const DaemonIdentity& daemon;
        ProcessTracker& tracker;
        Stats& stats;
        HandleQuota& handles; // open handles of every caller, across the daemon's mounts
        bool reap_reported; // false: zombies are never cached (see ProcessTracker)
        int ended_fd;       // eventfd bumped when the loop ends without stop() (external umount)
        PollWatcher* polls = nullptr; // null: polls are answered, never notified
        const Tree* tree = nullptr;   // null: kernel_tree(), or container_tree() (resources=cgroup)
        Containers* containers = nullptr; // null: resources=cgroup is refused
        // Keep a state file for a next server: only where something holds the descriptors for
        // one (a keeper, systemd's fd store; procfsd/fd_store.hpp).
        bool keep_state = false;
    };

    Mount(std::string mountpoint, MountOptions options, Shared shared);
    Mount(const Mount&) = delete;
    Mount& operator=(const Mount&) = delete;
    ~Mount();

    // Opens the source and mounts the session; the failure says why (also logged). Refuses a
    // mountpoint on which a live FUSE mount is on top, unless `over_existing`.
    // With `io`, nothing is mounted: the session talks to that transport on `fd` instead of
    // the kernel (the fuzz targets drive request handlers this way).
    sys::Failure mount(const fuse_custom_io* io = nullptr, int fd = -1, bool over_existing = false);
    // Serves a mount that a previous server made (lib/mount_resume.cpp): `fuse` is its /dev/fuse
    // descriptor and `state` what that server recorded, both handed over by the keeper. The
    // session resumes without INIT; nodes and handles the kernel refers to are restored, those
    // of processes that died meanwhile are invalidated once the session runs.
    // `pidns`: the pid namespace a pidns= mount shows (its path may be gone by now), else -1.
    sys::Failure resume(UniqueFd fuse, StateFile state, int pidns = -1);
    // After start(): waits for the resumed session's INIT replay, then invalidates what died
    // while no server ran. From a thread that serves no request.
    void finish_resume();
    // The mount's /dev/fuse descriptor, and its state (null for a session without a mount).
    [[nodiscard]] int fuse_fd() const noexcept { return session_ ? fuse_session_fd(session_.get()) : -1; }
    [[nodiscard]] MountState* state() const noexcept { return state_.get(); }
    [[nodiscard]] SessionIo& session_io() noexcept { return io_; }
    // Held shared by every request while it runs; exclusively by an upgrade, so that the
    // session is handed over at a request boundary (Daemon::hand_over).
    [[nodiscard]] std::shared_timed_mutex& gate() noexcept { return gate_; }
    // An open handle a previous server gave and nobody used since the restart: taken once, to
    // be opened again (fuse/serve.hpp).
    std::optional<MountState::SavedHandle> take_saved_handle(RecordKind kind, uint64_t fh);
    // One that could not be opened again: its errors repeat until its RELEASE.
    void put_back_saved_handle(const MountState::SavedHandle& h);
    [[nodiscard]] std::mutex& reopen_mu() noexcept { return reopen_mu_; }
    // The session, for a transport given to mount() to feed requests to.
    [[nodiscard]] fuse_session* session() noexcept { return session_.get(); }
    // Starts the request loop on its own thread.
    void start();
    // Detaches the mount from the tree (a lazy unmount): the first half of stop(), so that
    // the daemon can detach all of its mounts before it waits for any. Idempotent.
    void detach();
    // Detaches the mount, lets the request loop finish what is in flight until `abort_after`
    // (default: 2 s from now), then aborts the connection if something still holds it, and
    // releases every inode. Idempotent.
    void stop(std::chrono::steady_clock::time_point abort_after = {});

    // From the process tracker's thread only (never from a request handler): drops `name` in `parent` from
    // the kernel's dentry cache. Returns 0 or -errno; -ENOTCONN once the mount is stopping.
    int notify_inval_entry(fuse_ino_t parent, const std::string& name);
    // From the poll watcher: wakes the callers polling the open file behind `handle`.
    int notify_poll(fuse_pollhandle* handle);
    // A server handing over: no notification is sent any more, once the one being sent (if
    // any) returned, by `deadline`. False when one still runs then.
    bool quiesce_notifications(std::chrono::steady_clock::time_point deadline);
    // Wakes the kernel's poll wait `kh` (FUSE_NOTIFY_POLL), one a previous server had armed:
    // no fuse_pollhandle exists for it in this process. 0 or -errno.
    int wake_saved_poll(uint64_t kh);
    [[nodiscard]] PollWatcher* polls() noexcept { return shared_.polls; }
    [[nodiscard]] const DaemonIdentity& daemon() const noexcept { return shared_.daemon; }
    // The rows this mount serves its tree by.
    [[nodiscard]] const Tree& tree() const noexcept { return tree_; }
    // Whose resources its resource files show; null for the host's (resources=host).
    [[nodiscard]] const ResourceScope* resources() const noexcept
    {
        return resources_ ? &*resources_ : nullptr;
    }

    [[nodiscard]] const std::string& mountpoint() const noexcept { return mountpoint_; }
    [[nodiscard]] const MountOptions& options() const noexcept { return options_; }
    [[nodiscard]] int source_fd() const noexcept { return source_.get(); }
    // The pid namespace the mount shows (pidns=), which numbers its pid and tid directories;
    // the daemon's own without pidns=.
    [[nodiscard]] const PidNamespace& pids() const noexcept { return pidns_; }
    // On a mount with hidepid= or gid=: a procfs instance of the same pid namespace and subset
    // without them, whose root lists every process, for listings filtered per caller (see
    // fuse/readdir.cpp). -1 on other mounts.
    [[nodiscard]] int unfiltered_source_fd() const noexcept { return unfiltered_source_.get(); }
    [[nodiscard]] NodeTable& nodes() noexcept { return nodes_; }
    [[nodiscard]] LinkHints& link_hints() noexcept { return link_hints_; }
    [[nodiscard]] ProcessTracker& tracker() noexcept { return shared_.tracker; }
    [[nodiscard]] Stats& stats() noexcept { return shared_.stats; }
    // Counts a request on this mount and in the daemon's totals, and apart those that came over
    // the io_uring rings (the rest came over /dev/fuse: requests_via_dev()).
    void count(Op op, bool via_uring = false) noexcept
    {
        shared_.stats.count(op);
        requests_[static_cast<size_t>(op)].fetch_add(1, std::memory_order_relaxed);
        if (via_uring)
            via_uring_.fetch_add(1, std::memory_order_relaxed);
    }
    [[nodiscard]] uint64_t requests_via_uring() const noexcept { return via_uring_.load(std::memory_order_relaxed); }
    [[nodiscard]] uint64_t requests_via_dev() const noexcept;

    // The transport: io_uring once INIT negotiated it and libfuse started the rings, else
    // /dev/fuse. From the init handler: whether INIT negotiates io_uring; from libfuse's log
    // (lib/transport.cpp): why the rings then did not start.
    [[nodiscard]] Transport transport() const noexcept
    {
        return uring_negotiated_.load() && !uring_failed_.load() ? Transport::io_uring : Transport::dev_fuse;
    }
    [[nodiscard]] bool uring_asked() const noexcept { return uring_asked_; }
    void uring_negotiated(bool yes) noexcept;
    void uring_failed(std::string why);
    [[nodiscard]] uint64_t requests(Op op) const noexcept
    {
        return requests_[static_cast<size_t>(op)].load(std::memory_order_relaxed);
    }
    [[nodiscard]] bool reap_reported() const noexcept { return shared_.reap_reported; }
    [[nodiscard]] dev_t device() const noexcept { return device_; }
    // True once the request loop ended by itself (unmounted from outside).
    [[nodiscard]] bool ended() const noexcept { return ended_.load(); }

    // The mount's open files and directories; each charged to its caller before its source
    // is opened (charge_handle()).
    [[nodiscard]] HandleQuota::Charge charge_handle(uid_t uid) { return shared_.handles.charge(uid); }
    [[nodiscard]] HandleTable<OpenFile>& files() noexcept { return files_; }
    [[nodiscard]] HandleTable<OpenDir>& dirs() noexcept { return dirs_; }

    // How long the kernel may cache a node's entry and attributes on this mount.
    [[nodiscard]] CacheTimes cache_times(const Node& node) const noexcept
    {
        return procfsd::cache_times(options_, node, shared_.reap_reported);
    }

private:
    void release_all_nodes();
    // `handed_pidns`: a resumed pidns= mount's namespace, handed over (its path may be gone).
    [[nodiscard]] sys::Failure open_sources(int handed_pidns = -1);
    [[nodiscard]] sys::Failure make_session();
    void restore(MountState::Saved saved);
    [[nodiscard]] sys::Failure check_mountpoint(bool over_existing) const;
    // Logs and returns a failure to mount, with its reason.
    [[nodiscard]] sys::Failure fail(int err, const std::string& why) const;

    std::string mountpoint_;
    MountOptions options_;
    Shared shared_;
    const Tree& tree_;
    std::optional<ResourceScope> resources_;
    PidNamespace pidns_;
    UniqueFd source_;
    UniqueFd unfiltered_source_;
    NodeTable nodes_;
    LinkHints link_hints_;
    SessionPtr session_;
    dev_t device_ = 0;
    std::thread loop_;
    std::atomic<bool> stopping_{false};
    bool stopped_ = false; // stop() ran to its end (the stopping thread's own)
    HandleTable<OpenFile> files_;
    HandleTable<OpenDir> dirs_;
    std::atomic<bool> ended_{false};
    std::array<std::atomic<uint64_t>, static_cast<size_t>(Op::count_)> requests_{};
    std::atomic<uint64_t> via_uring_{0};
    bool uring_asked_ = false; // set before the session exists
    std::atomic<bool> uring_negotiated_{false};
    std::atomic<bool> uring_failed_{false};
    std::timed_mutex notify_mu_; // guards connected_ against notifications racing with stop()
    bool connected_ = false;
    std::unique_ptr<MountState> state_;
    SessionIo io_;
    std::shared_timed_mutex gate_;
    std::mutex saved_mu_; // guards saved_handles_
    std::unordered_map<uint64_t, MountState::SavedHandle> saved_handles_; // by fh; dirs have the top bit
    std::mutex reopen_mu_; // one reopening at a time, so that a handle is opened once
    std::vector<std::pair<fuse_ino_t, std::string>> died_meanwhile_; // (parent, name) to invalidate
    std::vector<uint64_t> saved_polls_; // poll handles a previous server had armed, to wake
};

} // namespace procfsd
