// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <fuse_lowlevel.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "procfsd/mount.hpp"
#include "procfsd/node.hpp"
#include "procfsd/poll_watcher.hpp"
#include "procfsd/unique_fd.hpp"

namespace procfsd {

// One FUSE open of a file: the source file opened for it, read at the caller's offsets so that
// every open keeps the kernel's seq_file semantics.
struct OpenFile {
    UniqueFd fd;
    std::shared_ptr<Node> node;
    bool checked = false; // reads and writes run as the caller (checks at every read)
    // What the kernel would give this reader instead of the source's content (the daemon's own
    // stat and wchan to a reader without ptrace access; see judged_by_daemon.hpp).
    std::optional<std::string> content;
    // Made by the first FUSE poll of this file (see fuse/poll.cpp).
    std::mutex poll_mu; // guards the pointer, not the state
    std::shared_ptr<PollState> poll;

    OpenFile() = default;
    OpenFile(const OpenFile&) = delete;
    OpenFile& operator=(const OpenFile&) = delete;
    // The watch ends before the source closes (fd is destroyed after this body).
    ~OpenFile()
    {
        if (poll)
            poll->detach();
    }

    // The open file behind a request's handle; null if it is not (or no longer) open.
    static std::shared_ptr<OpenFile> from(Mount& mount, const fuse_file_info* fi)
    {
        return std::static_pointer_cast<OpenFile>(mount.handle(fi->fh));
    }
    // The same for a request on an open file: when there is none, replies EBADF and returns null.
    static std::shared_ptr<OpenFile> of_request(fuse_req_t req, Mount& mount, const fuse_file_info* fi)
    {
        auto file = from(mount, fi);
        if (!file)
            fuse_reply_err(req, EBADF);
        return file;
    }
};

// One FUSE opendir: the source directory, positioned per request at the kernel's offsets.
struct OpenDir {
    UniqueFd fd;
    std::shared_ptr<Node> node;
    bool checked = false;
    std::mutex mu; // guards the fd's position across concurrent readdir requests

    static std::shared_ptr<OpenDir> from(Mount& mount, const fuse_file_info* fi)
    {
        return std::static_pointer_cast<OpenDir>(mount.handle(fi->fh));
    }
};

} // namespace procfsd
