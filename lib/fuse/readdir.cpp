// SPDX-License-Identifier: GPL-2.0-or-later
#include <sys/syscall.h>
#include <unistd.h>

#include <cstddef>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include "fuse/lookup.hpp"
#include "fuse/open_file.hpp"
#include "fuse/judged_by_daemon.hpp"
#include "fuse/operations.hpp"
#include "fuse/request.hpp"
#include "procfsd/pid_name.hpp"
#include "procfsd/sys.hpp"

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

// Whether the caller may see the process `name` in a listing of the root: the kernel's
// has_pid_permissions(HIDEPID_INVISIBLE), asked of the source through a stat made with the
// caller's credentials (`creds`, switched once for a whole batch of entries).
bool visible_pid(const Request& r, std::string_view name, const CredentialScope& creds)
{
    auto pid = parse_pid_name(name);
    if (!pid || *pid == r.caller.tgid())
        return true;
    static const pid_t daemon = ::getpid();
    if (*pid == daemon)
        return daemon_pid_listed(r);
    if (!foreign_pid_listed(r, *pid))
        return false;
    if (creds.status() < 0)
        return false;
    struct stat st{};
    std::string path(name);
    return ::fstatat(r.mount.source_fd(), path.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

// Listings mirror the source's getdents at the source's own offsets: the kernel's order
// (dots, non-pid entries, self, thread-self, ascending tgids) and its pid-keyed offsets, which
// stay valid while processes come and go. With `plus` (READDIRPLUS), the processes listed at the
// root of a mount whose answers are the same for every caller come with their entries, as
// lookups, so that `ps` and `top` find them cached instead of asking for each in turn; like the
// kernel's proc_pid_readdir, which instantiates a dentry for every pid it lists. Other entries
// come without one (node id 0: the kernel looks them up if it needs them).
void list(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi, bool plus)
{
    Request r(req, plus ? Op::readdirplus : Op::readdir);
    auto handle = OpenDir::from(r.mount, fi);
    if (!handle) {
        fuse_reply_err(req, EBADF);
        return;
    }
    auto& dir = *handle;
    std::lock_guard lock(dir.mu);

    if (int rv = check_alive(*dir.node); rv < 0) {
        fuse_reply_err(req, -rv);
        return;
    }
    bool is_root = dir.node->kind == NodeKind::root;
    // At the root of a per-caller mount, the source would drop the caller's own process when
    // it is not ptraceable by its own credentials (non-dumpable), which the kernel lists
    // (same_thread_group). So the root is read whole and each pid checked: see visible_pid().
    bool filter_pids = is_root && !r.mount.options().caller_independent() &&
                       !r.caller.as_privileged_as_daemon();
    // (Never inside a credential switch: each lookup makes its own.)
    bool plus_pids = plus && is_root && r.mount.options().caller_independent() && !dir.checked;
    MaybeCredentials creds(r.caller, dir.checked && !filter_pids, *dir.node);
    if (int rv = creds.status(); rv < 0) {
        fuse_reply_err(req, -rv);
        return;
    }
    // A filtered listing starts from every process there is (Mount::unfiltered_source_fd()),
    // opened per request: procfs root offsets are keyed by pid, the same in both instances.
    int from = dir.fd.get();
    UniqueFd unfiltered;
    if (filter_pids) {
        auto all = sys::openat(r.mount.unfiltered_source_fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (!all.ok()) {
            fuse_reply_err(req, all.error);
            return;
        }
        unfiltered = std::move(all.value);
        from = unfiltered.get();
    }
    if (::lseek(from, off, SEEK_SET) < 0) {
        fuse_reply_err(req, errno);
        return;
    }

    std::vector<char> reply(size);
    size_t used = 0;
    std::vector<fuse_ino_t> looked_up; // each owes the kernel one lookup count
    // Ask the source for about as much as fits: a FUSE dirent is a little larger than a
    // linux_dirent64, so a source batch rarely overflows the reply; what does is re-read.
    std::vector<char> batch(std::max<size_t>(size, 1024));
    for (;;) {
        long n = ::syscall(SYS_getdents64, from, batch.data(), batch.size());
        if (n < 0) {
            if (used == 0) {
                fuse_reply_err(req, errno);
                return;
            }
            break;
        }
        if (n == 0)
            break;
        bool full = false;
        std::optional<CredentialScope> filter_creds;
        if (filter_pids)
            filter_creds.emplace(r.caller, 0);
        for (long pos = 0; pos < n;) {
            auto* d = reinterpret_cast<linux_dirent64*>(batch.data() + pos);
            pos += d->d_reclen;
            std::string_view name(d->name());
            if (is_root && !listed_at_root(r.mount, name))
                continue;
            if (filter_creds && !visible_pid(r, name, *filter_creds))
                continue;
            fuse_entry_param e{};
            e.attr.st_ino = d->d_ino;
            e.attr.st_mode = static_cast<mode_t>(d->d_type) << 12;
            size_t room = size - used;
            if (!plus) {
                size_t len = fuse_add_direntry(req, reply.data() + used, room, d->name(), &e.attr,
                                               d->d_off);
                if (len > room) {
                    full = true;
                    break;
                }
                used += len;
                continue;
            }
            // Sized before the lookup, which must not be made for an entry that does not fit.
            if (fuse_add_direntry_plus(req, nullptr, 0, d->name(), nullptr, 0) > room) {
                full = true;
                break;
            }
            if (plus_pids && parse_pid_name(name)) {
                fuse_entry_param found;
                // A process gone since the source listed it is listed without its entry.
                if (lookup_entry(r, ino, *dir.node, name, found) == 0) {
                    e = found;
                    looked_up.push_back(e.ino);
                }
            }
            used += fuse_add_direntry_plus(req, reply.data() + used, room, d->name(), &e, d->d_off);
        }
        if (full)
            break;
    }
    if (fuse_reply_buf(req, reply.data(), used) != 0)
        for (fuse_ino_t i : looked_up) // interrupted: the kernel takes none of these lookups
            forget_node(r.mount, i, 1);
}

} // namespace

void readdir(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi)
{
    list(req, ino, size, off, fi, false);
}

void readdirplus(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, fuse_file_info* fi)
{
    list(req, ino, size, off, fi, true);
}

} // namespace procfsd::fuse_op
