// SPDX-License-Identifier: GPL-2.0-or-later
#include <sys/stat.h>
#include <unistd.h>

#include <cstddef>
#include <functional>
#include <string_view>
#include <vector>

#include "fuse/lookup.hpp"
#include "fuse/open_file.hpp"
#include "fuse/operations.hpp"
#include "fuse/serve.hpp"
#include "fuse/source.hpp"
#include "procfsd/entry.hpp"
#include "procfsd/pid_name.hpp"

namespace procfsd::fuse_op {

namespace {

// The record getdents64 fills (glibc has no type for it); the name follows the header.
struct linux_dirent64 {
    ino64_t d_ino;
    off64_t d_off;
    unsigned short d_reclen;
    unsigned char d_type;
    const char* name() const { return reinterpret_cast<const char*>(this) + offsetof(linux_dirent64, d_type) + 1; }
};

// Whether a name the source lists at the root is shown on this mount: with subset=pid only
// processes, self and thread-self. The kernel's proc_root_readdir skips proc_readdir, which is
// also what emits "." and "..": such a root lists no dots.
bool listed_at_root(const Mount& mount, std::string_view name)
{
    if (!mount.options().subset_pid)
        return true;
    return name == "self" || name == "thread-self" || parse_pid_name(name).has_value();
}

// The entries of one source batch that this caller sees: all but those the mount hides from it
// (subset=pid) and, when the plan judges each process, the processes it may not see: the
// kernel's has_pid_permissions(HIDEPID_INVISIBLE), from the policy or from a stat of the
// source made with the caller's credentials (one switch for the whole batch).
std::vector<const linux_dirent64*> shown(const Request& r, const OpenDir& dir, const char* batch,
                                         long n)
{
    bool root = dir.node->kind == NodeKind::root;
    std::vector<const linux_dirent64*> out;
    std::vector<size_t> ask; // indices in `out` the source must judge
    std::vector<std::string_view> names;
    for (long pos = 0; pos < n;) {
        auto* d = reinterpret_cast<const linux_dirent64*>(batch + pos);
        pos += d->d_reclen;
        std::string_view name(d->name());
        if (root && !listed_at_root(r.mount, name))
            continue;
        auto pid = dir.plan.judge_each_pid ? parse_pid_name(name) : std::nullopt;
        // Judged by the daemon's number for it; one gone since the source listed it is left
        // to the source.
        pid_t judged = pid ? r.mount.pids().to_daemon(*pid) : 0;
        Listed listed = !pid      ? Listed::yes
                        : !judged ? Listed::ask_source
                                  : listed_pid(r.mount.options(), r.caller, judged);
        if (listed == Listed::no)
            continue;
        if (listed == Listed::ask_source) {
            ask.push_back(out.size());
            names.push_back(name);
        }
        out.push_back(d);
    }
    if (!names.empty()) {
        auto visible = source::visible_to_caller(r, names);
        for (size_t i = ask.size(); i-- > 0;)
            if (!visible[i])
                out[ask[i]] = nullptr;
    }
    std::erase(out, nullptr);
    return out;
}

// Computed rows that the source lacks are listed after everything it lists, at offsets past
// any the source uses (procfs root offsets are keyed by pid, below 2^22 + 258), so that a
// listing resumed there asks the source nothing more.
constexpr off_t computed_offsets = off_t{1} << 30;

// Adds the computed rows of the directory's table that the source lacks, from offset `off`.
// False when the reply is full.
bool add_computed(const Request& r, const OpenDir& dir, off_t off, char* reply, size_t size,
                  size_t& used, bool plus)
{
    const EntryTable* table = r.mount.tree().table_below(dir.node->kind);
    if (!table || !table->has_computed())
        return true;
    if (dir.node->kind == NodeKind::root && r.mount.options().subset_pid)
        return true; // computed rows at the root are not processes
    size_t first = off >= computed_offsets ? static_cast<size_t>(off - computed_offsets) : 0;
    for (size_t i = first; i < table->rows.size(); ++i) {
        const Entry& e = table->rows[i];
        struct stat st{};
        std::string path = child_path(*dir.node, e.name);
        if (!e.computed_itself() || ::fstatat(r.mount.source_fd(), path.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0)
            continue; // not computed, or listed by the source
        std::string name(e.name);
        fuse_entry_param ent{};
        ent.attr.st_mode = S_IFREG;
        ent.attr.st_ino = std::hash<std::string>{}(name) | 1; // readdir(3) skips inode 0
        off_t next = computed_offsets + static_cast<off_t>(i) + 1;
        size_t room = size - used;
        size_t len = plus ? fuse_add_direntry_plus(r.req, reply + used, room, name.c_str(), &ent, next)
                          : fuse_add_direntry(r.req, reply + used, room, name.c_str(), &ent.attr, next);
        if (len > room)
            return false;
        used += len;
    }
    return true;
}

// Listings mirror the source's getdents at the source's own offsets: the kernel's order
// (dots, non-pid entries, self, thread-self, ascending tgids) and its pid-keyed offsets, which
// stay valid while processes come and go. With `plus` (READDIRPLUS), the processes listed at the
// root of a mount whose answers are the same for every caller come with their entries, as
// lookups, so that `ps` and `top` find them cached instead of asking for each in turn; like the
// kernel's proc_pid_readdir, which instantiates a dentry for every pid it lists. Other entries
// come without one (node id 0: the kernel looks them up if it needs them).
int list(const Request& r, OpenDir& dir, size_t size, off_t off, bool plus)
{
    std::lock_guard lock(dir.mu);
    if (int rv = check_alive(*dir.node); rv < 0)
        return rv;
    // A listing that judges each process reads every process there is, as the daemon
    // (Mount::unfiltered_source_fd()), opened per request: procfs root offsets are keyed by
    // pid, the same in both instances.
    Plan reading = dir.plan;
    int from = dir.fd.get();
    UniqueFd unfiltered;
    if (dir.plan.judge_each_pid) {
        reading.as_caller = false;
        auto all = sys::openat(r.mount.unfiltered_source_fd(), ".", O_RDONLY | O_DIRECTORY);
        if (!all.ok())
            return all.error;
        unfiltered = std::move(all.value);
        from = unfiltered.get();
    }
    if (::lseek(from, off, SEEK_SET) < 0)
        return -errno;

    std::vector<char> reply(size);
    size_t used = 0;
    std::vector<fuse_ino_t> looked_up; // each owes the kernel one lookup count
    // Ask the source for about as much as fits: a FUSE dirent is a little larger than a
    // linux_dirent64, so a source batch rarely overflows the reply; what does is re-read.
    std::vector<char> batch(std::max<size_t>(size, 1024));
    bool full = false;
    while (!full) {
        ssize_t n = source::getdents(r, reading, *dir.node, from, batch);
        if (n < 0 && used == 0)
            return static_cast<int>(n);
        if (n == 0)
            add_computed(r, dir, off, reply.data(), size, used, plus);
        if (n <= 0)
            break;
        for (const linux_dirent64* d : shown(r, dir, batch.data(), n)) {
            fuse_entry_param e{};
            e.attr.st_ino = d->d_ino;
            e.attr.st_mode = static_cast<mode_t>(d->d_type) << 12;
            size_t room = size - used;
            if (!plus) {
                size_t len = fuse_add_direntry(r.req, reply.data() + used, room, d->name(), &e.attr,
                                               d->d_off);
                if (len > room) {
                    full = true;
                    break;
                }
                used += len;
                continue;
            }
            // Sized before the lookup, which must not be made for an entry that does not fit.
            if (fuse_add_direntry_plus(r.req, nullptr, 0, d->name(), nullptr, 0) > room) {
                full = true;
                break;
            }
            if (dir.plan.pids_with_entries && parse_pid_name(d->name())) {
                fuse_entry_param found;
                // A process gone since the source listed it is listed without its entry.
                if (lookup_entry(r, dir.node->ino, *dir.node, d->name(), found) == 0) {
                    e = found;
                    looked_up.push_back(e.ino);
                }
            }
            used += fuse_add_direntry_plus(r.req, reply.data() + used, room, d->name(), &e, d->d_off);
        }
    }
    if (fuse_reply_buf(r.req, reply.data(), used) != 0)
        for (fuse_ino_t i : looked_up) // interrupted: the kernel takes none of these lookups
            forget_node(r.mount, i, 1);
    return replied;
}

} // namespace

void readdir(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi)
{
    serve_open<OpenDir>(req, Op::readdir, fi,
                        [=](const Request& r, OpenDir& dir) { return list(r, dir, size, off, false); });
}

void readdirplus(fuse_req_t req, fuse_ino_t, size_t size, off_t off, fuse_file_info* fi)
{
    serve_open<OpenDir>(req, Op::readdirplus, fi,
                        [=](const Request& r, OpenDir& dir) { return list(r, dir, size, off, true); });
}

} // namespace procfsd::fuse_op
