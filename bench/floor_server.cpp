// SPDX-License-Identifier: GPL-2.0-or-later
// procfsd-floor: the "FUSE floor" of the benchmark (README, Performance). A libfuse low-level server built
// and run exactly as procfsd runs its sessions (same libfuse, fuse_session_loop_mt with at most
// 16 threads and clone_fd 0, direct_io + noflush on open, allow_other, no symlink caching,
// parallel dirops, no splice, the same entry and attribute timeouts as a hidepid=off mount), that
// answers the operations procfsd answers (lookup, getattr, readdir(plus), open, read, release,
// readlink, plus opendir/releasedir/access/forget) with constant data, for a fake tree shaped
// like /proc:
//
//   /meminfo /uptime /stat /loadavg /self -> "<caller>" /thread-self /sys/kernel/pid_max
//   /<pid>/{stat,status,cmdline,comm,environ,task/ (empty)}   listed for pid = 1 .. --pids N,
//   found for any pid (ps looks up its own)
//
// Whatever it costs to serve a request here is what any FUSE /proc must pay on this machine;
// what procfsd costs beyond it is procfsd's own work.
//
//   procfsd-floor [--pids N] MOUNTPOINT      (foreground; SIGTERM/SIGINT unmount and exit)

#include <fuse_lowlevel.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

