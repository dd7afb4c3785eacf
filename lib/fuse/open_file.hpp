// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <fuse_lowlevel.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "procfsd/mount.hpp"
#include "procfsd/node.hpp"
#include "procfsd/unique_fd.hpp"

namespace procfsd {

// One FUSE open of a file: the source file opened for it, read at the caller's offsets so that
// every open keeps the kernel's seq_file semantics.
struct OpenFile {
    UniqueFd fd;
    std::shared_ptr<Node> node;
    bool checked = false; // reads and writes run as the caller (checks at every read)
    // What the kernel would give this reader instead of the source's content (the daemon's own
    // stat and wchan to a reader without ptrace access; see own_process.hpp).
    std::optional<std::string> content;

    static OpenFile& from(fuse_file_info* fi) { return *reinterpret_cast<OpenFile*>(fi->fh); }
};

// One FUSE opendir: the source directory, positioned per request at the kernel's offsets.
struct OpenDir {
    UniqueFd fd;
    std::shared_ptr<Node> node;
    bool checked = false;
    std::mutex mu; // guards the fd's position across concurrent readdir requests

    static OpenDir& from(fuse_file_info* fi) { return *reinterpret_cast<OpenDir*>(fi->fh); }
};

// Gives a handle acquired with Mount::acquire_handle() back on every path that does not keep it.
class HandleGuard {
public:
    explicit HandleGuard(Mount& mount) : mount_(mount) {}
    HandleGuard(const HandleGuard&) = delete;
    HandleGuard& operator=(const HandleGuard&) = delete;
    ~HandleGuard()
    {
        if (!kept_)
            mount_.release_handle();
    }
    void keep() noexcept { kept_ = true; }

private:
    Mount& mount_;
    bool kept_ = false;
};

} // namespace procfsd
