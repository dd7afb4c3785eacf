// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <fuse_lowlevel.h>
#include <linux/capability.h>

#include <memory>
#include <optional>

#include "procfsd/caller.hpp"
#include "procfsd/mount.hpp"
#include "procfsd/node.hpp"
#include "procfsd/pid_entries.hpp"
#include "procfsd/stats.hpp"

namespace procfsd {

// What every operation starts from: its mount, its caller, and the counter bumped for it.
struct Request {
    Request(fuse_req_t r, Op op)
        : req(r), mount(*static_cast<Mount*>(fuse_req_userdata(r))),
          caller([r] {
              const fuse_ctx* ctx = fuse_req_ctx(r);
              return Caller(ctx->uid, ctx->gid, ctx->pid);
          }())
    {
        mount.count(op);
    }

    [[nodiscard]] std::shared_ptr<Node> node(fuse_ino_t ino) const { return mount.nodes().get(ino); }

    fuse_req_t req;
    Mount& mount;
    Caller caller;
};

// The caller's credentials for the scope of an operation, when `needed`: the source procfs then
// applies the kernel's checks for that caller. Check status() before touching the source.
class MaybeCredentials {
public:
    // `target`: the node operated on, whose process may be the caller's own.
    MaybeCredentials(const Caller& caller, bool needed, const Node& target)
    {
        // A caller as privileged as the daemon needs no switch, nor what deciding one costs
        // (its thread group, read from its status).
        if (needed && !caller.as_privileged_as_daemon())
            scope_.emplace(caller, stand_in_capabilities(caller, target));
    }

    // What the kernel grants a task on itself, as capabilities for the daemon's stand-in thread,
    // each only where it passes that one check: its own process passes ptrace checks
    // (CAP_SYS_PTRACE, which nothing else in procfs consults) and enters its own fd/ and
    // map_files/ (CAP_DAC_READ_SEARCH, there only); its own thread may set its timerslack_ns
    // (CAP_SYS_NICE, there only: elsewhere, as for autogroup, it would lift the nice limits).
    static uint64_t stand_in_capabilities(const Caller& caller, const Node& target)
    {
        if (!target.task || target.task->tgid != caller.tgid())
            return 0;
        uint64_t caps = uint64_t{1} << CAP_SYS_PTRACE;
        if (target.entry && target.entry->own_process_enters)
            caps |= uint64_t{1} << CAP_DAC_READ_SEARCH;
        if (target.task->tid == caller.tid() && target.kind == NodeKind::pid_entry && target.entry &&
            target.entry->own_thread_may_nice)
            caps |= uint64_t{1} << CAP_SYS_NICE;
        return caps;
    }
    [[nodiscard]] int status() const noexcept { return scope_ ? scope_->status() : 0; }

private:
    std::optional<CredentialScope> scope_;
};

// Whether looking up or stat()ing `node` must run as the caller: on a mount whose answers
// depend on the caller (hidepid=, gid=), below a directory that not everyone may search, or an
// entry whose access the kernel checks per caller.
inline bool lookup_is_checked(const Mount& mount, const Node& node) noexcept
{
    return !mount.options().caller_independent() || node.restricted ||
           (node.entry && node.entry->access == Access::kernel);
}

// Whether `node` is a pid directory entry itself ("fd"), not a node below it ("fd/3"), which
// carries the same table entry.
inline bool is_entry_itself(const Node& node) noexcept
{
    return node.kind == NodeKind::pid_entry && node.entry && node.name == node.entry->name;
}

// Whether every caller may read (or list) what has this mode. The kernel applies the owner's,
// the group's or the others' bits, whichever class the caller is in, so all three must allow it.
inline bool readable_by_all(mode_t mode) noexcept { return (mode & 0444) == 0444; }

// Whether opening, reading, listing or following `node` must run as the caller: always, unless
// its content is the same for every reader and every reader may read it. An entry the table
// calls alike for everyone may still hold files that not everyone may read (net/ip_tables_names
// is 0440), so the mode decides too.
inline bool content_is_checked(const Mount& mount, const Node& node) noexcept
{
    if (node.alike_for_everyone)
        return false;
    return node.kind == NodeKind::proc_entry || lookup_is_checked(mount, node) ||
           !readable_by_all(node.mode);
}

// 0 while the process a pid node belongs to still exists (zombies included), else -ENOENT, as
// the kernel's pid_revalidate makes every path below a reaped process vanish.
inline int check_alive(const Node& node) noexcept
{
    return (!node.task || node.task->alive()) ? 0 : -ENOENT;
}

// Lowers a node's lookup count; when the kernel holds it no more, drops it and, for a pid or
// tid directory, its entry in the process registry.
void forget_node(Mount& mount, fuse_ino_t ino, uint64_t nlookup);

// Attributes as the source reports them for `node` (its st_ino is the source's, which readdir
// reports too, so that `ls -i` and stat agree). Returns 0 or -errno.
int source_attr(const Request& r, const Node& node, struct stat* st);

} // namespace procfsd
