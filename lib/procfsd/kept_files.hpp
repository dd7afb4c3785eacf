// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Small kernel files kept open and read again from offset 0, for the resource files
// (resources=cgroup), which read the same few cgroup files at every open: a cgroup file opened
// once costs its path walk and open once. kernfs and procfs make a seq_file's text anew when it
// is read at offset 0, so a kept file reads as a fresh open does, and a kept file never shows
// something else than what it was opened on: once its cgroup is removed it reads ENODEV, once
// its process has ended ESRCH, and the path is opened again (a new cgroup or process of that
// name, or ENOENT).

#include <cstddef>
#include <list>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "procfsd/unique_fd.hpp"

namespace procfsd {

// Reads one small kernel file whole from offset 0 of `fd`, with plain system calls; nullopt,
// errno set, if it fails. Only for files whose seq_file shows one record (the cgroup files the
// resource files read, /proc/<pid>/cgroup): a read shorter than asked is taken as the end,
// which a file of many records (cgroup.procs) does not promise.
std::optional<std::string> read_at_start(int fd);

class KeptFiles {
public:
    // At most `max` descriptors kept (a share of the daemon's: descriptor_budget.hpp); past it
    // the least recently read is closed.
    explicit KeptFiles(size_t max) : max_(max) {}
    KeptFiles(const KeptFiles&) = delete;
    KeptFiles& operator=(const KeptFiles&) = delete;

    // The whole file at `path` (absolute), read from a descriptor kept from an earlier call or
    // opened now; nullopt, errno set, if it cannot be opened or read.
    std::optional<std::string> read(const std::string& path);
    // Descriptors kept now (the `ctl list` counter).
    [[nodiscard]] size_t held() const;

private:
    using Fd = std::shared_ptr<const UniqueFd>; // a read in flight keeps its own reference
    Fd kept(const std::string& path);
    void keep(const std::string& path, Fd fd);
    void drop(const std::string& path, const Fd& fd);

    size_t max_;
    mutable std::mutex mu_;
    std::list<std::string> order_; // most recently read first
    struct Item {
        Fd fd;
        std::list<std::string>::iterator at;
    };
    std::unordered_map<std::string, Item> files_;
};

} // namespace procfsd
