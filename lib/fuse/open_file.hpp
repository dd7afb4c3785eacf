// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "procfsd/node.hpp"
#include "procfsd/policy.hpp"
#include "procfsd/poll_watcher.hpp"
#include "procfsd/unique_fd.hpp"

namespace procfsd {

// One FUSE open of a file: the source file opened for it, read at the caller's offsets so that
// every open keeps the kernel's seq_file semantics.
struct OpenFile {
    UniqueFd fd; // -1 for a computed entry the source does not have
    std::shared_ptr<Node> node;
    Plan plan; // how it was opened: reads and writes run as the caller when it was
    // Content made or cut at open (Plan::content other than `source`), served instead of the
    // source's.
    std::optional<std::string> content;
    // Made by the first FUSE poll of this file (see fuse/poll.cpp).
    std::mutex poll_mu; // guards the pointer, not the state
    std::shared_ptr<PollState> poll;
    Record* saved = nullptr; // in the mount's state file, for the next server

    OpenFile() = default;
    OpenFile(const OpenFile&) = delete;
    OpenFile& operator=(const OpenFile&) = delete;
    // The watch ends before the source closes (fd is destroyed after this body).
    ~OpenFile()
    {
        if (poll)
            poll->detach();
    }
};

// One FUSE opendir: the source directory, positioned per request at the kernel's offsets.
struct OpenDir {
    UniqueFd fd;
    std::shared_ptr<Node> node;
    Plan plan;
    std::mutex mu; // guards the fd's position across concurrent readdir requests
    Record* saved = nullptr; // in the mount's state file, for the next server
};

} // namespace procfsd
