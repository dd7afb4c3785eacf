// SPDX-License-Identifier: GPL-2.0-or-later
// Drives procfsd's request handlers through a real libfuse session whose transport is this
// file, not the kernel: the input is a sequence of requests as the kernel would send them
// (lookups of arbitrary names, stats, reads at arbitrary offsets, listings, forgets, xattrs,
// tree changes), from root or an unprivileged caller. Like the kernel, it only names node ids
// and handles the daemon gave out. The mount is read-only, so nothing on the machine changes.
#include <fuse_lowlevel.h>
#include <sys/uio.h>
#include <unistd.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "procfsd/caller.hpp"
#include "procfsd/process_tracker.hpp"
#include "procfsd/mount.hpp"
#include "procfsd/mount_options.hpp"

// The kernel's wire format (include/uapi/linux/fuse.h), spelled out to avoid clashing headers.
namespace wire {
struct in_header {
    uint32_t len, opcode;
    uint64_t unique, nodeid;
    uint32_t uid, gid, pid;
    uint16_t total_extlen, padding;
};
struct out_header {
    uint32_t len;
    int32_t error;
    uint64_t unique;
};
struct init_in {
    uint32_t major, minor, max_readahead, flags, flags2, unused[11];
};
struct entry_out {
    uint64_t nodeid, generation, entry_valid, attr_valid;
    uint32_t entry_valid_nsec, attr_valid_nsec;
    // followed by fuse_attr
};
struct open_out {
    uint64_t fh;
    uint32_t open_flags, padding;
};
struct getattr_in {
    uint32_t flags, dummy;
    uint64_t fh;
};
struct open_in {
    uint32_t flags, open_flags;
};
struct read_in {
    uint64_t fh, offset;
    uint32_t size, read_flags;
    uint64_t lock_owner;
    uint32_t flags, padding;
};
struct release_in {
    uint64_t fh;
    uint32_t flags, release_flags;
    uint64_t lock_owner;
};
struct forget_in {
    uint64_t nlookup;
};
struct poll_in {
    uint64_t fh, kh;
    uint32_t flags, events;
};
struct lseek_in {
    uint64_t fh, offset;
    uint32_t whence, padding;
};
struct access_in {
    uint32_t mask, padding;
};
struct getxattr_in {
    uint32_t size, padding;
};
struct mkdir_in {
    uint32_t mode, umask;
};
enum : uint32_t {
    LOOKUP = 1, FORGET = 2, GETATTR = 3, READLINK = 5, MKDIR = 9, UNLINK = 10, OPEN = 14,
    READ = 15, STATFS = 17, RELEASE = 18, GETXATTR = 22, LISTXATTR = 23, INIT = 26,
    OPENDIR = 27, READDIR = 28, RELEASEDIR = 29, ACCESS = 34, POLL = 40, READDIRPLUS = 44,
    LSEEK = 46
};
} // namespace wire

namespace {

struct Harness {
    procfsd::DaemonIdentity identity = procfsd::DaemonIdentity::capture();
    procfsd::Stats stats;
    std::unique_ptr<procfsd::ProcessTracker> tracker;
    procfsd::HandleQuota handles{[] { return size_t{256}; }};
    std::shared_ptr<procfsd::Mount> mount;
    uint64_t unique = 1;
    // What the last reply said (filled by the transport's writev).
    int32_t last_error = 0;
    std::vector<char> last_body;
    std::vector<uint64_t> nodes{1};
    std::vector<uint64_t> files, dirs;

