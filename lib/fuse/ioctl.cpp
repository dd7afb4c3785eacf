// SPDX-License-Identifier: GPL-2.0-or-later
// ioctl on proc files. The kernel's procfs has one: PROCMAP_QUERY on maps (Linux 6.11+), which
// profilers use to find a mapping without parsing the file. Its argument's size is encoded in
// the command, so FUSE carries the struct in and out; the name and build-id buffers it points
// to are in the caller's memory, which the daemon fills itself (process_vm_writev: the caller
// asked for it), bounded by the sizes the caller gave. Every other ioctl, and any on a
// directory: ENOTTY, as procfs answers.
#include <linux/limits.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <algorithm>
#include <cstring>
#include <vector>

#include "fuse/open_file.hpp"
#include "fuse/operations.hpp"
#include "fuse/serve.hpp"
#include "procfsd/entry.hpp"
#include "procfsd/sys.hpp"

namespace procfsd::fuse_op {

namespace {

// include/uapi/linux/fs.h (6.11), which Debian 12's headers predate.
struct MapQuery {
    uint64_t size;
    uint64_t query_flags;
    uint64_t query_addr;
    uint64_t vma_start;
    uint64_t vma_end;
    uint64_t vma_flags;
    uint64_t vma_page_size;
    uint64_t vma_offset;
    uint64_t inode;
    uint32_t dev_major;
    uint32_t dev_minor;
    uint32_t vma_name_size;
    uint32_t build_id_size;
    uint64_t vma_name_addr;
    uint64_t build_id_addr;
};
static_assert(sizeof(MapQuery) == 104);
constexpr unsigned map_query_cmd = _IOWR('f', 17, MapQuery);
constexpr size_t build_id_max = 20; // BUILD_ID_SIZE_MAX

// Moves `size` bytes between the daemon's `local` and the caller's `remote`, as a copy to or
// from user memory would: EFAULT where the caller's memory is not there (or not writable).
int caller_memory(pid_t caller, void* local, uint64_t remote, size_t size, bool write)
{
    if (size == 0)
        return 0;
    struct iovec l{local, size}, r{reinterpret_cast<void*>(remote), size};
    ssize_t n = write ? ::process_vm_writev(caller, &l, 1, &r, 1, 0) : ::process_vm_readv(caller, &l, 1, &r, 1, 0);
    if (n < 0)
        return errno == ESRCH ? -ESRCH : -EFAULT;
    return static_cast<size_t>(n) == size ? 0 : -EFAULT;
}

// do_procmap_query, for a caller whose struct is at `arg` and whose copy FUSE gave in `in`.
int map_query(const Request& r, int source, uint64_t arg, const void* in, size_t in_size, MapQuery& out)
{
    if (in_size < sizeof(MapQuery))
        return -EINVAL;
    MapQuery q;
    std::memcpy(&q, in, sizeof q);
    // The kernel reads `size` bytes of the caller's struct (copy_struct_from_user): at most a
    // page, at least up to query_addr; fields past a shorter size read 0, and what lies past a
    // longer one must be 0.
    if (q.size > 4096)
        return -E2BIG;
    if (q.size < offsetof(MapQuery, query_addr) + sizeof q.query_addr)
        return -EINVAL;
    if (q.size < sizeof(MapQuery))
        std::memset(reinterpret_cast<char*>(&q) + q.size, 0, sizeof(MapQuery) - q.size);
    pid_t caller = r.caller.tid();
    if (q.size > sizeof(MapQuery)) {
        std::vector<unsigned char> tail(q.size - sizeof(MapQuery));
        if (int rv = caller_memory(caller, tail.data(), arg + sizeof(MapQuery), tail.size(), false); rv < 0)
            return rv;
        for (unsigned char c : tail)
            if (c != 0)
                return -E2BIG;
    }
    // The kernel checks the caller's sizes and addresses itself (one without the other is
    // EINVAL, a buffer too small ENAMETOOLONG): it is given them, with the daemon's buffers in
    // place of the caller's, as large as what it can write into them (a name of at most
    // PATH_MAX, a build id of at most 20 bytes).
    std::vector<char> name(std::max<uint64_t>(1, std::min<uint64_t>(q.vma_name_size, PATH_MAX)));
    std::vector<char> build_id(build_id_max);
    MapQuery k = q;
    k.size = sizeof(MapQuery);
    k.vma_name_addr = q.vma_name_addr ? reinterpret_cast<uint64_t>(name.data()) : 0;
    k.build_id_addr = q.build_id_addr ? reinterpret_cast<uint64_t>(build_id.data()) : 0;
    if (::ioctl(source, map_query_cmd, &k) != 0)
        return -errno;
    if (q.vma_name_addr && k.vma_name_size)
        if (int rv = caller_memory(caller, name.data(), q.vma_name_addr, k.vma_name_size, true); rv < 0)
            return rv;
    if (q.build_id_addr && k.build_id_size)
        if (int rv = caller_memory(caller, build_id.data(), q.build_id_addr, k.build_id_size, true); rv < 0)
            return rv;
    out = k;
    out.size = q.size;
    out.vma_name_addr = q.vma_name_addr;
    out.build_id_addr = q.build_id_addr;
    // The kernel writes back `size` bytes at most; FUSE writes the whole struct: past a shorter
    // size, what the caller had.
    if (q.size < sizeof(MapQuery))
        std::memcpy(reinterpret_cast<char*>(&out) + q.size, static_cast<const char*>(in) + q.size,
                    sizeof(MapQuery) - q.size);
    return 0;
}

} // namespace

void ioctl(fuse_req_t req, fuse_ino_t, unsigned int cmd, void* arg, fuse_file_info* fi, unsigned flags,
           const void* in_buf, size_t in_bufsz, size_t out_bufsz)
{
    if (flags & FUSE_IOCTL_DIR) {
        finish(req, -ENOTTY);
        return;
    }
    serve_open<OpenFile>(req, Op::other, fi, [&](const Request& r, OpenFile& file) {
        const Node& node = *file.node;
        bool maps = node.entry && node.entry_itself && node.entry->name == "maps";
        if (cmd != map_query_cmd || !maps || !file.fd || (flags & FUSE_IOCTL_COMPAT))
            return -ENOTTY;
        if (out_bufsz < sizeof(MapQuery))
            return -EINVAL;
        MapQuery out{};
        if (int rv = map_query(r, file.fd.get(), reinterpret_cast<uint64_t>(arg), in_buf, in_bufsz, out); rv < 0)
            return rv;
        fuse_reply_ioctl(r.req, 0, &out, sizeof out);
        return replied;
    });
}

} // namespace procfsd::fuse_op
