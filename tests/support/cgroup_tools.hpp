// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Cgroups of the tests' own, made only below the cgroup the test process is in (per v1
// hierarchy, or in the v2 tree), and removed in every path: their processes are moved back up
// first, since a cgroup with processes cannot be removed.

#include <sys/types.h>

#include <optional>
#include <string>

namespace procfsd::support {

class TestCgroup {
public:
    // A cgroup `name` below ours in the hierarchy of `controller` ("memory", "cpuset", ...; v1)
    // or in the v2 tree (controller ""). ok() false, problem() says why, if it cannot be made.
    TestCgroup(const std::string& controller, const std::string& name);
    TestCgroup(const TestCgroup&) = delete;
    TestCgroup& operator=(const TestCgroup&) = delete;
    ~TestCgroup();

    [[nodiscard]] bool ok() const noexcept { return !dir_.empty(); }
    [[nodiscard]] const std::string& problem() const noexcept { return problem_; }
    // Its directory, and its path as /proc/<pid>/cgroup names it ("/process_api/x/name").
    [[nodiscard]] const std::string& dir() const noexcept { return dir_; }
    [[nodiscard]] const std::string& path() const noexcept { return path_; }

    // Writes `value` to its file `file`; false (errno set) if the kernel refuses it.
    bool set(const std::string& file, const std::string& value) const;
    std::optional<std::string> get(const std::string& file) const;
    // Moves process `pid` into it.
    bool add(pid_t pid) const { return set("cgroup.procs", std::to_string(pid)); }
    // Moves every process in it back to the parent, then removes it; idempotent.
    void remove();

private:
    std::string dir_, path_, parent_dir_, problem_;
};

} // namespace procfsd::support
