// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/mount.hpp"

#include <spdlog/spdlog.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <algorithm>
#include <chrono>
#include <fstream>
#include <future>
#include <vector>

#include "fuse/open_file.hpp"
#include "fuse/operations.hpp"
#include "procfsd/control_server.hpp"
#include "procfsd/mountinfo.hpp"
#include "procfsd/private_procfs.hpp"

namespace procfsd {

namespace {

// The daemon serving a procfsd mount, as its control socket for that mount tells.
std::string serving_daemon(dev_t device)
{
    auto pid = daemon_pid_at(ControlServer::socket_name(device));
    return pid ? fmt::format("procfsd pid {}", *pid) : "a procfsd that does not answer";
}

} // namespace

Mount::Mount(std::string mountpoint, MountOptions options, Shared shared)
    : mountpoint_(std::move(mountpoint)), options_(std::move(options)), shared_(shared),
      tree_(shared.tree                                              ? *shared.tree
            : options_.resources == MountOptions::Resources::cgroup ? container_tree()
                                                                     : kernel_tree())
{
    if (options_.resources == MountOptions::Resources::cgroup && shared.containers)
        resources_.emplace(*shared.containers, options_.resources_cgroup);
}

Mount::~Mount() { stop(); }

sys::Failure Mount::check_mountpoint(bool over_existing) const
{
    struct stat st{};
    if (::stat(mountpoint_.c_str(), &st) != 0) {
        int err = errno;
        return fail(err, err == ENOENT    ? "no such directory"
                         : err == ENOTCONN ? "a dead FUSE mount is in the way"
                         : err == EACCES   ? "not allowed to reach it"
                                           : "cannot reach it");
    }
    if (!S_ISDIR(st.st_mode))
        return fail(ENOTDIR, "not a directory");
    UniqueFd dev(::open("/dev/fuse", O_RDWR | O_CLOEXEC));
    if (!dev) {
        int err = errno;
        return fail(err, err == ENOENT ? "no /dev/fuse: is the fuse module loaded?"
                                       : "cannot open /dev/fuse: procfsd must run as root");
    }
    if (auto top = top_mount_at(mountpoint_); top && !over_existing &&
                                              top->fstype.rfind("fuse", 0) == 0) {
        // Stacking a second server would hide the first one's mount, and killing the first
        // would then leave a dead mount below ours.
        std::string who = top->fstype == "fuse.procfsd" ? "served by " + serving_daemon(top->device)
                                                         : "a " + top->fstype + " mount";
        return fail(EBUSY, fmt::format("already {}; --force mounts over it", who));
    }
    return {};
}

sys::Failure Mount::fail(int err, const std::string& why) const
{
    sys::Failure f{-err, fmt::format("mount {}: {} ({})", mountpoint_, sys::errno_name(err), why)};
    spdlog::error("{}", f.reason);
    return f;
}

sys::Failure Mount::open_sources(int handed_pidns)
{
    if (options_.resources == MountOptions::Resources::cgroup) {
        if (!resources_)
            return fail(EINVAL, "resources=cgroup: this daemon has no cgroup finder");
        if (!resources_->containers.layout().has(cgroup::Controller::memory))
            return fail(EINVAL, "resources=cgroup: no memory controller is mounted (a cgroup v1 "
                                "memory hierarchy, or cgroup2 with memory enabled)");
    }
    if (!options_.pidns.empty()) {
        if (options_.source != MountOptions{}.source)
            return fail(EINVAL, "pidns= serves the kernel's own instance for that namespace; it "
                                "cannot go with source=");
        sys::Failure why;
        auto ns = PidNamespace::open(
            handed_pidns >= 0 ? fmt::format("/proc/self/fd/{}", handed_pidns) : options_.pidns, why);
        if (!ns.ok())
            return fail(-ns.error, why.reason);
        pidns_ = std::move(ns.value);
    }
    // Per-caller options and another pid namespace need a procfs instance that applies them
    // (see private_procfs.hpp).
    bool private_instance =
        options_.hidepid != Hidepid::off || options_.gid.has_value() || pidns_.foreign();
    auto instance_failure = [&](int err) {
        return fail(-err, err == -ENOMEM && pidns_.foreign()
                              ? "cannot make its procfs instance: the pid namespace takes no new "
                                "process (its init is gone), which a kernel without procfs "
                                "pidns= (before Linux 6.18) needs"
                          : err == -EPERM && pidns_.foreign()
                              ? "cannot make its procfs instance: the daemon lacks CAP_SYS_ADMIN "
                                "over the user namespace that owns " + options_.pidns
                              : "cannot make its procfs instance");
    };
    auto src = private_instance
                   ? open_private_procfs(options_, pidns_.fd())
                   : sys::openat(AT_FDCWD, options_.source.c_str(), O_PATH | O_DIRECTORY);
    if (!src.ok())
        return private_instance ? instance_failure(src.error)
                                : fail(-src.error, "cannot open source=" + options_.source);
    source_ = std::move(src.value);
    // The source is served to every user (allow_other): only a procfs may be.
    struct statfs fs{};
    if (::fstatfs(source_.get(), &fs) != 0 || fs.f_type != PROC_SUPER_MAGIC)
        return fail(EINVAL, "source=" + options_.source + " is not a procfs");
    if (options_.hidepid != Hidepid::off || options_.gid.has_value()) {
        // The daemon's own view of the private instance is filtered too: a process the daemon
        // may not ptrace (one of an ancestor user namespace) is not listed to it, though the
        // kernel lists it to a gid= member.
        MountOptions unfiltered;
        unfiltered.subset_pid = options_.subset_pid;
        auto all = open_private_procfs(unfiltered, pidns_.fd());
        if (!all.ok())
            return instance_failure(all.error);
        unfiltered_source_ = std::move(all.value);
    }
    return {};
}

sys::Failure Mount::make_session()
{
    // The options show in `mount` through the fsname, as with other FUSE file systems; commas
    // are escaped for libfuse's option parser.
    std::string fsname = "procfsd";
    if (std::string shown = options_.to_string(false); shown != "rw") {
        fsname += ":";
        for (char c : shown) {
            if (c == ',' || c == '\\')
                fsname += '\\';
            fsname += c;
        }
    }
    // nosuid, nodev and noexec always, as /proc is mounted: whatever mount.fuse3 passes (it adds
    // dev and suid for root), a clone of /proc holds no device or program to honour.
    std::string fuse_opts = "fsname=" + fsname + ",subtype=procfsd,nosuid,nodev,noexec";
    if (::geteuid() == 0)
        fuse_opts += ",allow_other";
    if (options_.read_only)
        fuse_opts += ",ro";
    for (auto& f : options_.vfs_flags)
        if (f != "suid" && f != "dev" && f != "exec")
            fuse_opts += "," + f;
    TransportPlan transport = plan_transport(options_.io_uring, uring_support());
    if (transport.refuse)
        return fail(transport.refuse, transport.why);
    uring_asked_ = transport.ask_uring;
    std::string uring_opts = fmt::format("io_uring,io_uring_q_depth={}", options_.io_uring_depth);
    std::vector<const char*> argv{"procfsd", "-o", fuse_opts.c_str()};
    if (uring_asked_) {
        argv.push_back("-o");
        argv.push_back(uring_opts.c_str());
    }
    route_libfuse_log();
    fuse_args args = FUSE_ARGS_INIT(static_cast<int>(argv.size()), const_cast<char**>(argv.data()));
    session_.reset(fuse_session_new(&args, &procfs_operations(), sizeof(fuse_lowlevel_ops), this));
    // fuse_session_new may have copied the argument vector to add to it: that copy is ours.
    fuse_opt_free_args(&args);
    if (!session_)
        return fail(EINVAL, "libfuse refused the session options " + fuse_opts);
    return {};
}

sys::Failure Mount::mount(const fuse_custom_io* io, int fd, bool over_existing)
{
    if (!io)
        if (auto f = check_mountpoint(over_existing))
            return f;
    if (auto f = open_sources())
        return f;
    if (auto f = make_session())
        return f;
    if (io) {
        if (fuse_session_custom_io(session_.get(), io, fd) != 0) {
            session_.reset();
            return fail(EINVAL, "libfuse refused the transport");
        }
        std::lock_guard lock(notify_mu_);
        connected_ = true;
        return {};
    }
    if (fuse_session_mount(session_.get(), mountpoint_.c_str()) != 0) {
        session_.reset();
        return fail(EIO, "the kernel refused the FUSE mount (libfuse said why above)");
    }
    // Its state file, kept with its /dev/fuse descriptor by the keeper (lib/keeper.cpp), and
    // its reads and writes through SessionIo, which keeps the INIT request there.
    if (shared_.keep_state) {
        auto file = StateFile::create("procfsd-state:" + mountpoint_);
        if (!file.ok()) {
            session_.reset();
            return fail(-file.error, "cannot make its state file (memfd)");
        }
        state_ = std::make_unique<MountState>(std::move(file.value), tree_);
        state_->describe(mountpoint_, options_.to_string());
        nodes_.persist_to(state_.get());
        io_.keep_init_in(state_.get());
    }
    if (fuse_session_custom_io(session_.get(), &session_custom_io(), fuse_session_fd(session_.get())) != 0) {
        session_.reset();
        return fail(EINVAL, "libfuse refused the session's custom io");
    }
    // Not stat(): the kernel would send a request that nobody serves yet (INIT comes first).
    if (auto top = top_mount_at(mountpoint_))
        device_ = top->device;
    {
        std::lock_guard lock(notify_mu_);
        connected_ = true;
    }
    spdlog::info("mounted {} ({}){}", mountpoint_, options_.to_string(),
                 uring_asked_ ? ", asking for io_uring" : "");
    return {};
}

uint64_t Mount::requests_via_dev() const noexcept
{
    // Read first, so that the total, read after, counts every request it counted.
    uint64_t uring = requests_via_uring();
    uint64_t all = 0;
    for (auto& n : requests_)
        all += n.load(std::memory_order_relaxed);
    return all - std::min(all, uring);
}

void Mount::uring_negotiated(bool yes) noexcept
{
    uring_negotiated_ = yes;
    if (uring_asked_ && !yes)
        spdlog::warn("{}: the kernel did not offer io_uring at INIT: serving over /dev/fuse", mountpoint_);
}

void Mount::uring_failed(std::string why)
{
    uring_failed_ = true;
    spdlog::log(options_.io_uring == MountOptions::IoUring::on ? spdlog::level::err : spdlog::level::warn,
                "{}: io_uring did not start ({}): serving over /dev/fuse", mountpoint_, why);
}

void Mount::start()
{
    loop_ = std::thread([this] {
        fuse_loop_config* cfg = fuse_loop_cfg_create();
        fuse_loop_cfg_set_max_threads(cfg, 16);
        fuse_loop_cfg_set_clone_fd(cfg, 0);
        int rv = fuse_session_loop_mt(session_.get(), cfg);
        fuse_loop_cfg_destroy(cfg);
        if (rv != 0)
            spdlog::debug("request loop of {} ended with {}", mountpoint_, rv);
        if (!stopping_.load()) {
            ended_ = true;
            uint64_t one = 1;
            [[maybe_unused]] auto n = ::write(shared_.ended_fd, &one, sizeof one);
        }
    });
}

void Mount::detach()
{
    stopping_ = true;
    {
        std::lock_guard lock(notify_mu_);
        if (!connected_)
            return;
        connected_ = false;
    }
    // A lazy unmount lets the kernel finish what is in flight, then it aborts the connection,
    // which wakes every worker blocked on /dev/fuse and ends the loop. No fuse_session_exit()
    // before that: workers would drop the requests they read next, which their callers would
    // see fail with ECONNABORTED. Unmounting ourselves (not fuse_session_unmount) keeps us from
    // unmounting whatever is mounted on the path later.
    if (!ended_ && device_ && ::umount2(mountpoint_.c_str(), MNT_DETACH) != 0 && errno != EINVAL &&
        errno != ENOENT)
        spdlog::warn("umount {}: {}", mountpoint_, sys::errno_name(errno));
}

void Mount::stop(std::chrono::steady_clock::time_point abort_after)
{
    detach();
    if (stopped_ || !session_)
        return;
    stopped_ = true;
    if (abort_after == std::chrono::steady_clock::time_point{})
        abort_after = std::chrono::steady_clock::now() + std::chrono::seconds(2);
    if (loop_.joinable()) {
        auto done = std::async(std::launch::async, [this] { loop_.join(); });
        if (done.wait_until(abort_after) != std::future_status::ready && device_) {
            // Something still holds the detached mount (an open file, a cwd): abort the
            // connection so that the loop ends now; those holders get ENOTCONN.
            std::ofstream abort_file(fmt::format("/sys/fs/fuse/connections/{}/abort", minor(device_)));
            abort_file << "1";
            spdlog::info("aborted the connection of {} (still in use)", mountpoint_);
        }
        done.wait();
    }
    // The connection is dead now (the loop ends only then), so this no longer unmounts
    // anything: it closes /dev/fuse and frees what fuse_session_mount() allocated.
    fuse_session_unmount(session_.get());
    release_all_nodes();
    spdlog::info("unmounted {}", mountpoint_);
}

void Mount::release_all_nodes()
{
    // No RELEASE comes for files still open when the connection died.
    files_.clear();
    dirs_.clear();
    // At unmount the kernel's lookup counts drop to zero without FORGETs.
    shared_.tracker.remove_mount(weak_from_this());
    nodes_.clear();
}

int Mount::notify_inval_entry(fuse_ino_t parent, const std::string& name)
{
    // A resumed session knows its protocol only once INIT is replayed (libfuse refuses every
    // notification before: ENOSYS); the replay is the loop's first read.
    io_.wait_replayed();
    std::lock_guard lock(notify_mu_);
    if (!connected_ || !session_)
        return -ENOTCONN;
    return fuse_lowlevel_notify_inval_entry(session_.get(), parent, name.data(), name.size());
}

bool Mount::quiesce_notifications(std::chrono::steady_clock::time_point deadline)
{
    std::unique_lock lock(notify_mu_, std::defer_lock);
    if (!lock.try_lock_until(deadline))
        return false;
    connected_ = false;
    return true;
}

int Mount::wake_saved_poll(uint64_t kh)
{
    std::lock_guard lock(notify_mu_);
    if (!connected_ || !session_)
        return -ENOTCONN;
    return notify_poll_wakeup(fuse_session_fd(session_.get()), kh);
}

int Mount::notify_poll(fuse_pollhandle* handle)
{
    std::lock_guard lock(notify_mu_);
    if (!connected_ || !session_)
        return -ENOTCONN;
    return fuse_lowlevel_notify_poll(handle);
}

} // namespace procfsd
