// SPDX-License-Identifier: GPL-2.0-or-later
// The mechanism for content the daemon computes (procfsd/entry.hpp): one row and one function
// make a file that is looked up, listed and read like any other. Shown on a test-only tree
// served by an in-process mount; the tree users see is the kernel's and computes nothing.
#include <catch2/catch_test_macros.hpp>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <array>

#include "harness.hpp"
#include "procfsd/entry.hpp"
#include "procfsd/mount.hpp"
#include "procfsd/process_tracker.hpp"

using namespace procfsd;
using namespace procfsd::test;

namespace {

sys::Result<std::string> greeting(const ContentRequest& r)
{
    return {fmt::format("computed for uid {}\n", r.caller.fsuid()), 0};
}

sys::Result<std::string> fixed_loadavg(const ContentRequest&) { return {"9.99 9.99 9.99 1/1 1\n", 0}; }

sys::Result<std::string> hello(const ContentRequest& r)
{
    return {fmt::format("hello {}\n", r.node.task ? r.node.task->tid : 0), 0};
}

sys::Result<std::string> refused(const ContentRequest&) { return {{}, -EACCES}; }

constexpr std::array test_root_rows{
    Entry{.name = "self", .kind = NodeKind::self_link},
    Entry{.name = "greeting", .kind = NodeKind::proc_entry, .lifetime = Lifetime::short_,
          .compute = greeting, .mode = 0444},
    // A computed row for a file the source has: its content replaced, its attributes kept.
    Entry{.name = "loadavg", .kind = NodeKind::proc_entry, .lifetime = Lifetime::short_,
          .compute = fixed_loadavg},
    Entry{.name = "refused", .kind = NodeKind::proc_entry, .lifetime = Lifetime::short_,
          .compute = refused, .mode = 0444},
};
constexpr std::array test_pid_rows{
    Entry{.name = "status", .flags = alike},
    Entry{.name = "hello", .compute = hello, .mode = 0444},
};
const EntryTable test_root{test_root_rows,
                           {.name = "", .kind = NodeKind::proc_entry, .lifetime = Lifetime::short_,
                            .children = Lifetime::short_}};
const EntryTable test_pid{test_pid_rows, {.name = ""}};
const Tree test_tree{test_root, test_pid, test_pid};

// One mount of the test tree, served by this process; unmounted by its destructor.
struct InProcessMount {
    DaemonIdentity identity = DaemonIdentity::capture();
    Stats stats;
    ProcessTracker tracker{stats};
    HandleQuota handles{[] { return size_t{1024}; }};
    std::shared_ptr<Mount> mount;

    explicit InProcessMount(const std::string& at)
    {
        tracker.start();
        mount = std::make_shared<Mount>(
            at, MountOptions{},
            Mount::Shared{identity, tracker, stats, handles, tracker.reports_reap(), -1, nullptr, &test_tree});
        auto failed = mount->mount();
        INFO(failed.reason);
        REQUIRE_FALSE(failed);
        mount->start();
    }
    ~InProcessMount()
    {
        if (mount)
            mount->stop();
        tracker.stop();
    }
};

size_t count(const std::vector<std::string>& names, const std::string& name)
{
    return static_cast<size_t>(std::count(names.begin(), names.end(), name));
}

} // namespace

TEST_CASE("the kernel's tree computes nothing", "[computed]")
{
    const Tree& kernel = kernel_tree();
    CHECK_FALSE(kernel.root.has_computed());
    CHECK_FALSE(kernel.pid.has_computed());
    CHECK_FALSE(kernel.tid.has_computed());
}

TEST_CASE("a computed row is looked up, listed and read like a file of the source", "[computed]")
{
    ScratchDir dir;
    std::string at = dir.sub("proc");
    InProcessMount served(at);
    Child sleeper = spawn_sleeper();
    std::string pid = std::to_string(sleeper.pid());

    SECTION("a file the source lacks")
    {
        CHECK(read_file(at + "/greeting") == "computed for uid 0\n");
        struct stat st{};
        REQUIRE(lstat_errno(at + "/greeting", &st) == 0);
        CHECK(S_ISREG(st.st_mode));
        CHECK((st.st_mode & 07777) == 0444);
        auto names = list_dir(at);
        REQUIRE(names);
        CHECK(count(*names, "greeting") == 1);
        CHECK(count(*names, pid) == 1); // the source's listing is all there
        CHECK(count(*names, "meminfo") == 1);
        // Read by another user, the hook sees that caller.
        Identity nobody{65534, 65534};
        CHECK(run_as_capture(nobody, [&] { return read_file(at + "/greeting").value_or("?"); }) ==
              "computed for uid 65534\n");
    }
    SECTION("a file the source has: its content replaced, listed once")
    {
        CHECK(read_file(at + "/loadavg") == "9.99 9.99 9.99 1/1 1\n");
        auto names = list_dir(at);
        REQUIRE(names);
        CHECK(count(*names, "loadavg") == 1);
    }
    SECTION("in a pid directory, for that process; the other entries stay the source's")
    {
        CHECK(read_file(at + "/" + pid + "/hello") == "hello " + pid + "\n");
        auto names = list_dir(at + "/" + pid);
        REQUIRE(names);
        CHECK(count(*names, "hello") == 1);
        CHECK(count(*names, "status") == 1);
        CHECK(read_file(at + "/" + pid + "/status") == read_file("/proc/" + pid + "/status"));
        CHECK(lstat_errno(at + "/" + pid + "/nonexistent") == ENOENT);
    }
    SECTION("a hook's error reaches the caller")
    {
        int fd = ::open((at + "/refused").c_str(), O_RDONLY);
        int err = errno;
        if (fd >= 0)
            ::close(fd);
        CHECK(fd < 0);
        CHECK(err == EACCES);
    }
}
