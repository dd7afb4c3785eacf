// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/policy.hpp"

#include <linux/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include "procfsd/entry.hpp"
#include "procfsd/process_tracker.hpp"

namespace procfsd {

namespace {

constexpr uint64_t cap(int c) { return uint64_t{1} << c; }

// The -errno a write to `node` gets before the source is asked: EROFS on a read-only mount;
// EPERM through a pidns= mount for a file the kernel keeps per writer's namespace, which the
// daemon would write in its own (a container's root setting the host's ns_last_pid).
int refused_write(const MountOptions& o, const Node& node)
{
    if (o.read_only)
        return -EROFS;
    if (!o.pidns.empty() && node.kind == NodeKind::proc_entry && written_for_writers_pidns(node.path))
        return -EPERM;
    return 0;
}

bool is_daemon(const Node& node, const Caller& caller)
{
    return node.tgid != 0 && node.tgid == caller.daemon().pid;
}

// __ptrace_may_access() for the daemon as target: the ids match (all the daemon's are 0) and,
// since cap_ptrace_access_check() wants the target's permitted capabilities within the
// caller's effective ones, the caller holds every capability the daemon holds; or it has
// CAP_SYS_PTRACE. Capabilities of a caller in another user namespace count for nothing.
bool may_ptrace_daemon(const Caller& caller)
{
    if (caller.capabilities() & cap(CAP_SYS_PTRACE))
        return true;
    return caller.fsuid() == 0 && caller.fsgid() == 0 && caller.as_privileged_as_daemon();
}

// has_pid_permissions() for this caller and a process it may (`may_ptrace`) or may not ptrace;
// `min` as in the kernel.
bool hidepid_allows(const MountOptions& o, const Caller& caller, Hidepid min, bool may_ptrace)
{
    if (o.hidepid == Hidepid::ptraceable)
        return may_ptrace;
    if (static_cast<int>(o.hidepid) < static_cast<int>(min))
        return true;
    if (o.gid && caller.in_group(*o.gid))
        return true;
    return may_ptrace;
}

// A caller from another user namespace and a process outside it (not its own): the kernel
// refuses the caller every ptrace check on it; a worker thread would pass them.
bool outside_foreign_caller(const Caller& caller, const Node& node)
{
    if (caller.in_daemon_user_ns() || node.tgid == caller.tgid())
        return false;
    return !caller.shares_user_ns_with(node.tid);
}

// The caller may not ptrace the node's process, but a worker thread would pass the kernel's
// check in its place. Only what the kernel gates by ptrace is concerned for a foreign caller,
// which keeps the user namespace lookup off the hot path.
bool shielded(const Node& node, const Caller& caller)
{
    if (is_daemon(node, caller))
        return !may_ptrace_daemon(caller);
    bool gated = node.kind == NodeKind::pid_entry && node.entry &&
                 (node.entry->has(ptrace_gated) || node.entry->has(ptrace_zeroes));
    return gated && node.tgid && outside_foreign_caller(caller, node);
}

// The hidepid= answer (0, -ENOENT or -EPERM) for a process the daemon judges, entering its
// directory (`enter`) or only looking at it; 0 where the source, asked as the caller, decides.
int hidepid_verdict(const MountOptions& o, const Node& node, const Caller& caller, bool enter)
{
    if (!node.tgid || o.hidepid == Hidepid::off)
        return 0;
    bool may_ptrace;
    if (is_daemon(node, caller))
        may_ptrace = may_ptrace_daemon(caller);
    else if (outside_foreign_caller(caller, node))
        may_ptrace = false;
    else
        return 0;
    // getattr of /proc/<pid> hides it from hidepid>=invisible (pid_getattr); entering it is
    // refused from noaccess up (proc_pid_permission), with ENOENT when invisible.
    if (!hidepid_allows(o, caller, Hidepid::invisible, may_ptrace))
        return -ENOENT;
    if (enter && !hidepid_allows(o, caller, Hidepid::noaccess, may_ptrace))
        return -EPERM;
    return 0;
}

int ptrace_refusal(const Node& node, const Caller& caller)
{
    return node.entry && node.entry->has(ptrace_gated) && shielded(node, caller) ? -EACCES : 0;
}

// The daemon's own fd/ and map_files/: the kernel would let a worker in whatever their mode.
int own_dir_mask(const Node& node, const Caller& caller, int mask)
{
    return node.entry_itself && node.entry->has(own_process_enters) && is_daemon(node, caller)
               ? mask
               : 0;
}

// Looking up or stat()ing the node must run as the caller: on a mount whose answers depend on
// the caller (hidepid=, gid=), below a directory that not everyone may search, or a pid entry
// that the kernel checks per caller.
bool stat_as_caller(const MountOptions& o, const Node& node)
{
    return !o.caller_independent() || node.restricted ||
           (is_pid_node(node.kind) && node.entry && !node.entry->has(alike));
}

// Opening, reading or following the node must run as the caller: always, unless its content is
// the same for every reader and every reader may read it. A pid entry alike for everyone may
// still hold files that not everyone may read (net/ip_tables_names is 0440), so the mode decides
// too; a top-level file alike for everyone is read as the daemon on every mount, while its mode
// lets everyone read it.
bool content_as_caller(const MountOptions& o, const Node& node)
{
    if (node.kind == NodeKind::proc_entry)
        return !(node.entry_itself && node.entry->has(alike) && S_ISREG(node.mode) &&
                 readable_by_all(node.mode));
    return stat_as_caller(o, node) || !readable_by_all(node.mode);
}

// What the kernel grants a task on itself, as capabilities for the worker, each only where it
// passes that one check: its own process passes ptrace checks (CAP_SYS_PTRACE, which nothing
// else in procfs consults) and enters its own fd/ and map_files/ (CAP_DAC_READ_SEARCH, there
// only); its own thread may set its timerslack_ns (CAP_SYS_NICE, there only: elsewhere, as for
// autogroup, it would lift the nice limits).
} // namespace

uint64_t stand_in_capabilities(const Node& node, const Caller& caller)
{
    if (!node.tgid || node.tgid != caller.tgid())
        return 0;
    uint64_t caps = cap(CAP_SYS_PTRACE);
    if (node.entry && node.entry->has(own_process_enters))
        caps |= cap(CAP_DAC_READ_SEARCH);
    if (node.tid == caller.tid() && node.kind == NodeKind::pid_entry && node.entry &&
        node.entry->has(own_thread_may_nice))
        caps |= cap(CAP_SYS_NICE);
    return caps;
}

namespace {

Content content_of(const Node& node, const Caller& caller)
{
    if (node.entry && node.entry->has(computes_below))
        return node.entry_itself || !S_ISREG(node.mode) ? Content::source : Content::computed;
    if (!node.entry || !node.entry_itself)
        return Content::source;
    if (node.entry->unpermitted && shielded(node, caller))
        return Content::unpermitted;
    if (node.entry->by_itself && node.tid > 0 && node.tid == caller.tid())
        return Content::by_itself;
    if (node.entry->compute)
        return Content::computed;
    if (node.entry->filter)
        return Content::filtered;
    return Content::source;
}

} // namespace

Plan decide(const MountOptions& o, const Node& node, const Caller& caller, Intent intent, int mask)
{
    Plan p;
    switch (intent) {
    case Intent::stat:
        p.refuse = hidepid_verdict(o, node, caller, node.kind != NodeKind::pid_dir);
        p.as_caller = stat_as_caller(o, node);
        break;
    case Intent::search:
        if (node.entry_itself && node.entry->has(searched_by_ptrace))
            p.refuse = ptrace_refusal(node, caller);
        p.mode_check = own_dir_mask(node, caller, X_OK);
        break;
    case Intent::list: {
        // fd/ is listed by its mode alone: the kernel checks ptrace access at its links.
        bool by_mode = node.entry_itself && node.entry->has(listed_by_mode);
        p.refuse = by_mode ? 0 : ptrace_refusal(node, caller);
        if (p.refuse == 0)
            p.refuse = hidepid_verdict(o, node, caller, true);
        p.mode_check = own_dir_mask(node, caller, R_OK);
        // Listing a directory everyone may read is the same for everyone, outside pid
        // directories and in those whose entries are alike for everyone.
        p.as_caller = stat_as_caller(o, node) || !readable_by_all(node.mode);
        bool root = node.kind == NodeKind::root;
        // The source would drop the caller's own process when its own credentials may not
        // ptrace it (non-dumpable), which the kernel lists (same_thread_group).
        p.judge_each_pid = root && !o.caller_independent() && !caller.as_privileged_as_daemon();
        p.pids_with_entries = root && o.caller_independent() && !p.as_caller;
        break;
    }
    case Intent::open_read:
    case Intent::open_write:
        // The object behind a magic link cannot be opened through FUSE: EPERM for a write, as
        // nsfs answers; ENXIO otherwise, as an open of a socket's fd/N gives.
        if (node.behind_link) {
            p.refuse = intent == Intent::open_write ? -EPERM : -ENXIO;
            break;
        }
        if (intent == Intent::open_write && (p.refuse = refused_write(o, node)) != 0)
            break;
        p.refuse = ptrace_refusal(node, caller);
        p.as_caller = intent == Intent::open_write || content_as_caller(o, node);
        p.content = content_of(node, caller);
        if (intent == Intent::open_write && p.content == Content::computed && node.entry->has(computes_below))
            p.write_refusal = -EOPNOTSUPP;
        if (intent == Intent::open_write && node.entry_itself && node.entry->has(group_writes) &&
            is_daemon(node, caller)) {
            // The worker is in the daemon's thread group, which the kernel would let write
            // whatever the mode: the mode decides for the caller, and its writes fail.
            p.mode_check = W_OK;
            p.write_refusal = -EINVAL;
        }
        break;
    case Intent::readlink:
        if (node.kind == NodeKind::self_link || node.kind == NodeKind::thread_self) {
            p.content = Content::caller_link;
            break;
        }
        p.refuse = ptrace_refusal(node, caller);
        p.as_caller = content_as_caller(o, node);
        break;
    case Intent::access:
        if ((mask & W_OK) && (p.refuse = refused_write(o, node)) != 0)
            break;
        p.mode_check = own_dir_mask(node, caller, mask);
        p.as_caller = true; // AT_EACCESS, with the switched credentials
        break;
    case Intent::inspect:
        p.as_caller = true;
        break;
    case Intent::change:
        p.refuse = refused_write(o, node);
        p.as_caller = true;
        break;
    }
    if (p.as_caller)
        p.stand_in = stand_in_capabilities(node, caller);
    return p;
}

Listed listed_pid(const MountOptions& o, const Caller& caller, pid_t pid)
{
    if (pid == caller.tgid())
        return Listed::yes;
    if (pid == caller.daemon().pid)
        return hidepid_allows(o, caller, Hidepid::invisible, may_ptrace_daemon(caller)) ? Listed::yes
                                                                                       : Listed::no;
    // A caller from another user namespace, and a process outside it: the kernel denies it
    // ptrace access, which the source would grant a worker.
    if (!caller.in_daemon_user_ns() && !caller.shares_user_ns_with(pid) &&
        !hidepid_allows(o, caller, Hidepid::invisible, false))
        return Listed::no;
    return Listed::ask_source;
}

bool directory_permits(const Caller& caller, const struct stat& st, int mask)
{
    mode_t bits = caller.fsuid() == st.st_uid ? (st.st_mode >> 6) & 7
                  : caller.in_group(st.st_gid) ? (st.st_mode >> 3) & 7
                                               : st.st_mode & 7;
    if ((bits & static_cast<mode_t>(mask)) == static_cast<mode_t>(mask))
        return true;
    uint64_t caps = caller.capabilities();
    if (caps & cap(CAP_DAC_OVERRIDE))
        return true;
    return (caps & cap(CAP_DAC_READ_SEARCH)) && !(mask & W_OK);
}

CacheTimes cache_times(const MountOptions& o, const Node& node, bool reap_reported) noexcept
{
    if (node.restricted || node.lifetime == Lifetime::volatile_)
        return {};
    CacheTimes t{0, o.attr_timeout};
    switch (node.kind) {
    case NodeKind::root:
    case NodeKind::self_link:
    case NodeKind::thread_self:
        t.entry = o.entry_timeout;
        return t;
    case NodeKind::proc_entry:
        t.entry = o.attr_timeout;
        return t;
    case NodeKind::pid_dir:
    case NodeKind::task_dir:
    case NodeKind::tid_dir:
    case NodeKind::pid_entry:
        break;
    }
    // Pid nodes: cached only when the process is tracked (an untracked one, with no pidfd to
    // spare, has nothing to invalidate it); entries until the reap invalidates them, where the
    // kernel reports reaping (else a zombie would stay cached).
    if (!node.task)
        return {};
    if (!o.caller_independent()) {
        // The answers depend on the caller and the kernel's caches are shared by all (hidepid=,
        // gid=). A pid or tid directory is looked up again at every path walk, which judges
        // the caller as the kernel's getattr of it does (hidepid_verdict()), so its attributes,
        // which only a walk that passed that judgement reaches, are kept as on any mount. What
        // lies below it is reached only through such a walk (or a descriptor the caller already
        // holds), so its entry may be kept. Entering the directory is judged with the same
        // verdict as looking it up, except under hidepid=noaccess, which shows every directory
        // and refuses entering (proc_pid_permission): there the attributes below are asked
        // each time, so that stat(), like open and readlink, judges the caller.
        if (node.kind == NodeKind::pid_dir || node.kind == NodeKind::tid_dir)
            return t; // attributes only
        if (o.hidepid == Hidepid::noaccess)
            t.attr = 0;
    }
    if (reap_reported || !node.task->exited)
        t.entry = node.lifetime == Lifetime::process ? o.entry_timeout : o.attr_timeout;
    return t;
}

} // namespace procfsd
