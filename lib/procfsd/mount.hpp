// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <fuse_lowlevel.h>
#include <sys/types.h>

#include <array>
#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "procfsd/handle_quota.hpp"
#include "procfsd/mount_options.hpp"
#include "procfsd/node_table.hpp"
#include "procfsd/process_registry.hpp"
#include "procfsd/stats.hpp"
#include "procfsd/unique_fd.hpp"

namespace procfsd {

class PollWatcher;

// One FUSE mount: its session, its request loop thread, its options and its inodes. Every mount
// shares the daemon's process registry, exit watcher and counters.
class Mount : public std::enable_shared_from_this<Mount> {
public:
    struct Shared {
        ProcessRegistry& registry;
        Stats& stats;
        HandleQuota& handles; // open handles of every caller, across the daemon's mounts
        bool reap_reported; // false: zombies are never cached (see ExitWatcher)
        int ended_fd;       // eventfd bumped when the loop ends without stop() (external umount)
        PollWatcher* polls = nullptr; // null: polls are answered, never notified
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
    // The session, for a transport given to mount() to feed requests to.
    [[nodiscard]] fuse_session* session() noexcept { return session_; }
    // Starts the request loop on its own thread.
    void start();
    // Detaches the mount from the tree (a lazy unmount): the first half of stop(), so that
    // the daemon can detach all of its mounts before it waits for any. Idempotent.
    void detach();
    // Detaches the mount, lets the request loop finish what is in flight until `abort_after`
    // (default: 2 s from now), then aborts the connection if something still holds it, and
    // releases every inode. Idempotent.
    void stop(std::chrono::steady_clock::time_point abort_after = {});

    // From the exit watcher only (never from a request handler): drops `name` in `parent` from
    // the kernel's dentry cache. Returns 0 or -errno; -ENOTCONN once the mount is stopping.
    int notify_inval_entry(fuse_ino_t parent, const std::string& name);
    // From the poll watcher: wakes the callers polling the open file behind `handle`.
    int notify_poll(fuse_pollhandle* handle);
    [[nodiscard]] PollWatcher* polls() noexcept { return shared_.polls; }

    [[nodiscard]] const std::string& mountpoint() const noexcept { return mountpoint_; }
    [[nodiscard]] const MountOptions& options() const noexcept { return options_; }
    [[nodiscard]] int source_fd() const noexcept { return source_.get(); }
    // On a mount with hidepid= or gid=: a procfs instance of the same pid namespace and subset
    // without them, whose root lists every process, for listings filtered per caller (see
    // fuse/readdir.cpp). -1 on other mounts.
    [[nodiscard]] int unfiltered_source_fd() const noexcept { return unfiltered_source_.get(); }
    [[nodiscard]] NodeTable& nodes() noexcept { return nodes_; }
    [[nodiscard]] ProcessRegistry& registry() noexcept { return shared_.registry; }
    [[nodiscard]] Stats& stats() noexcept { return shared_.stats; }
    // Counts a request on this mount and in the daemon's totals.
    void count(Op op) noexcept
    {
        shared_.stats.count(op);
        requests_[static_cast<size_t>(op)].fetch_add(1, std::memory_order_relaxed);
    }
    [[nodiscard]] uint64_t requests(Op op) const noexcept
    {
        return requests_[static_cast<size_t>(op)].load(std::memory_order_relaxed);
    }
    [[nodiscard]] bool reap_reported() const noexcept { return shared_.reap_reported; }
    [[nodiscard]] dev_t device() const noexcept { return device_; }
    // True once the request loop ended by itself (unmounted from outside).
    [[nodiscard]] bool ended() const noexcept { return ended_.load(); }
    // Key under which the registry files this mount's entries.
    [[nodiscard]] const void* key() const noexcept { return this; }

    // The mount owns its open files and directories, by FUSE handle id. A request holds a
    // handle's object for as long as it runs, so that a RELEASE racing with an interrupted READ
    // cannot free it under the reader; what is still open when the connection dies (no RELEASE
    // comes then) is freed with the mount. Each is charged to its caller in the daemon's
    // HandleQuota before its source is opened (charge_handle()), so that a caller that opens
    // without closing exhausts its own share (EMFILE), never the descriptors other callers need.
    [[nodiscard]] HandleQuota::Charge charge_handle(uid_t uid) { return shared_.handles.charge(uid); }
    // Returns the new handle id; the table keeps the charge until the handle goes.
    [[nodiscard]] uint64_t add_handle(std::shared_ptr<void> object, HandleQuota::Charge charge);
    [[nodiscard]] std::shared_ptr<void> handle(uint64_t id) const;
    void remove_handle(uint64_t id);

    // How long the kernel may cache a node's entry and attributes on this mount.
    [[nodiscard]] double entry_timeout(const Node& node) const noexcept;
    [[nodiscard]] double attr_timeout(const Node& node) const noexcept;

private:
    void release_all_nodes();
    [[nodiscard]] sys::Failure check_mountpoint(bool over_existing) const;
    // Logs and returns a failure to mount, with its reason.
    [[nodiscard]] sys::Failure fail(int err, const std::string& why) const;

    std::string mountpoint_;
    MountOptions options_;
    Shared shared_;
    UniqueFd source_;
    UniqueFd unfiltered_source_;
    NodeTable nodes_;
    fuse_session* session_ = nullptr;
    dev_t device_ = 0;
    std::thread loop_;
    std::atomic<bool> stopping_{false};
    bool stopped_ = false; // stop() ran to its end (the stopping thread's own)
    struct Handle {
        HandleQuota::Charge charge; // given back after the object's descriptor is closed
        std::shared_ptr<void> object;
    };
    mutable std::mutex handles_mu_; // guards handles_ and next_handle_
    std::unordered_map<uint64_t, Handle> handles_;
    uint64_t next_handle_ = 1;
    std::atomic<bool> ended_{false};
    std::array<std::atomic<uint64_t>, static_cast<size_t>(Op::count_)> requests_{};
    std::mutex notify_mu_; // guards connected_ against notifications racing with stop()
    bool connected_ = false;
};

} // namespace procfsd
