// SPDX-License-Identifier: GPL-2.0-or-later
#include "floor_tree.hpp"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

namespace procfsd::floorfs {

namespace {

long g_pids = 2000;                 // pids 1..g_pids are listed
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
    ino_sys = 8, // after ino_self and ino_thread_self (floor_tree.hpp)
    ino_sys_kernel,
    ino_pid_max,
};
constexpr fuse_ino_t pid_base = 1000;
constexpr fuse_ino_t pid_stride = 8;

enum class PidChild : unsigned { dir = 0, stat, status, cmdline, comm, environ, task, count_ };
constexpr const char* pid_child_names[] = {"",     "stat",    "status", "cmdline",
                                           "comm", "environ", "task"};

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
    {ino_self, ino_root, "self", S_IFLNK | 0777, nullptr},               // the caller's pid
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

} // namespace

void set_listed_pids(long n)
{
    g_pids = n;
}

bool is_link(fuse_ino_t ino)
{
    auto* f = fixed(ino);
    return f && S_ISLNK(f->mode);
}

bool find_child(fuse_ino_t parent, const char* name, fuse_ino_t& ino, double& entry_timeout)
{
    for (auto& f : fixed_nodes)
        if (f.parent == parent && std::strcmp(f.name, name) == 0) {
            ino = f.ino;
            entry_timeout =
                f.ino == ino_self || f.ino == ino_thread_self ? pid_entry_timeout : short_timeout;
            return true;
        }
    entry_timeout = pid_entry_timeout;
    if (parent == ino_root) {
        long pid = parse_pid(name);
        ino = pid_child_ino(pid, PidChild::dir);
        return pid != 0;
    }
    long pid = 0;
    PidChild c{};
    if (!pid_ino(parent, pid, c) || c != PidChild::dir)
        return false;
    for (unsigned i = 1; i < static_cast<unsigned>(PidChild::count_); ++i)
        if (std::strcmp(pid_child_names[i], name) == 0) {
            ino = pid_child_ino(pid, static_cast<PidChild>(i));
            return true;
        }
    return false;
}

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
            "PPid:\t1\nTracerPid:\t0\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\nFDSize:\t256\nGroups:\t "
            "\n"
            "NStgid:\t%ld\nNSpid:\t%ld\nNSpgid:\t%ld\nNSsid:\t%ld\nKthread:\t0\n"
            "VmPeak:\t    2920 kB\nVmSize:\t    2920 kB\nVmLck:\t       0 kB\nVmPin:\t       0 kB\n"
            "VmHWM:\t    1816 kB\nVmRSS:\t    1816 kB\nRssAnon:\t     108 kB\nRssFile:\t    1708 "
            "kB\n"
            "RssShmem:\t       0 kB\nVmData:\t     224 kB\nVmStk:\t     132 kB\nVmExe:\t      20 "
            "kB\n"
            "VmLib:\t    1528 kB\nVmPTE:\t      44 kB\nVmSwap:\t       0 kB\nHugetlbPages:\t       "
            "0 kB\n"
            "CoreDumping:\t0\nTHP_enabled:\t1\nuntag_mask:\t0xffffffffffffffff\nThreads:\t1\n"
            "SigQ:\t0/96365\nSigPnd:\t0000000000000000\nShdPnd:\t0000000000000000\n"
            "SigBlk:\t0000000000000000\nSigIgn:\t0000000000000006\nSigCgt:\t0000000000000000\n"
            "CapInh:\t0000000000000000\nCapPrm:\t000001fffeffffff\nCapEff:\t000001fffeffffff\n"
            "CapBnd:\t000001fffeffffff\nCapAmb:\t0000000000000000\nNoNewPrivs:\t0\nSeccomp:\t0\n"
            "Seccomp_filters:\t0\nSpeculation_Store_Bypass:\tvulnerable\n"
            "SpeculationIndirectBranch:\talways "
            "enabled\nCpus_allowed:\t3\nCpus_allowed_list:\t0-1\n"
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

bool dir_item(fuse_ino_t dir, size_t index, DirItem& out)
{
    if (index == 0) {
        out = {".", dir, S_IFDIR, false};
        return true;
    }
    if (index == 1) {
        out = {"..", ino_root, S_IFDIR, false};
        return true;
    }
    size_t i = index - 2;
    if (dir == ino_root || dir == ino_sys || dir == ino_sys_kernel) {
        for (auto& f : fixed_nodes) {
            if (f.parent != dir)
                continue;
            if (i == 0) {
                out = {f.name, f.ino, f.mode, false};
                return true;
            }
            --i;
        }
        if (dir != ino_root || i >= static_cast<size_t>(g_pids))
            return false;
        long pid = static_cast<long>(i) + 1;
        out = {std::to_string(pid), pid_child_ino(pid, PidChild::dir), S_IFDIR, true};
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
               static_cast<mode_t>(pc == PidChild::task ? S_IFDIR : S_IFREG), false};
        return true;
    }
    return false; // task/ is listed empty: a directory alias would confuse the kernel
}

} // namespace procfsd::floorfs
