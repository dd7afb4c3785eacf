// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Whose container a reader is in (resources=cgroup), as LXCFS decides it: the cgroup of the
// init of the reader's pid namespace, so that every process of a container sees the whole
// container, also from its sub-cgroups; the reader's own cgroup when it shares the daemon's pid
// namespace; or the one cgroup a mount pins (resources=cgroup:PATH). One finder per daemon.

#include <sys/types.h>

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "procfsd/cgroup.hpp"
#include "procfsd/kept_files.hpp"
#include "procfsd/load_sampler.hpp"
#include "procfsd/unique_fd.hpp"

namespace procfsd {

class Caller;

class Containers {
public:
    // `kept`: descriptors it may keep open (cgroup files and readers' cgroup files).
    Containers(cgroup::Layout layout, size_t kept);
    Containers(const Containers&) = delete;
    Containers& operator=(const Containers&) = delete;

    [[nodiscard]] const cgroup::Layout& layout() const noexcept { return layout_; }
    // Containers' load averages, sampled while read.
    [[nodiscard]] LoadSampler& load() noexcept { return load_; }
    [[nodiscard]] const LoadSampler& load() const noexcept { return load_; }

    // The cgroups of the reader's container, read now (a process may move between cgroups);
    // null, errno set, if the reader or its namespace's init is gone.
    std::shared_ptr<const cgroup::Membership> of(const Caller& reader);

    // The init of the reader's pid namespace, in the daemon's numbering; 0 when the reader
    // shares the daemon's namespace; nullopt, errno set, if the reader is gone.
    std::optional<pid_t> namespace_init(const Caller& reader);

    // The cgroup files the resource files read, kept open.
    [[nodiscard]] KeptFiles& files() noexcept { return files_; }

    // Namespaces whose init is cached (the `ctl list` counter).
    [[nodiscard]] size_t cached() const;
    // Descriptors kept: cgroup files and readers' (the `ctl list` counter).
    [[nodiscard]] size_t kept() const;

private:
    // A reader's process as it is now: its pid namespace, and its /proc/<pid>/cgroup's text.
    struct Seen {
        ino_t ns = 0;
        std::string cgroup;
    };
    // Read from a /proc/<tgid>/cgroup kept per process: a kept one that still reads is still
    // that process (once it ends it reads ESRCH), so the namespace found when it was opened
    // holds, and a reader in a loop costs one read. nullopt, errno set, if the reader is gone.
    std::optional<Seen> seen(const Caller& reader);

    // The init of pid namespace `ns` (an inode number) in the daemon's numbering, found
    // without forking (NS_GET_PID_FROM_PIDNS) and kept with a pidfd that tells whether it is
    // still that init: a namespace's inode may be given again once it is freed.
    pid_t init_of(ino_t ns, pid_t reader_tid);

    // /proc/<pid>/cgroup's text parsed, kept per text: the same few texts are read at every
    // open of a resource file, and the parse is a pure function of the text and the layout.
    std::shared_ptr<const cgroup::Membership> parsed(const std::string& text);

    struct Init {
        pid_t pid = 0;
        UniqueFd pidfd;
    };
    struct Reader {
        ino_t ns = 0;
        std::shared_ptr<const UniqueFd> cgroup; // its /proc/<tgid>/cgroup
    };
    cgroup::Layout layout_;
    LoadSampler load_;
    KeptFiles files_;
    size_t max_readers_;
    ino_t own_ns_ = 0;
    mutable std::mutex mu_;
    std::unordered_map<ino_t, Init> inits_;     // at most max_cached
    std::unordered_map<pid_t, Reader> readers_; // at most max_readers_
    std::unordered_map<std::string, std::shared_ptr<const cgroup::Membership>> parsed_; // likewise
};

// What one mount's resource files are rendered for: the daemon's finder, and the cgroup the
// mount pins ("" to find each reader's).
struct ResourceScope {
    ResourceScope(Containers& c, const std::string& pinned_path);

    Containers& containers;
    std::shared_ptr<const cgroup::Membership> pinned; // null: each reader's container

    // The reader's container's cgroups (see Containers::of).
    [[nodiscard]] std::shared_ptr<const cgroup::Membership> of(const Caller& reader) const;
    // The reader's pid namespace's init (see Containers::namespace_init).
    [[nodiscard]] std::optional<pid_t> namespace_init(const Caller& reader) const
    {
        return containers.namespace_init(reader);
    }
};

} // namespace procfsd
