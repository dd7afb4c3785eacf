// SPDX-License-Identifier: GPL-2.0-or-later
// access-probe MOUNT PID...: installed setuid root by the access test and run by an
// unprivileged user. For every ptrace-gated entry of each process, asks access(2) and
// faccessat(AT_EACCESS), following links and not, for each mode, of /proc and of MOUNT, and
// prints what differs.
// The first line says whose ids it runs with, so the test knows the setuid bit took.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

namespace {

struct Entry {
    const char* name;
    // A link whose text does not resolve through FUSE (README, "Magic links are text"): asked
    // of the link itself only.
    bool nofollow_only = false;
};
const Entry entries[] = {
    {"environ"}, {"auxv"}, {"mem"}, {"maps"}, {"smaps"}, {"smaps_rollup"}, {"pagemap"},
    {"numa_maps"}, {"io"}, {"syscall"}, {"personality"}, {"stack"}, {"wchan"}, {"stat"},
    {"timers"}, {"fd"}, {"fdinfo"}, {"map_files"}, {"ns"}, {"fd/0"}, {"fdinfo/0"},
    {"ns/pid", true}, {"exe"}, {"cwd"}, {"root"}, {"status"}, {"timerslack_ns"},
};

std::string answer(const std::string& path, int mode, int flags)
{
    errno = 0;
    if (::faccessat(AT_FDCWD, path.c_str(), mode, flags) == 0)
        return "0";
    return strerrorname_np(errno);
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 3)
        return 2;
    std::printf("ruid %u euid %u\n", ::getuid(), ::geteuid());
    std::string mount = argv[1];
    for (int i = 2; i < argc; ++i)
        for (const Entry& e : entries)
            for (int mode : {F_OK, R_OK, W_OK, X_OK, R_OK | W_OK})
                for (int flags : {0, AT_EACCESS, AT_SYMLINK_NOFOLLOW, AT_EACCESS | AT_SYMLINK_NOFOLLOW}) {
                    if (e.nofollow_only && !(flags & AT_SYMLINK_NOFOLLOW))
                        continue;
                    std::string rel = std::string(argv[i]) + "/" + e.name;
                    std::string a = answer("/proc/" + rel, mode, flags);
                    std::string b = answer(mount + "/" + rel, mode, flags);
                    if (a != b)
                        std::printf("%s mode %d%s%s: /proc %s, procfsd %s\n", rel.c_str(), mode,
                                    flags & AT_EACCESS ? " AT_EACCESS" : "",
                                    flags & AT_SYMLINK_NOFOLLOW ? " AT_SYMLINK_NOFOLLOW" : "",
                                    a.c_str(), b.c_str());
                }
    return 0;
}