namespace {

// The timeouts of a procfsd hidepid=off mount with its defaults (entry_timeout=3600,
// attr_timeout=1): pid entries until reaped, everything else for a second.
constexpr double pid_entry_timeout = 3600;
constexpr double short_timeout = 1;

long g_pids = 2000;        // pids 1..g_pids are listed
constexpr long pid_limit = 4194304; // any pid up to the kernel's PID_MAX_LIMIT can be looked up
                                    // (ps looks up its own pid; self names the caller)

// Inode numbers. Fixed nodes below 100; pid p's directory is pid_base + p * pid_stride, its
// children follow it.
enum : fuse_ino_t {
    ino_root = FUSE_ROOT_ID,
    ino_meminfo = 2,
    ino_uptime,
    ino_stat,
    ino_loadavg,
    ino_self,
    ino_thread_self,
    ino_sys,
    ino_sys_kernel,
    ino_pid_max,
};
constexpr fuse_ino_t pid_base = 1000;
constexpr fuse_ino_t pid_stride = 8;

enum class PidChild : unsigned { dir = 0, stat, status, cmdline, comm, environ, task, count_ };
constexpr const char* pid_child_names[] = {"", "stat", "status", "cmdline", "comm", "environ", "task"};

struct Fixed {
    fuse_ino_t ino;
    fuse_ino_t parent;
    const char* name;
    mode_t mode;
    const char* content; // file content or link target
};

constexpr char meminfo_text[] =
    "MemTotal:       24684096 kB\nMemFree:        23554688 kB\nMemAvailable:   23588804 kB\n"
    "Buffers:           10876 kB\nCached:           270688 kB\nSwapCached:            0 kB\n"
    "Active:           304340 kB\nInactive:         133692 kB\nActive(anon):     166236 kB\n"
    "Inactive(anon):        0 kB\nActive(file):     138104 kB\nInactive(file):   133692 kB\n"
    "Unevictable:           0 kB\nMlocked:               0 kB\nSwapTotal:             0 kB\n"
    "SwapFree:              0 kB\nZswap:                 0 kB\nZswapped:              0 kB\n"
    "Dirty:               136 kB\nWriteback:             0 kB\nAnonPages:        156488 kB\n"
    "Mapped:           118592 kB\nShmem:              9748 kB\nKReclaimable:      42424 kB\n"
    "Slab:             118892 kB\nSReclaimable:      42424 kB\nSUnreclaim:        76468 kB\n"
    "KernelStack:        3488 kB\nPageTables:         5408 kB\nSecPageTables:         0 kB\n"
    "NFS_Unstable:          0 kB\nBounce:                0 kB\nWritebackTmp:          0 kB\n"
    "CommitLimit:    12342048 kB\nCommitted_AS:     736512 kB\nVmallocTotal:   34359738367 kB\n"
    "VmallocUsed:       14572 kB\nVmallocChunk:          0 kB\nPercpu:             1632 kB\n"
    "AnonHugePages:     71680 kB\nShmemHugePages:        0 kB\nShmemPmdMapped:        0 kB\n"
    "FileHugePages:         0 kB\nFilePmdMapped:         0 kB\nUnaccepted:            0 kB\n"
    "HugePages_Total:       0\nHugePages_Free:        0\nHugePages_Rsvd:        0\n"
    "HugePages_Surp:        0\nHugepagesize:       2048 kB\nHugetlb:               0 kB\n"
    "DirectMap4k:       90112 kB\nDirectMap2M:     8298496 kB\nDirectMap1G:    18874368 kB\n";

constexpr char stat_text[] =
    "cpu  27731 0 19212 529148 312 0 1088 0 0 0\ncpu0 13926 0 9612 264406 160 0 553 0 0 0\n"
    "cpu1 13805 0 9600 264742 152 0 535 0 0 0\nintr 2954471 0 0 0 0 0 0 0 0 0 0 0\n"
    "ctxt 5393920\nbtime 1700000000\nprocesses 16104\nprocs_running 1\nprocs_blocked 0\n"
    "softirq 1407219 0 390442 0 23 0 0 0 487541 0 529213\n";

const Fixed fixed_nodes[] = {
    {ino_meminfo, ino_root, "meminfo", S_IFREG | 0444, meminfo_text},
    {ino_uptime, ino_root, "uptime", S_IFREG | 0444, "2776.35 4131.40\n"},
    {ino_stat, ino_root, "stat", S_IFREG | 0444, stat_text},
    {ino_loadavg, ino_root, "loadavg", S_IFREG | 0444, "0.52 0.31 0.20 1/181 16104\n"},
    {ino_self, ino_root, "self", S_IFLNK | 0777, nullptr},        // the caller's pid
    {ino_thread_self, ino_root, "thread-self", S_IFLNK | 0777, nullptr}, // <pid>/task/<pid>
    {ino_sys, ino_root, "sys", S_IFDIR | 0555, nullptr},
    {ino_sys_kernel, ino_sys, "kernel", S_IFDIR | 0555, nullptr},
    {ino_pid_max, ino_sys_kernel, "pid_max", S_IFREG | 0644, "32768\n"},
};

const Fixed* fixed(fuse_ino_t ino)
{
    for (auto& f : fixed_nodes)
        if (f.ino == ino)
            return &f;
    return nullptr;
}

bool pid_ino(fuse_ino_t ino, long& pid, PidChild& child)
{
    if (ino < pid_base + pid_stride)
        return false;
    pid = static_cast<long>((ino - pid_base) / pid_stride);
    auto c = static_cast<unsigned>((ino - pid_base) % pid_stride);
    if (pid < 1 || pid > pid_limit || c >= static_cast<unsigned>(PidChild::count_))
        return false;
    child = static_cast<PidChild>(c);
    return true;
}

fuse_ino_t pid_child_ino(long pid, PidChild c)
{
    return pid_base + static_cast<fuse_ino_t>(pid) * pid_stride + static_cast<fuse_ino_t>(c);
}

long parse_pid(const char* name)
{
    if (*name < '1' || *name > '9')
        return 0;
    char* end = nullptr;
    long v = std::strtol(name, &end, 10);
    return (*end == '\0' && v >= 1 && v <= pid_limit) ? v : 0;
}

// Constant content, with the pid printed where /proc prints it.
std::string content(fuse_ino_t ino)
{
    if (auto* f = fixed(ino))
        return f->content ? f->content : "";
    long pid = 0;
    PidChild c{};
    if (!pid_ino(ino, pid, c))
        return {};
    char buf[2048];
    int n = 0;
    switch (c) {
    case PidChild::stat:
        n = std::snprintf(buf, sizeof buf,
                          "%ld (sleep) S 1 %ld %ld 0 -1 4194304 128 0 0 0 0 0 0 0 20 0 1 0 277613 "
                          "2990080 411 18446744073709551615 94105849094144 94105849112073 "
                          "140737205218544 0 0 0 0 6 0 1 0 0 17 0 0 0 0 0 0 94105849126160 "
                          "94105849127424 94105851392000 140737205222034 140737205222044 "
                          "140737205222044 140737205223401 0\n",
                          pid, pid, pid);
        break;
    case PidChild::status:
        n = std::snprintf(
            buf, sizeof buf,
            "Name:\tsleep\nUmask:\t0022\nState:\tS (sleeping)\nTgid:\t%ld\nNgid:\t0\nPid:\t%ld\n"
            "PPid:\t1\nTracerPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t256\nGroups:\t \n"
            "NStgid:\t%ld\nNSpid:\t%ld\nNSpgid:\t%ld\nNSsid:\t%ld\nKthread:\t0\n"
            "VmPeak:\t    2920 kB\nVmSize:\t    2920 kB\nVmLck:\t       0 kB\nVmPin:\t       0 kB\n"
            "VmHWM:\t    1816 kB\nVmRSS:\t    1816 kB\nRssAnon:\t     108 kB\nRssFile:\t    1708 kB\n"
            "RssShmem:\t       0 kB\nVmData:\t     224 kB\nVmStk:\t     132 kB\nVmExe:\t      20 kB\n"
            "VmLib:\t    1528 kB\nVmPTE:\t      44 kB\nVmSwap:\t       0 kB\nHugetlbPages:\t       0 kB\n"
            "CoreDumping:\t0\nTHP_enabled:\t1\nuntag_mask:\t0xffffffffffffffff\nThreads:\t1\n"
            "SigQ:\t0/96365\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\n"
            "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000006\nSigCgt:\t0000000000000000\n"
            "CapInh:\t0000000000000000\nCapPrm:\t000001fffeffffff\nCapEff:\t000001fffeffffff\n"
            "CapBnd:\t000001fffeffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t0\n"
            "Seccomp_filters:\t0\nSpeculation_Store_Bypass:\tvulnerable\n"
            "SpeculationIndirectBranch:\talways enabled\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\n"
            "Mems_allowed:\t00000000,00000000,00000000,00000000,00000000,00000000,00000000,"
            "00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,"
            "00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,00000000,"
            "00000000,00000000,00000000,00000000,00000000,00000000,00000001\n"
            "Mems_allowed_list:\t0\nvoluntary_ctxt_switches:\t1\nnonvoluntary_ctxt_switches:\t0\n",
            pid, pid, pid, pid, pid, pid);
        break;
    case PidChild::cmdline:
        return std::string("sleep\0infinity\0", 15);
    case PidChild::comm:
        return "sleep\n";
    default:
        return {};
    }
    return std::string(buf, static_cast<size_t>(n > 0 ? n : 0));
}

bool attributes(fuse_ino_t ino, struct stat& st)
{
    st = {};
    st.st_ino = ino;
    st.st_uid = 0;
    st.st_gid = 0;
    st.st_blksize = 1024;
    st.st_atim = st.st_mtim = st.st_ctim = timespec{1700000000, 0};
    if (ino == ino_root) {
        st.st_mode = S_IFDIR | 0555;
        st.st_nlink = 2;
        return true;
    }
    if (auto* f = fixed(ino)) {
        st.st_mode = f->mode;
        st.st_nlink = S_ISDIR(f->mode) ? 2 : 1;
        return true;
    }
    long pid = 0;
    PidChild c{};
    if (!pid_ino(ino, pid, c))
        return false;
    switch (c) {
    case PidChild::dir:
        st.st_mode = S_IFDIR | 0555;
        st.st_nlink = 9;
        break;
    case PidChild::task:
        st.st_mode = S_IFDIR | 0555;
        st.st_nlink = 3;
        break;
    case PidChild::environ:
        st.st_mode = S_IFREG | 0400;
        st.st_nlink = 1;
        break;
    default:
        st.st_mode = S_IFREG | 0444;
        st.st_nlink = 1;
        break;
    }
    return true;
}

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

// --- operations -------------------------------------------------------------------------------

void op_init(void*, fuse_conn_info* conn)
{
    // As procfsd: no symlink caching, parallel dirops, no splice.
    conn->want &= ~FUSE_CAP_CACHE_SYMLINKS;
    if (conn->capable & FUSE_CAP_PARALLEL_DIROPS)
        conn->want |= FUSE_CAP_PARALLEL_DIROPS;
    conn->want &= ~(FUSE_CAP_SPLICE_READ | FUSE_CAP_SPLICE_WRITE | FUSE_CAP_SPLICE_MOVE);
}

void op_lookup(fuse_req_t req, fuse_ino_t parent, const char* name)
{
    for (auto& f : fixed_nodes)
        if (f.parent == parent && std::strcmp(f.name, name) == 0) {
            reply_entry(req, f.ino, f.ino == ino_self || f.ino == ino_thread_self ? pid_entry_timeout
                                                                                  : short_timeout);
            return;
        }
    if (parent == ino_root) {
        if (long pid = parse_pid(name)) {
            reply_entry(req, pid_child_ino(pid, PidChild::dir), pid_entry_timeout);
            return;
        }
    } else {
        long pid = 0;
        PidChild c{};
        if (pid_ino(parent, pid, c)) {
            if (c == PidChild::dir) {
                for (unsigned i = 1; i < static_cast<unsigned>(PidChild::count_); ++i)
                    if (std::strcmp(pid_child_names[i], name) == 0) {
                        reply_entry(req, pid_child_ino(pid, static_cast<PidChild>(i)), pid_entry_timeout);
                        return;
                    }
            }
        }
    }
    fuse_reply_err(req, ENOENT);
}

void op_forget(fuse_req_t req, fuse_ino_t, uint64_t) { fuse_reply_none(req); }

void op_forget_multi(fuse_req_t req, size_t, fuse_forget_data*) { fuse_reply_none(req); }

void op_getattr(fuse_req_t req, fuse_ino_t ino, fuse_file_info*)
{
    struct stat st{};
    if (!attributes(ino, st)) {
        fuse_reply_err(req, ENOENT);
        return;
    }
    fuse_reply_attr(req, &st, short_timeout);
}

void op_readlink(fuse_req_t req, fuse_ino_t ino)
{
    auto* f = fixed(ino);
    if (!f || !S_ISLNK(f->mode)) {
        fuse_reply_err(req, EINVAL);
        return;
    }
    // As procfsd: self names the caller (here its thread id, which the request carries).
    pid_t pid = fuse_req_ctx(req)->pid;
    char text[64];
    if (ino == ino_self)
        std::snprintf(text, sizeof text, "%d", static_cast<int>(pid));
    else
        std::snprintf(text, sizeof text, "%d/task/%d", static_cast<int>(pid), static_cast<int>(pid));
    fuse_reply_readlink(req, text);
}

void op_access(fuse_req_t req, fuse_ino_t, int) { fuse_reply_err(req, 0); }

void op_open(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi)
{
    struct stat st{};
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

void op_release(fuse_req_t req, fuse_ino_t, fuse_file_info*) { fuse_reply_err(req, 0); }

void op_opendir(fuse_req_t req, fuse_ino_t ino, fuse_file_info* fi)
{
    struct stat st{};
    if (!attributes(ino, st) || !S_ISDIR(st.st_mode)) {
        fuse_reply_err(req, ENOTDIR);
        return;
    }
    fi->fh = 0;
    fuse_reply_open(req, fi);
}

void op_releasedir(fuse_req_t req, fuse_ino_t, fuse_file_info*) { fuse_reply_err(req, 0); }

struct DirItem {
    std::string name;
    fuse_ino_t ino;
    mode_t mode;
};

// Entry `index` of a directory listing (0 ".", 1 "..", then the children); false past the end.
bool dir_item(fuse_ino_t dir, size_t index, DirItem& out)
{
    if (index == 0) {
        out = {".", dir, S_IFDIR};
        return true;
    }
    if (index == 1) {
        out = {"..", ino_root, S_IFDIR};
        return true;
    }
    size_t i = index - 2;
    if (dir == ino_root || dir == ino_sys || dir == ino_sys_kernel) {
        for (auto& f : fixed_nodes) {
            if (f.parent != dir)
                continue;
            if (i == 0) {
                out = {f.name, f.ino, f.mode};
                return true;
            }
            --i;
        }
        if (dir != ino_root || i >= static_cast<size_t>(g_pids))
            return false;
        long pid = static_cast<long>(i) + 1;
        out = {std::to_string(pid), pid_child_ino(pid, PidChild::dir), S_IFDIR};
        return true;
    }
    long pid = 0;
    PidChild c{};
    if (!pid_ino(dir, pid, c))
        return false;
    if (c == PidChild::dir) {
        size_t child = i + 1;
        if (child >= static_cast<size_t>(PidChild::count_))
            return false;
        auto pc = static_cast<PidChild>(child);
        out = {pid_child_names[child], pid_child_ino(pid, pc),
               static_cast<mode_t>(pc == PidChild::task ? S_IFDIR : S_IFREG)};
        return true;
    }
    return false; // task/ is listed empty: a directory alias would confuse the kernel
}

// As procfsd: READDIRPLUS gives the pid directories listed at the root with their entries
// (lookups), everything else without (node id 0).
void list(fuse_req_t req, fuse_ino_t ino, size_t size, off_t off, bool plus)
{
    std::vector<char> buf(size);
    size_t used = 0;
    DirItem item;
    for (size_t index = static_cast<size_t>(off < 0 ? 0 : off); dir_item(ino, index, item); ++index) {
        fuse_entry_param e{};
        e.attr.st_ino = item.ino;
        e.attr.st_mode = item.mode;
        size_t room = size - used;
        auto next = static_cast<off_t>(index + 1);
        if (!plus) {
            size_t len = fuse_add_direntry(req, buf.data() + used, room, item.name.c_str(), &e.attr, next);
            if (len > room)
                break;
            used += len;
            continue;
        }
        if (fuse_add_direntry_plus(req, nullptr, 0, item.name.c_str(), nullptr, 0) > room)
            break;
        if (ino == ino_root && parse_pid(item.name.c_str())) {
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

int usage()
{
    std::fprintf(stderr, "usage: procfsd-floor [--pids N] MOUNTPOINT\n");
    return 2;
}

} // namespace

int main(int argc, char** argv)
{
    std::string mountpoint;
    for (int i = 1; i < argc; ++i) {
        std::string_view a = argv[i];
        if (a == "--pids" && i + 1 < argc) {
            g_pids = std::strtol(argv[++i], nullptr, 10);
            if (g_pids < 1 || g_pids > 10'000'000)
                return usage();
        } else if (a == "-h" || a == "--help") {
            usage();
            return 0;
        } else if (!a.empty() && a.front() != '-' && mountpoint.empty()) {
            mountpoint = a;
        } else {
            return usage();
        }
    }
    if (mountpoint.empty())
        return usage();

    std::string opts = "fsname=procfsd-floor,subtype=procfsd-floor";
    if (::geteuid() == 0)
        opts += ",allow_other";
    std::vector<const char*> fargv{"procfsd-floor", "-o", opts.c_str()};
    fuse_args args = FUSE_ARGS_INIT(static_cast<int>(fargv.size()), const_cast<char**>(fargv.data()));
    fuse_session* se = fuse_session_new(&args, &operations(), sizeof(fuse_lowlevel_ops), nullptr);
    if (!se) {
        std::fprintf(stderr, "procfsd-floor: cannot create a FUSE session\n");
        return 1;
    }
    if (fuse_set_signal_handlers(se) != 0) {
        fuse_session_destroy(se);
        return 1;
    }
    if (fuse_session_mount(se, mountpoint.c_str()) != 0) {
        std::fprintf(stderr, "procfsd-floor: cannot mount %s\n", mountpoint.c_str());
        fuse_remove_signal_handlers(se);
        fuse_session_destroy(se);
        return 1;
    }
    // The loop settings of procfsd's Mount::start().
    fuse_loop_config* cfg = fuse_loop_cfg_create();
    fuse_loop_cfg_set_max_threads(cfg, 16);
    fuse_loop_cfg_set_clone_fd(cfg, 0);
    int rv = fuse_session_loop_mt(se, cfg);
    fuse_loop_cfg_destroy(cfg);
    fuse_session_unmount(se);
    fuse_remove_signal_handlers(se);
    fuse_session_destroy(se);
    return rv < 0 ? 1 : 0;
}
