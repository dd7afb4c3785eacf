// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The skeleton of every FUSE operation: count it, resolve its node or open handle, run its
// handler, reply. A handler returns -errno (replied as the error), 0 (replied as success
// without data) or `replied` (it sent its own reply, with data).

#include <fuse_lowlevel.h>

#include "fuse/open_file.hpp"
#include "fuse/request.hpp"

namespace procfsd {

constexpr int replied = 1;

inline void finish(fuse_req_t req, int rv)
{
    if (rv != replied)
        fuse_reply_err(req, -rv);
}

// An operation on node `ino`: ESTALE when the kernel names a node the mount does not have.
// The handler takes the node, or its shared pointer to keep it (open, opendir).
template <typename Handler>
void serve(fuse_req_t req, Op op, fuse_ino_t ino, Handler&& handler)
{
    Request r(req, op);
    auto node = r.node(ino);
    if (!node)
        return finish(req, -ESTALE); // a node id no server of this mount gave, or one not kept
    if constexpr (std::is_invocable_v<Handler, Request&, const std::shared_ptr<Node>&>)
        finish(req, handler(r, node));
    else
        finish(req, handler(r, *node));
}

// The start of an open or opendir: the object for its handle with the plan for `intent`
// (refused here when the plan says so), and the caller's charge for the handle, taken before
// the source is opened so that descriptors stay within the caller's share. 0 or -errno.
template <typename T>
int start_open(const Request& r, const std::shared_ptr<Node>& node, Intent intent,
               std::shared_ptr<T>& open, HandleQuota::Charge& charge)
{
    open = std::make_shared<T>();
    open->node = node;
    open->plan = decide(r.mount.options(), *node, r.caller, intent);
    if (open->plan.refuse < 0)
        return open->plan.refuse;
    charge = r.mount.charge_handle(r.caller.fsuid());
    return charge.ok() ? 0 : -EMFILE;
}

template <typename T>
constexpr RecordKind record_kind = std::is_same_v<T, OpenFile> ? RecordKind::file : RecordKind::dir;

template <typename T>
HandleTable<T>& table_of(Mount& mount)
{
    if constexpr (std::is_same_v<T, OpenFile>)
        return mount.files();
    else
        return mount.dirs();
}

// RELEASE and RELEASEDIR: the handle goes, with its record (also one never used since a
// restart).
template <typename T>
void release_handle(Mount& mount, uint64_t fh)
{
    auto& table = table_of<T>(mount);
    Record* saved = nullptr;
    if (auto open = table.get(fh))
        saved = open->saved;
    else if (auto h = mount.take_saved_handle(record_kind<T>, fh))
        saved = h->record;
    table.remove(fh);
    if (auto* state = mount.state(); state && saved)
        state->dropped(saved);
}

// Replies a new open handle, kept in `table` with its charge until its RELEASE, and in the
// mount's state for a next server.
template <typename T>
int reply_opened(const Request& r, HandleTable<T>& table, std::shared_ptr<T> open,
                 HandleQuota::Charge charge, fuse_file_info* fi)
{
    auto* state = r.mount.state();
    Record* saved = state ? state->handle_opened(record_kind<T>, 0, open->node->ino, fi->flags, r.caller.fsuid())
                          : nullptr;
    open->saved = saved;
    fi->fh = table.add(std::move(open), std::move(charge));
    if (saved)
        saved->id = fi->fh; // before the reply: the kernel knows the handle only from it
    if (fuse_reply_open(r.req, fi) != 0) {
        // Interrupted: no RELEASE will come for it.
        release_handle<T>(r.mount, fi->fh);
    }
    return replied;
}

// Opens `node` again, for `r`'s caller, under a handle that a previous server gave with open
// flags `flags` (fuse/open.cpp, fuse/opendir.cpp): 0 or -errno.
int reopen_handle(const Request& r, const std::shared_ptr<Node>& node, int flags, std::shared_ptr<OpenFile>& open,
                  HandleQuota::Charge& charge);
int reopen_handle(const Request& r, const std::shared_ptr<Node>& node, int flags, std::shared_ptr<OpenDir>& open,
                  HandleQuota::Charge& charge);

// The open object behind handle `fh`: the table's, or a previous server's opened again on
// its first use since the restart. -EBADF for a handle nobody gave.
template <typename T>
int find_open(const Request& r, uint64_t fh, std::shared_ptr<T>& open)
{
    auto& table = table_of<T>(r.mount);
    if ((open = table.get(fh)))
        return 0;
    std::lock_guard lock(r.mount.reopen_mu());
    if ((open = table.get(fh))) // another request opened it meanwhile
        return 0;
    auto saved = r.mount.take_saved_handle(record_kind<T>, fh);
    if (!saved)
        return -EBADF;
    HandleQuota::Charge charge;
    auto node = r.node(saved->ino);
    if (int rv = node ? reopen_handle(r, node, saved->flags, open, charge) : -EBADF; rv < 0) {
        r.mount.put_back_saved_handle(*saved); // its RELEASE frees it
        open = nullptr;
        return rv;
    }
    open->saved = saved->record;
    table.add_as(fh, open, std::move(charge));
    return 0;
}

// An operation on an open file or directory (T: OpenFile or OpenDir): EBADF when the handle
// is not (or no longer) open.
template <typename T, typename Handler>
void serve_open(fuse_req_t req, Op op, const fuse_file_info* fi, Handler&& handler)
{
    Request r(req, op);
    std::shared_ptr<T> open;
    int rv = find_open(r, fi->fh, open);
    finish(req, rv < 0 ? rv : handler(r, *open));
}


} // namespace procfsd
