// SPDX-License-Identifier: GPL-2.0-or-later
// The request handlers of the FUSE floor (floor_server.cpp): the operations procfsd answers,
// answered from the constant tree of floor_tree.hpp, with procfsd's open and connection flags.
#include "floor_operations.hpp"

#include "floor_tree.hpp"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <string>
#include <vector>

namespace procfsd::floorfs {

namespace {

void reply_entry(fuse_req_t req, fuse_ino_t ino, double entry_timeout)
{
    fuse_entry_param e{};
    e.ino = ino;
    e.generation = 1;
    attributes(ino, e.attr);
    e.entry_timeout = entry_timeout;
    e.attr_timeout = short_timeout;
    fuse_reply_entry(req, &e);
}

void op_init(void*, fuse_conn_info* conn)
{
    // As procfsd: no symlink caching, parallel dirops, no splice.
    conn->want &= ~FUSE_CAP_CACHE_SYMLINKS;
    if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
        conn->want |= FUSE_CAP_PARALLEL_DIROPS;
    conn->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
    conn->max_write = 128 << 10; // procfsd's max_request_payload
#ifdef PROCFSD_FUSE_URING
    conn->no_interrupt = 1;
#endif
}

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name)
{
    fuse_ino_t ino = 0;
    double entry_timeout = 0;
    if (!find_child(parent, name, ino, entry_timeout)) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    reply_entry(req, ino, entry_timeout);
}

void op_forget(fuse_req_t req, fuse_ino_t, uint64_t)
{
    fuse_reply_none(req);
}

void op_forget_multi(fuse_req_t req, size_t, fuse_forget_data*)
{
    fuse_reply_none(req);
}

void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*)
{
    struct stat st {
    };
    if (!attributes(ino, st)) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    fuse_reply_attr(req, &st, short_timeout);
}

void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
    if (!is_link(ino)) {
        fuse_reply_err(req, EINVAL);
        return;
    }
    // As procfsd: self names the caller (here its thread id, which the request carries).
    pid_t pid = fuse_req_ctx(req)->pid;
    char text[64];
    if (ino == ino_self)
        std::snprintf(text, sizeof text, "%d", static_cast<int>(pid));
    else
        std::snprintf(text, sizeof text, "%d/task/%d", static_cast<int>(pid),
                      static_cast<int>(pid));
    fuse_reply_readlink(req, text);
}

void op_access(fuse_req_t req, fuse_ino_t, int)
{
    fuse_reply_err(req, 0);
}

void op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi)
{
    struct stat st {
    };
    if (!attributes(ino, st)) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    if (S_ISDIR(st.st_mode)) {
        fuse_reply_err(req, EISDIR);
        return;
    }
    fi->direct_io = 1;
    fi->noflush = 1;
    fi->keep_cache = 0;
    fi->fh = 0;
    fuse_reply_open(req, fi);
}

void op_read(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*)
{
    std::string text = content(ino);
    if (off < 0 || static_cast<size_t>(off) >= text.size()) {
        fuse_reply_buf(req, nullptr, 0);
        return;
    }
    size_t n = std::min(size, text.size() - static_cast<size_t>(off));
    fuse_reply_buf(req, text.data() + off, n);
}

void op_release(fuse_req_t req, fuse_ino_t, fuse_file_info*)
{
    fuse_reply_err(req, 0);
}

void op_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi)
{
    struct stat st {
    };
    if (!attributes(ino, st) || !S_ISDIR(st.st_mode)) {
        fuse_reply_err(req, ENOTDIR);
        return;
    }
    fi->fh = 0;
    fuse_reply_open(req, fi);
}

void op_releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info*)
{
    fuse_reply_err(req, 0);
}

// As procfsd: READDIRPLUS gives the pid directories listed at the root with their entries
// (lookups), everything else without (node id 0).
void list(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus)
{
    std::vector<char> buf(size);
    size_t used = 0;
    DirItem item;
    for (size_t index = static_cast<size_t>(off < 0 ? 0 : off); dir_item(ino, index, item);
         ++index) {
        fuse_entry_param e{};
        e.attr.st_ino = item.ino;
        e.attr.st_mode = item.mode;
        size_t room = size - used;
        auto next = static_cast<off_t>(index + 1);
        if (!plus) {
            size_t len =
                fuse_add_direntry(req, buf.data() + used, room, item.name.c_str(), &e.attr, next);
            if (len > room)
                break;
            used += len;
            continue;
        }
        if (fuse_add_direntry_plus(req, nullptr, 0, item.name.c_str(), nullptr, 0) > room)
            break;
        if (item.is_pid_dir) {
            e.ino = item.ino;
            e.generation = 1;
            attributes(item.ino, e.attr);
            e.entry_timeout = pid_entry_timeout;
            e.attr_timeout = short_timeout;
        }
        used += fuse_add_direntry_plus(req, buf.data() + used, room, item.name.c_str(), &e, next);
    }
    fuse_reply_buf(req, buf.data(), used);
}

void op_readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*)
{
    list(req, ino, size, off, false);
}

void op_readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info*)
{
    list(req, ino, size, off, true);
}

} // namespace

const fuse_lowlevel_ops& operations()
{
    static const fuse_lowlevel_ops ops = [] {
        fuse_lowlevel_ops o{};
        o.init = op_init;
        o.lookup = op_lookup;
        o.forget = op_forget;
        o.forget_multi = op_forget_multi;
        o.getattr = op_getattr;
        o.readlink = op_readlink;
        o.access = op_access;
        o.open = op_open;
        o.read = op_read;
        o.release = op_release;
        o.opendir = op_opendir;
        o.readdir = op_readdir;
        o.readdirplus = op_readdirplus;
        o.releasedir = op_releasedir;
        return o;
    }();
    return ops;
}

} // namespace procfsd::floorfs
