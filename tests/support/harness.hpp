// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Test support: a procfsd mount owned by a test, live processes the test starts itself, and
// small helpers to read and list both /proc and the mount the same way.

#include <sys/stat.h>
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace procfsd::test {

using namespace std::chrono_literals;

// A procfsd daemon started by this test, serving mountpoints in a fresh directory under /tmp.
// The destructor stops that daemon (by pid) and leaves no mount behind, whatever happened; the
// daemon also gets SIGTERM if the test process dies (PR_SET_PDEATHSIG).
class TestMount {
public:
    // `options`: the -o list; `extra`: more mounts (each an -o list) served by the same daemon;
    // `daemon_args`: more arguments of the daemon's.
    explicit TestMount(const std::string& options = "", const std::vector<std::string>& extra = {},
                       const std::vector<std::string>& daemon_args = {});
    TestMount(const TestMount&) = delete;
    TestMount& operator=(const TestMount&) = delete;
    ~TestMount();

    // The first mount's path, or a path inside it.
    [[nodiscard]] std::string path(const std::string& rel = "") const;
    // The i-th mount (0 = the first).
    [[nodiscard]] std::string mount_path(size_t i, const std::string& rel = "") const;
    // The serving process as it was when the mounts came up (the keeper's child).
    [[nodiscard]] pid_t daemon_pid() const noexcept { return server_; }
    // The serving process now, asked of the daemon (it changes at a restart or upgrade); 0 when
    // none answers.
    [[nodiscard]] pid_t serving_pid() const;
    // The process this test started: the keeper, which holds the mounts and runs the server.
    // Signals to stop the daemon go here, and only this one is the test's child to reap.
    [[nodiscard]] pid_t keeper_pid() const noexcept { return daemon_; }
    // A counter from `procfsd stats` (e.g. "requests_lookup"); -1 if absent.
    [[nodiscard]] long long counter(const std::string& name) const;
    // Every counter of one `procfsd stats`, read at one moment.
    [[nodiscard]] std::map<std::string, long long> counters() const;
    // Runs `procfsd ctl ARGS` against this daemon; returns its output, exit status in *status.
    std::string ctl(const std::string& args, int* status = nullptr) const;
    // "procfsd --control NAME": how a command reaches this daemon, as `procfsd` reaches the
    // default one (for recipes written for the default).
    [[nodiscard]] std::string command() const;
    [[nodiscard]] const std::string& dir() const noexcept { return dir_; }
    // Stops the daemon now (SIGTERM) and waits for the mounts to go.
    void stop();
    // The test reaped the daemon itself: never signal that pid again (it may be reused).
    void daemon_reaped() noexcept { daemon_ = -1; }

private:
    void check_transport(const std::string& options);

    std::string dir_;
    std::vector<std::string> mounts_;
    std::string control_; // this daemon's control socket name
    pid_t daemon_ = -1;   // the keeper
    pid_t server_ = -1;   // its server at the start
};

// A directory of the test's own under /tmp (mode 0755, so that unprivileged callers reach it).
// The destructor detaches whatever is still mounted below it, then removes it.
class ScratchDir {
public:
    ScratchDir();
    ScratchDir(const ScratchDir&) = delete;
    ScratchDir& operator=(const ScratchDir&) = delete;
    ~ScratchDir();

    // A subdirectory, made now.
    std::string sub(const std::string& name) const;
    // A file holding `text`, written now.
    std::string file(const std::string& name, const std::string& text) const;

    std::string path;
};

// A child process started by the test and killed (SIGKILL) and reaped by the destructor.
class Child {
public:
    Child() = default;
    explicit Child(pid_t pid) : pid_(pid) {}
    Child(Child&& other) noexcept : pid_(other.pid_) { other.pid_ = -1; }
    Child& operator=(Child&& other) noexcept;
    Child(const Child&) = delete;
    Child& operator=(const Child&) = delete;
    ~Child();

    [[nodiscard]] pid_t pid() const noexcept { return pid_; }
    // Blocks until the child has exited (a zombie), without reaping it.
    void wait_exited() const;
    // Reaps the child (after it exited or was killed).
    int reap();
    void kill_and_reap();

private:
    pid_t pid_ = -1;
};

// Processes tests compare: each blocks until killed.
Child spawn_sleeper(); // /bin/sleep with a known argv and environment
std::vector<Child> spawn_sleepers(int n);
extern const std::vector<std::string> sleeper_argv;
extern const std::vector<std::string> sleeper_env;
// A process with `threads` extra threads; their tids are returned in `tids` (leader excluded).
Child spawn_threaded(int threads, std::vector<pid_t>& tids);
// A sleeper running as uid/gid `nobody` (65534).
Child spawn_as_nobody();
// A child that exits at once and stays a zombie until reaped.
Child spawn_zombie();
// Runs `fn` in a child process that first takes uid/gid 65534 (or the given ids), and returns
// its exit status (0 = the checks in fn held).
int run_as(uid_t uid, gid_t gid, const std::function<int()>& fn);

// Who a child becomes: ids, supplementary groups, and capabilities it keeps (a bit mask).
struct Identity {
    uid_t uid;
    gid_t gid;
    std::vector<gid_t> groups{};
    uint64_t caps = 0;
};
// Runs `fn` in a child that becomes `who`, and returns what `fn` returned (plus a note if the
// child did not end cleanly).
std::string run_as_capture(const Identity& who, const std::function<std::string()>& fn);
// Whether anything is mounted on `path`.
bool is_mounted(const std::string& path);

// Reads a whole file; nullopt with errno set on failure.
std::optional<std::string> read_file(const std::string& path);
// Entry names in getdents order, "." and ".." included; nullopt with errno set on failure.
std::optional<std::vector<std::string>> list_dir(const std::string& path);
std::optional<std::string> read_link(const std::string& path);
// errno of lstat (0 on success).
int lstat_errno(const std::string& path, struct stat* st = nullptr);
// Runs a shell command, returns its stdout; the exit status goes to *status.
std::string run_command(const std::string& cmd, int* status = nullptr);
// Waits until pred() holds or the deadline passes; returns pred()'s last value.
bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds deadline = 5s);
// The path of the procfsd executable under test.
std::string procfsd_binary();
// The lines of the first indented code block after the line `heading` in README.md, as the
// README writes them (the tests that run its examples run these).
std::vector<std::string> readme_block(const std::string& heading);
// `s` with every `from` replaced by `to`.
std::string replace_all(std::string s, const std::string& from, const std::string& to);
// Sets a hostname in a child with its own UTS namespace, so that the machine's name stays: the
// sysctl's poll event (kernel/hostname) is global all the same (uts_proc_notify).
void set_hostname_elsewhere();

} // namespace procfsd::test
