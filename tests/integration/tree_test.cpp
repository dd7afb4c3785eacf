// SPDX-License-Identifier: GPL-2.0-or-later
// The tree through procfsd is the kernel's: the same entries, in the same order, with the same
// types, modes, owners and link counts, for processes the test starts itself.
#include <catch2/catch_test_macros.hpp>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "harness.hpp"

using namespace procfsd::test;

namespace {

bool is_number(const std::string& s)
{
    return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::vector<std::string> without_numbers(const std::vector<std::string>& v)
{
    std::vector<std::string> out;
    for (auto& s : v)
        if (!is_number(s))
            out.push_back(s);
    return out;
}

std::vector<long> numbers(const std::vector<std::string>& v)
{
    std::vector<long> out;
    for (auto& s : v)
        if (is_number(s))
            out.push_back(std::stol(s));
    return out;
}

void check_same_attrs(const std::string& native, const std::string& mirrored)
{
    struct stat a{}, b{};
    REQUIRE(lstat_errno(native, &a) == 0);
    REQUIRE(lstat_errno(mirrored, &b) == 0);
    INFO(native << " vs " << mirrored);
    CHECK(a.st_mode == b.st_mode);
    CHECK(a.st_uid == b.st_uid);
    CHECK(a.st_gid == b.st_gid);
    CHECK(a.st_nlink == b.st_nlink);
    if (!S_ISDIR(a.st_mode))
        CHECK(a.st_size == b.st_size);
}

} // namespace

TEST_CASE("the root lists the kernel's entries in the kernel's order", "[tree]")
{
    TestMount m;
    auto sleeper = spawn_sleeper();
    auto native = list_dir("/proc");
    auto mirrored = list_dir(m.path());
    REQUIRE(native);
    REQUIRE(mirrored);
    // Non-pid entries (dots, files, self, thread-self) identical and in the same order.
    CHECK(without_numbers(*native) == without_numbers(*mirrored));
    REQUIRE(mirrored->at(0) == ".");
    REQUIRE(mirrored->at(1) == "..");
    // Thread-group leaders ascending, after thread-self, our sleeper among them.
    auto pids = numbers(*mirrored);
    CHECK(std::is_sorted(pids.begin(), pids.end()));
    CHECK(std::find(pids.begin(), pids.end(), sleeper.pid()) != pids.end());
    auto self_pos = std::find(mirrored->begin(), mirrored->end(), "thread-self");
    REQUIRE(self_pos != mirrored->end());
    CHECK(std::all_of(self_pos + 1, mirrored->end(), is_number));
}

TEST_CASE("a pid directory and task/<tid> list the kernel's entries", "[tree]")
{
    TestMount m;
    std::vector<pid_t> tids;
    auto threaded = spawn_threaded(3, tids);
    REQUIRE(tids.size() == 3);
    std::string pid = std::to_string(threaded.pid());
    CHECK(list_dir("/proc/" + pid) == list_dir(m.path(pid)));
    CHECK(list_dir("/proc/" + pid + "/task") == list_dir(m.path(pid + "/task")));
    std::string tid = std::to_string(tids[1]);
    CHECK(list_dir("/proc/" + pid + "/task/" + tid) == list_dir(m.path(pid + "/task/" + tid)));
    for (auto sub : {"fd", "fdinfo", "ns", "attr", "map_files", "net"})
        CHECK(list_dir("/proc/" + pid + "/" + sub) == list_dir(m.path(pid + "/" + sub)));
}

TEST_CASE("types, modes, owners and link counts match for every entry", "[tree]")
{
    TestMount m;
    std::vector<pid_t> tids;
    auto threaded = spawn_threaded(2, tids);
    auto nobody = spawn_as_nobody();
    for (pid_t p : {threaded.pid(), nobody.pid(), getpid()}) {
        std::string pid = std::to_string(p);
        check_same_attrs("/proc/" + pid, m.path(pid));
        auto entries = list_dir("/proc/" + pid);
        REQUIRE(entries);
        for (auto& e : *entries)
            if (e != "." && e != "..")
                check_same_attrs("/proc/" + pid + "/" + e, m.path(pid + "/" + e));
        std::string task = pid + "/task/" + pid;
        check_same_attrs("/proc/" + task, m.path(task));
    }
    std::string thread_dir = std::to_string(threaded.pid()) + "/task/" + std::to_string(tids[0]);
    check_same_attrs("/proc/" + thread_dir, m.path(thread_dir));
    check_same_attrs("/proc/" + std::to_string(threaded.pid()) + "/fd/0",
                     m.path(std::to_string(threaded.pid()) + "/fd/0"));
    for (auto e : {"self", "thread-self", "meminfo", "sys", "sys/kernel/pid_max", "net"})
        check_same_attrs(std::string("/proc/") + e, m.path(e));
}

TEST_CASE("a non-leader thread's /proc/<tid> answers a lookup but is not listed", "[tree]")
{
    TestMount m;
    std::vector<pid_t> tids;
    auto threaded = spawn_threaded(1, tids);
    REQUIRE(tids.size() == 1);
    std::string tid = std::to_string(tids[0]);
    struct stat st{};
    CHECK(lstat_errno(m.path(tid), &st) == 0);
    CHECK(S_ISDIR(st.st_mode));
    CHECK(read_file(m.path(tid + "/status")) .has_value());
    auto root = list_dir(m.path());
    REQUIRE(root);
    CHECK(std::find(root->begin(), root->end(), tid) == root->end());
    CHECK(list_dir("/proc/" + tid) == list_dir(m.path(tid)));
}

TEST_CASE("names with leading zeros, signs or overflow are ENOENT", "[tree]")
{
    TestMount m;
    auto sleeper = spawn_sleeper();
    std::string pid = std::to_string(sleeper.pid());
    CHECK(lstat_errno(m.path(pid)) == 0);
    for (std::string bad : {"0" + pid, "+" + pid, "-" + pid, pid + "x", std::string("0"),
                            std::string("4294967296"), std::string("99999999999999999999")}) {
        INFO(bad);
        CHECK(lstat_errno(m.path(bad)) == ENOENT);
        CHECK(lstat_errno("/proc/" + bad) == ENOENT);
    }
    CHECK(lstat_errno(m.path(pid + "/task/0" + pid)) == ENOENT);
    // A thread of another process is not in this one's task/.
    CHECK(lstat_errno(m.path(pid + "/task/1")) == ENOENT);
    CHECK(lstat_errno(m.path("no-such-entry")) == ENOENT);
    CHECK(lstat_errno(m.path(pid + "/no-such-entry")) == ENOENT);
}

TEST_CASE("self and thread-self resolve for each calling process and thread", "[tree]")
{
    TestMount m;
    CHECK(read_link(m.path("self")) == std::to_string(getpid()));
    CHECK(read_link(m.path("thread-self")) == std::to_string(getpid()) + "/task/" + std::to_string(getpid()));
    // Another process sees itself.
    int status = run_as(0, 0, [&] {
        return read_link(m.path("self")) == std::to_string(getpid()) ? 0 : 1;
    });
    CHECK(status == 0);
    // A non-leader thread: self is the thread group, thread-self the thread.
    struct Result {
        std::string path;
        std::optional<std::string> self, thread_self;
        pid_t tid = 0;
    } r{m.path(""), {}, {}, 0};
    pthread_t t;
    pthread_create(&t, nullptr, [](void* arg) -> void* {
        auto* res = static_cast<Result*>(arg);
        res->tid = static_cast<pid_t>(syscall(SYS_gettid));
        res->self = read_link(res->path + "/self");
        res->thread_self = read_link(res->path + "/thread-self");
        return nullptr;
    }, &r);
    pthread_join(t, nullptr);
    CHECK(r.self == std::to_string(getpid()));
    CHECK(r.thread_self == std::to_string(getpid()) + "/task/" + std::to_string(r.tid));
    // The kernel follows the link through the mount: self/status is the caller's.
    auto status_text = read_file(m.path("self/status"));
    REQUIRE(status_text);
    CHECK(status_text->find("Pid:\t" + std::to_string(getpid()) + "\n") != std::string::npos);
}
