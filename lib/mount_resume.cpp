// SPDX-License-Identifier: GPL-2.0-or-later
// A mount served again by a new server: its session resumed on the handed-over /dev/fuse
// descriptor, its nodes and handles restored from its state file (README, Restarts and upgrades).
#include <spdlog/spdlog.h>

#include <map>

#include "procfsd/mount.hpp"
#include "procfsd/mountinfo.hpp"

namespace procfsd {

namespace {

// Dir handles share the fh space of the saved-handles map with files: told apart by this bit.
constexpr uint64_t dir_handle_bit = 1ULL << 63;

uint64_t handle_key(RecordKind kind, uint64_t fh) { return kind == RecordKind::dir ? fh | dir_handle_bit : fh; }

} // namespace

sys::Failure Mount::resume(UniqueFd fuse, StateFile file, int pidns)
{
    state_ = std::make_unique<MountState>(std::move(file), tree_);
    if (auto f = open_sources(pidns))
        return f;
    if (auto f = make_session())
        return f;
    std::string init = state_->init();
    if (init.empty())
        return fail(EPROTO, "its first server never saw INIT: nothing to resume");
    int fd = fuse.release();
    if (fuse_session_custom_io(session_.get(), &session_custom_io(), fd) != 0) {
        ::close(fd);
        session_.reset();
        return fail(EINVAL, "libfuse refused the session's custom io");
    }
    auto& h = state_->header();
    h.incarnation += 1;
    io_.keep_init_in(state_.get());
    io_.replay(std::move(init));
    restore(state_->saved(h.incarnation));
    nodes_.persist_to(state_.get());
    if (auto top = top_mount_at(mountpoint_))
        device_ = top->device;
    {
        std::lock_guard lock(notify_mu_);
        connected_ = true;
    }
    spdlog::info("resumed {} ({}), incarnation {}: {} nodes, {} open handles", mountpoint_,
                 options_.to_string(), h.incarnation, nodes_.size() - 1, saved_handles_.size());
    return {};
}

void Mount::restore(MountState::Saved saved)
{
    // One task per (tid, identity): a pid directory and everything below it share it. A task
    // that is gone, or whose pid now names another process, is restored dead: its nodes answer
    // ENOENT, as below a reaped process, and its directories are invalidated.
    std::map<std::pair<pid_t, uint64_t>, std::shared_ptr<TrackedTask>> tasks;
    auto dead = [](pid_t tid, pid_t tgid) {
        auto t = std::make_shared<TrackedTask>();
        t->tid = tid;
        t->tgid = tgid;
        t->reaped = true;
        return t;
    };
    auto task_for = [&](const Node& n, uint64_t identity) {
        auto key = std::make_pair(n.tid, identity);
        if (auto it = tasks.find(key); it != tasks.end())
            return it->second;
        std::shared_ptr<TrackedTask> task;
        auto tracked = identity ? shared_.tracker.track(n.tid) : sys::Result<std::shared_ptr<TrackedTask>>{nullptr, -ESRCH};
        if (tracked.ok() && tracked.value->identity == identity)
            task = tracked.value;
        else {
            if (tracked.ok())
                shared_.tracker.drop_if_unused(tracked.value);
            task = dead(n.tid, n.tgid);
        }
        tasks.emplace(key, task);
        return task;
    };
    std::vector<std::shared_ptr<Node>> nodes;
    for (auto& s : saved.nodes) {
        auto& n = *s.node;
        if (is_pid_node(n.kind) && n.tid > 0)
            n.task = task_for(n, s.identity);
        if (n.task && is_listed_directory(n.kind)) {
            bool watched = !n.task->reaped.load() &&
                           shared_.tracker.add_entry(n.task, DirEntryRef{weak_from_this(), n.parent, n.name, n.ino});
            if (!watched) {
                n.task->reaped = true;
                died_meanwhile_.emplace_back(n.parent, n.name);
            }
        }
        nodes.push_back(s.node);
    }
    // Tasks tracked for nodes that all turned out dead hold no pidfd.
    for (auto& [key, task] : tasks)
        if (!task->reaped.load())
            shared_.tracker.drop_if_unused(task);
    nodes_.restore(std::move(nodes), state_->header().next_ino.load());
    std::lock_guard lock(saved_mu_);
    for (auto& h : saved.handles) {
        files_.reserve_past(h.kind == RecordKind::file ? h.fh : 0);
        dirs_.reserve_past(h.kind == RecordKind::dir ? h.fh : 0);
        saved_handles_.emplace(handle_key(h.kind, h.fh), h);
        if (h.poll_kh)
            saved_polls_.push_back(h.poll_kh);
    }
}

void Mount::finish_resume()
{
    io_.wait_replayed();
    if (transport() == Transport::io_uring)
        spdlog::warn("{}: its connection negotiated io_uring: requests that were on the previous "
                     "server's rings are not sent again (README, Restarts and upgrades)", mountpoint_);
    for (auto& [parent, name] : died_meanwhile_) {
        int rv = notify_inval_entry(parent, name);
        shared_.stats.resume_invalidations.fetch_add(1, std::memory_order_relaxed);
        if (rv < 0 && rv != -ENOENT)
            spdlog::warn("{}: invalidate {} (died while no server ran): {}", mountpoint_, name, sys::errno_name(rv));
    }
    if (!died_meanwhile_.empty())
        spdlog::info("{}: {} processes ended while no server ran: invalidated", mountpoint_, died_meanwhile_.size());
    died_meanwhile_.clear();
    // A poller the previous server was to notify sleeps on a wait this one knows nothing of:
    // woken once, it polls again (the kernel re-asks the file and sleeps on if nothing is ready),
    // now through this server, which watches the source again.
    for (uint64_t kh : saved_polls_) {
        if (int rv = wake_saved_poll(kh); rv == 0)
            shared_.stats.resume_poll_wakeups.fetch_add(1, std::memory_order_relaxed);
        else
            spdlog::warn("{}: wake poll handle {}: {}", mountpoint_, kh, sys::errno_name(rv));
    }
    saved_polls_.clear();
}

std::optional<MountState::SavedHandle> Mount::take_saved_handle(RecordKind kind, uint64_t fh)
{
    std::lock_guard lock(saved_mu_);
    auto it = saved_handles_.find(handle_key(kind, fh));
    if (it == saved_handles_.end())
        return std::nullopt;
    auto h = it->second;
    saved_handles_.erase(it);
    return h;
}

void Mount::put_back_saved_handle(const MountState::SavedHandle& h)
{
    std::lock_guard lock(saved_mu_);
    saved_handles_.emplace(handle_key(h.kind, h.fh), h);
}

} // namespace procfsd
