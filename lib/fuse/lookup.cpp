// SPDX-License-Identifier: GPL-2.0-or-later
#include <spdlog/spdlog.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <string_view>

#include "fuse/attributes.hpp"
#include "fuse/link_target.hpp"
#include "fuse/lookup.hpp"
#include "fuse/operations.hpp"
#include "fuse/serve.hpp"
#include "fuse/source.hpp"
#include "procfsd/entry.hpp"
#include "procfsd/pid_name.hpp"
#include "procfsd/sys.hpp"

namespace procfsd::fuse_op {

namespace {

// What a name in a directory is, before any node exists for it.
struct ChildSpec {
    NodeKind kind = NodeKind::proc_entry;
    const Entry* entry = nullptr;
    bool entry_itself = false;
    Lifetime lifetime = Lifetime::short_;
    pid_t track_tid = 0; // a pid or tid directory: the task to track
};

ChildSpec row(const Entry& e) { return {e.kind, &e, true, e.lifetime, 0}; }

// Per parent kind, what a child name means (the mount's tables say, as the kernel's
// proc_root_lookup and proc_pident_lookup do); ENOENT for names that cannot exist there.
int classify(const Mount& mount, const Node& dir, std::string_view name, ChildSpec& out)
{
    const Tree& tree = mount.tree();
    switch (dir.kind) {
    case NodeKind::root:
        if (auto pid = parse_pid_name(name)) {
            out = {NodeKind::pid_dir, nullptr, false, Lifetime::process, *pid};
            return 0;
        }
        out = row(tree.root.find(name));
        // subset=pid: everything that is not a process is hidden (the kernel's proc_lookup).
        if (mount.options().subset_pid && out.kind == NodeKind::proc_entry)
            return -ENOENT;
        return 0;
    case NodeKind::pid_dir:
    case NodeKind::tid_dir:
        // task/ exists only in a thread group's directory; the source decides that too.
        out = row(tree.table_below(dir.kind)->find(name));
        return 0;
    case NodeKind::task_dir:
        if (auto tid = parse_pid_name(name)) {
            out = {NodeKind::tid_dir, nullptr, false, Lifetime::process, *tid};
            return 0;
        }
        return -ENOENT;
    case NodeKind::pid_entry:
    case NodeKind::proc_entry:
        out = {dir.kind, dir.entry, false, dir.entry ? dir.entry->children : Lifetime::short_, 0};
        return 0;
    case NodeKind::self_link:
    case NodeKind::thread_self:
        return -ENOTDIR;
    }
    return -ENOENT;
}

// The directory's mode now. Root may chmod the entries of a procfs directory (proc_notify_change)
// and those below a pid's net/, after their node was made; pid directories, task/ and the root
// keep theirs.
mode_t current_mode(const Request& r, const Node& dir)
{
    if (dir.kind != NodeKind::proc_entry && dir.kind != NodeKind::pid_entry)
        return dir.mode;
    struct stat st{};
    if (source::stat_as_daemon(r, dir, &st) < 0)
        return 0; // gone or unreachable: search it as the caller
    return st.st_mode;
}

// On a mount whose answers depend on the caller: whether the caller may see the pid or tid
// directory `path`, asked of the source as the caller before the task is tracked, so that a
// hidden process costs what a missing one does and timing tells no hidden pid from a missing one
// (tracking and the checks that need a task follow only for visible ones). The caller's own
// process is left to the full lookup, whose worker stands in for the kernel's own-process rule.
int visible_before_tracking(const Request& r, pid_t tid, const std::string& path)
{
    if (r.mount.options().caller_independent() || r.caller.as_privileged_as_daemon())
        return 0;
    if (pid_t tgid = r.caller.tgid(); tgid > 0 && ::syscall(SYS_tgkill, tgid, tid, 0) == 0)
        return 0; // one of the caller's own threads
    Node probe;
    probe.path = path;
    Plan plan;
    plan.as_caller = true;
    struct stat st{};
    return source::stat(r, plan, probe, &st);
}

// The task a pid or tid directory tracks; null, and zero timeouts, when the daemon is out of
// pidfds: such processes are served untracked and uncached rather than refused.
int track(const Request& r, ChildSpec& spec, std::shared_ptr<TrackedTask>& task)
{
    auto tracked = r.mount.tracker().track(spec.track_tid);
    if (tracked.ok()) {
        task = tracked.value;
        return 0;
    }
    if (tracked.error == -EMFILE || tracked.error == -ENFILE) {
        static std::atomic<bool> warned{false};
        if (!warned.exchange(true))
            spdlog::warn("track pid {} for {}: {}: serving such processes uncached", spec.track_tid,
                         r.mount.mountpoint(), sys::errno_name(tracked.error));
        spec.track_tid = 0;
        task = nullptr;
        return 0;
    }
    // A pid that is not a process is simply not there.
    return tracked.error == -ESRCH ? -ENOENT : tracked.error;
}

// The process of a task served untracked (the daemon is out of pidfds): still known, since a
// thread of the daemon is the daemon's process; any other tid names itself.
pid_t untracked_tgid(const Request& r, pid_t tid)
{
    pid_t daemon = r.mount.daemon().pid;
    return ::syscall(SYS_tgkill, daemon, tid, 0) == 0 ? daemon : tid;
}

} // namespace

void fill_entry(const Request& r, const Node& node, const struct stat& st, fuse_entry_param& e)
{
    auto times = r.mount.cache_times(node);
    e = fuse_entry_param{};
    e.ino = node.ino;
    e.generation = node.generation;
    e.attr = st;
    e.entry_timeout = times.entry;
    e.attr_timeout = times.attr;
}

int lookup_entry(const Request& r, fuse_ino_t parent, const Node& dir, std::string_view n,
                 fuse_entry_param& e)
{
    if (int rv = check_alive(dir); rv < 0)
        return rv;
    Plan search = decide(r.mount.options(), dir, r.caller, Intent::search);
    if (search.refuse < 0)
        return search.refuse;
    if (int rv = source::check_mode(r, search, dir); rv < 0)
        return rv;
    if (dir.entry && dir.entry_itself && dir.entry->has(resolves_link_texts) && is_link_text(n))
        return lookup_behind_link(r, parent, dir, n, e);
    ChildSpec spec;
    if (int rv = classify(r.mount, dir, n, spec); rv < 0)
        return rv;

    std::shared_ptr<TrackedTask> task = dir.task;
    pid_t tgid = dir.tgid, tid = dir.tid;
    if (spec.track_tid) {
        // The name is the mount's number for the task; the tracker and the policy know it by
        // the daemon's (lib/procfsd/pid_namespace.hpp).
        const PidNamespace& pids = r.mount.pids();
        pid_t shown = spec.track_tid;
        spec.track_tid = pids.to_daemon(shown);
        if (!spec.track_tid)
            return -ENOENT;
        tid = spec.track_tid;
        if (int rv = visible_before_tracking(r, spec.track_tid, child_path(dir, n)); rv < 0)
            return rv;
        if (int rv = track(r, spec, task); rv < 0)
            return rv;
        // The number may have been freed and taken by a task outside the namespace between the
        // translation and the pidfd: the tracked task must still carry the name.
        if (pids.foreign() && pids.shown_tid(tid) != shown) {
            if (task)
                r.mount.tracker().drop_if_unused(task);
            return -ENOENT;
        }
        if (task)
            tgid = task->tgid;
        else if (dir.kind != NodeKind::task_dir)
            tgid = untracked_tgid(r, tid);
    }

    Node proto;
    proto.name = std::string(n);
    proto.kind = spec.kind;
    proto.path = child_path(dir, n);
    proto.task = task;
    proto.tgid = tgid;
    proto.tid = tid;
    proto.entry = spec.entry;
    proto.entry_itself = spec.entry_itself;
    proto.lifetime = spec.lifetime;
    proto.restricted = dir.restricted || !(current_mode(r, dir) & S_IXOTH);

    struct stat st{};
    if (int rv = attributes(r, proto, &st); rv < 0) {
        spdlog::trace("lookup {} for uid {} tid {}: {}", proto.path, r.caller.fsuid(), r.caller.tid(),
                      sys::errno_name(rv));
        if (spec.track_tid)
            r.mount.tracker().drop_if_unused(task);
        return rv;
    }
    proto.mode = st.st_mode;

    auto remembered = r.mount.nodes().remember(
        parent, n,
        [&](const Node& existing) {
            // The mode decides how a node is served (lib/policy.cpp, its children's
            // `restricted`): a chmod since the node was made makes a new one.
            return existing.task == proto.task && existing.kind == proto.kind &&
                   existing.mode == proto.mode && existing.restricted == proto.restricted;
        },
        [&] { return made_like(proto); });
    const Node& node = *remembered.node;
    // Every lookup records the entry, not only the one that created the node: a concurrent
    // lookup may reuse a node whose creator then found the task reaped and gave up, and its
    // answer must be refused too. Recording is idempotent per (mount, inode).
    if (node.task && is_listed_directory(node.kind)) {
        if (!r.mount.tracker().add_entry(
                node.task, DirEntryRef{r.mount.weak_from_this(), parent, node.name, node.ino})) {
            // Reaped between the source's answer and now: its flush has run, so this entry
            // would stay cached with nothing to invalidate it. It is gone, as in the kernel.
            forget_node(r.mount, node.ino, 1);
            return -ENOENT;
        }
    } else if (spec.track_tid) {
        r.mount.tracker().drop_if_unused(task);
    }

    fill_entry(r, node, st, e);
    return 0;
}

void lookup(fuse_req_t req, fuse_ino_t parent, const char* name)
{
    serve(req, Op::lookup, parent, [name](const Request& r, const Node& dir) {
        std::string_view n(name);
        if (n.empty() || n == "." || n == ".." || n.find('/') != std::string_view::npos)
            return -ENOENT;
        fuse_entry_param e;
        if (int rv = lookup_entry(r, dir.ino, dir, n, e); rv < 0)
            return rv;
        if (fuse_reply_entry(r.req, &e) == -ENOENT) {
            // The lookup was interrupted: the kernel will not hold this reference.
            forget_node(r.mount, e.ino, 1);
        }
        return replied;
    });
}

} // namespace procfsd::fuse_op