    Harness()
    {
        tracker = std::make_unique<procfsd::ProcessTracker>(stats);
        procfsd::MountOptions opts;
        opts.read_only = true;
        mount = std::make_shared<procfsd::Mount>(
            "/nonexistent/fuzz", opts, procfsd::Mount::Shared{identity, *tracker, stats, handles, true, -1});
        // Designated: libfuse 3.18 added a member (clone_fd) that 3.14 does not have.
        static const fuse_custom_io io{
            // libfuse passes the session's userdata (the Mount): the harness is `self`.
            .writev = [](int, struct iovec* iov, int count, void*) -> ssize_t {
                auto* h = Harness::self;
                std::vector<char> all;
                for (int i = 0; i < count; ++i)
                    all.insert(all.end(), static_cast<char*>(iov[i].iov_base),
                               static_cast<char*>(iov[i].iov_base) + iov[i].iov_len);
                wire::out_header oh{};
                std::memcpy(&oh, all.data(), sizeof oh);
                h->last_error = oh.error;
                h->last_body.assign(all.begin() + sizeof oh, all.end());
                return static_cast<ssize_t>(all.size());
            },
            .read = [](int, void*, size_t, void*) -> ssize_t { return 0; },
        };
        self = this;
        if (mount->mount(&io, 0))
            std::abort();
        wire::init_in init{};
        init.major = 7;
        init.minor = 31;
        init.max_readahead = 65536;
        send(wire::INIT, 0, 0, &init, sizeof init);
    }

    static inline Harness* self = nullptr;

