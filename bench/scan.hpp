// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Reading a /proc-like tree as ps does; W1's in-process scan, which W5 runs in a loop.

#include <cstddef>

namespace procfsd::bench {

// open/read/close as ps does (procps file2str): read until a short read. Bytes read, or -errno.
long read_whole(int root_fd, const char* path, char* buf, size_t cap);

struct ScanStats {
    double seconds = 0;
    long pids = 0;
    long files = 0;
    long errors = 0;
};

// Readdir of the root, then per pid a stat of its directory and open/read/close of stat,
// status and cmdline.
ScanStats scan_once(int root_fd);

} // namespace procfsd::bench
