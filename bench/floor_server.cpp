// SPDX-License-Identifier: GPL-2.0-or-later
// procfsd-floor: the "FUSE floor" of the benchmark (README, Performance). A libfuse low-level
// server built and run exactly as procfsd runs its sessions (same libfuse, fuse_session_loop_mt
// with at most 16 threads and clone_fd 0, direct_io + noflush on open, allow_other, no symlink
// caching, parallel dirops, no splice, the same entry and attribute timeouts as a hidepid=off
// mount), that answers the operations procfsd answers (floor_operations.cpp) with constant data,
// for a fake tree shaped like /proc (floor_tree.hpp).
//
// Whatever it costs to serve a request here is what any FUSE /proc must pay on this machine;
// what procfsd costs beyond it is procfsd's own work.
//
//   procfsd-floor [--pids N] MOUNTPOINT      (foreground; SIGTERM/SIGINT unmount and exit)

#include "command_line.hpp"
#include "floor_operations.hpp"
#include "floor_tree.hpp"

#include <fuse_lowlevel.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

using namespace procfsd;

int main(int argc, char** argv)
{
    CLI::App app{"procfsd-floor: the FUSE floor of procfsd-bench (README, Performance)"};
    long pids = 2000;
    std::string mountpoint;
    app.add_option("--pids", pids, "pids listed at the root, 1..N (default 2000)")
        ->check(CLI::Range(1L, 10'000'000L));
    bool io_uring = false;
    app.add_flag("--io-uring", io_uring,
                 "ask for FUSE over io_uring, at procfsd's queue depth (the kernel must allow it)");
    app.add_option("mountpoint", mountpoint,
                   "where to mount (foreground; SIGTERM/SIGINT unmount and exit)")
        ->required();
    if (int status = bench::parse_command_line(app, argc, argv); status >= 0)
        return status;
    floorfs::set_listed_pids(pids);

    std::string opts = "fsname=procfsd-floor,subtype=procfsd-floor";
    if (::geteuid() == 0)
        opts += ",allow_other";
    std::vector<const char*> fargv{"procfsd-floor", "-o", opts.c_str()};
    if (io_uring) {
        fargv.push_back("-o");
        fargv.push_back("io_uring,io_uring_q_depth=2");
    }
    fuse_args args =
        FUSE_ARGS_INIT(static_cast<int>(fargv.size()), const_cast<char**>(fargv.data()));
    fuse_session* se =
        fuse_session_new(&args, &floorfs::operations(), sizeof(fuse_lowlevel_ops), nullptr);
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