    void send(uint32_t opcode, uint64_t nodeid, uint32_t uid, const void* body, size_t len,
              const std::string& name = {}, const std::string& name2 = {})
    {
        std::vector<char> msg(sizeof(wire::in_header));
        msg.insert(msg.end(), static_cast<const char*>(body), static_cast<const char*>(body) + len);
        for (auto* n : {&name, &name2})
            if (!n->empty() || (n == &name && (opcode == wire::LOOKUP || opcode == wire::MKDIR ||
                                               opcode == wire::UNLINK || opcode == wire::GETXATTR))) {
                msg.insert(msg.end(), n->begin(), n->end());
                msg.push_back('\0');
            }
        wire::in_header h{};
        h.len = static_cast<uint32_t>(msg.size());
        h.opcode = opcode;
        h.unique = unique++;
        h.nodeid = nodeid;
        h.uid = uid;
        h.gid = uid;
        h.pid = static_cast<uint32_t>(::getpid());
        std::memcpy(msg.data(), &h, sizeof h);
        last_error = 1; // no reply (forget)
        last_body.clear();
        fuse_buf buf{};
        buf.size = msg.size();
        buf.mem = msg.data();
        fuse_session_process_buf(mount->session(), &buf);
    }
};

// Reads little pieces of the fuzz input.
struct Input {
    const uint8_t* p;
    size_t left;
    uint8_t byte() { return left ? (--left, *p++) : 0; }
    uint64_t u64()
    {
        uint64_t v = 0;
        for (int i = 0; i < 8; ++i)
            v = (v << 8) | byte();
        return v;
    }
    std::string name()
    {
        static const char* common[] = {"self", "thread-self", "1", "status", "task", "fd", "fdinfo",
                                       "ns", "net", "sys", "kernel", "meminfo", "environ", "exe",
                                       "maps", "0", "stat", "cmdline", "..", "."};
        uint8_t k = byte();
        if (k < 128)
            return common[k % (sizeof common / sizeof *common)];
        if (k < 160)
            return std::to_string(::getpid());
        size_t n = std::min<size_t>(byte(), left);
        std::string s(reinterpret_cast<const char*>(p), n);
        p += n;
        left -= n;
        return s;
    }
};

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    static Harness h;
    Input in{data, size};
    std::vector<uint64_t> opened_files, opened_dirs;
    while (in.left > 0) {
        uint8_t op = in.byte();
        uint32_t uid = (in.byte() & 1) ? 65534 : 0;
        uint64_t node = h.nodes[in.byte() % h.nodes.size()];
        switch (op % 16) {
        case 0: {
            std::string n = in.name();
            if (n.find('/') != std::string::npos || n.find('\0') != std::string::npos || n.empty() || n.size() > 255)
                break;
            h.send(wire::LOOKUP, node, uid, nullptr, 0, n);
            if (h.last_error == 0 && h.last_body.size() >= sizeof(wire::entry_out)) {
                wire::entry_out e{};
                std::memcpy(&e, h.last_body.data(), sizeof e);
                h.nodes.push_back(e.nodeid);
            }
            break;
        }
        case 1: {
            wire::getattr_in g{};
            h.send(wire::GETATTR, node, uid, &g, sizeof g);
            break;
        }
        case 2:
            h.send(wire::READLINK, node, uid, nullptr, 0);
            break;
        case 3: {
            wire::open_in o{};
            o.flags = (in.byte() & 3) == 0 ? 1 : 0; // O_WRONLY sometimes: refused, read-only mount
            h.send(wire::OPEN, node, uid, &o, sizeof o);
            if (h.last_error == 0 && h.last_body.size() >= sizeof(wire::open_out)) {
                wire::open_out oo{};
                std::memcpy(&oo, h.last_body.data(), sizeof oo);
                opened_files.push_back(oo.fh);
            }
            break;
        }
        case 4:
            if (!opened_files.empty()) {
                wire::read_in r{};
                r.fh = opened_files[in.byte() % opened_files.size()];
                r.offset = in.u64() >> (in.byte() % 64);
                r.size = 1 + in.byte() * 64u;
                h.send(wire::READ, node, uid, &r, sizeof r);
            }
            break;
        case 5: {
            wire::open_in o{};
            h.send(wire::OPENDIR, node, uid, &o, sizeof o);
            if (h.last_error == 0 && h.last_body.size() >= sizeof(wire::open_out)) {
                wire::open_out oo{};
                std::memcpy(&oo, h.last_body.data(), sizeof oo);
                opened_dirs.push_back(oo.fh);
            }
            break;
        }
        case 6:
            if (!opened_dirs.empty()) {
                wire::read_in r{};
                r.fh = opened_dirs[in.byte() % opened_dirs.size()];
                r.offset = in.u64() >> (in.byte() % 64);
                r.size = 64 + in.byte() * 32u;
                h.send(in.byte() & 1 ? wire::READDIRPLUS : wire::READDIR, node, uid, &r, sizeof r);
            }
            break;
        case 7:
            if (node != 1) {
                wire::forget_in f{1};
                h.send(wire::FORGET, node, uid, &f, sizeof f);
            }
            break;
        case 8: {
            wire::access_in a{in.byte() & 7u, 0};
            h.send(wire::ACCESS, node, uid, &a, sizeof a);
            break;
        }
        case 9:
            h.send(wire::STATFS, node, uid, nullptr, 0);
            break;
        case 10: {
            wire::getxattr_in g{in.byte(), 0};
            h.send(wire::GETXATTR, node, uid, &g, sizeof g, "user.x");
            break;
        }
        case 11: {
            wire::getxattr_in g{in.byte(), 0};
            h.send(wire::LISTXATTR, node, uid, &g, sizeof g);
            break;
        }
        case 12: {
            wire::mkdir_in mk{0755, 0};
            std::string n = in.name();
            if (!n.empty() && n.find('/') == std::string::npos && n.find('\0') == std::string::npos && n.size() <= 255)
                h.send(wire::MKDIR, node, uid, &mk, sizeof mk, n);
            break;
        }
        case 14:
            if (!opened_files.empty()) {
                // With FUSE_POLL_SCHEDULE_NOTIFY sometimes: no watcher here, the handle is dropped.
                wire::poll_in p{opened_files[in.byte() % opened_files.size()], in.u64(), in.byte() & 1u,
                                in.byte() * 0x101u};
                h.send(wire::POLL, node, uid, &p, sizeof p);
            }
            break;
        case 15:
            if (!opened_files.empty()) {
                wire::lseek_in l{opened_files[in.byte() % opened_files.size()], in.u64() >> (in.byte() % 64),
                                 in.byte() % 6u, 0};
                h.send(wire::LSEEK, node, uid, &l, sizeof l);
            }
            break;
        default: {
            std::string n = in.name();
            if (!n.empty() && n.find('/') == std::string::npos && n.find('\0') == std::string::npos && n.size() <= 255)
                h.send(wire::UNLINK, node, uid, nullptr, 0, n);
            break;
        }
        }
    }
    // Close what this input opened, as the kernel does at exit.
    for (uint64_t fh : opened_files) {
        wire::release_in r{fh, 0, 0, 0};
        h.send(wire::RELEASE, 1, 0, &r, sizeof r);
    }
    for (uint64_t fh : opened_dirs) {
        wire::release_in r{fh, 0, 0, 0};
        h.send(wire::RELEASEDIR, 1, 0, &r, sizeof r);
    }
    return 0;
}
