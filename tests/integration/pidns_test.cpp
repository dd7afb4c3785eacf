// SPDX-License-Identifier: GPL-2.0-or-later
// pidns=: a mount shows another pid namespace's view. Each case makes pid namespaces of its own
// (Sandbox), mounts their view with procfsd, and compares it with the kernel's procfs instance
// for the same namespace (a detached fsopen("proc") + pidns= instance, read through its fd):
// the pid set, entry lists, the pid-numbered fields, self and thread-self from inside and
// outside, ps run inside; reaps, pid reuse, several namespaces side by side, nesting, and the
// values the kernel refuses.
#include <catch2/catch_test_macros.hpp>

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <set>
#include <sstream>
#include <utility>

#include "file_tools.hpp"
#include "harness.hpp"
#include "pid_namespace.hpp"
#include "process_tools.hpp"
#include "procfsd/mount_options.hpp"
#include "procfsd/private_procfs.hpp"
#include "procfsd/sys.hpp"

using namespace procfsd::test;
using procfsd::support::list_pids;

namespace {

// The init script of a sandbox: a plain process, one of nobody, one with three more threads,
// and a zombie (the child of a sleep that never waits for it), all below a shell that waits.
const char* const populated = R"(
sleep 1000 &
setpriv --reuid=65534 --regid=65534 --clear-groups sleep 1000 &
python3 -c 'import threading, time
for _ in range(3): threading.Thread(target=time.sleep, args=(1000,), daemon=True).start()
time.sleep(1000)' &
sh -c 'sleep 0 & exec sleep 1000' &
wait
)";

// A fd that closes itself.
struct Fd {
    int fd = -1;
    explicit Fd(int f = -1) : fd(f) {}
    Fd(Fd&& o) noexcept : fd(std::exchange(o.fd, -1)) {}
    Fd& operator=(Fd&& o) noexcept
    {
        std::swap(fd, o.fd);
        return *this;
    }
    ~Fd()
    {
        if (fd >= 0)
            ::close(fd);
    }
};

// A process started in a sandbox by the test: forked by a helper of ours that joined the
// namespace (setns affects children only), which waits for it. Killing the process makes the
// helper reap it and exit, so reap() is the process's reap.
struct NsProcess {
    Child helper;
    pid_t host = 0;  // its pid in the test's namespace
    pid_t in_ns = 0; // its pid in the sandbox's

    NsProcess() = default;
    NsProcess(NsProcess&& o) noexcept
        : helper(std::move(o.helper)), host(std::exchange(o.host, 0)), in_ns(o.in_ns)
    {
    }

    void kill_and_reap()
    {
        if (host > 0)
            ::kill(host, SIGKILL);
        helper.reap();
        host = 0;
    }
    ~NsProcess()
    {
        if (host > 0)
            kill_and_reap();
    }
};

NsProcess spawn_in(int nsfd, const std::vector<std::string>& argv)
{
    auto child = procfsd::support::fork_into(nsfd, [&] {
        std::vector<char*> args;
        for (auto& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execvp(args[0], args.data());
        return 127;
    });
    REQUIRE(child.helper > 0);
    NsProcess out;
    out.helper = Child(child.helper);
    out.host = child.pid;
    REQUIRE(out.host > 0);
    out.in_ns = child.in_ns;
    REQUIRE(out.in_ns > 0);
    return out;
}

// A pid namespace of the test's own whose init runs `script` (support::PidNamespace), with
// the reads of its kernel procfs instance the cases compare with.
class Sandbox {
public:
    explicit Sandbox(const std::string& script, int parent_ns = -1) : ns_(script, parent_ns)
    {
        INFO(ns_.problem());
        REQUIRE(ns_.ok());
    }

    [[nodiscard]] pid_t init() const noexcept { return ns_.init(); }
    [[nodiscard]] std::string ns_path() const { return ns_.ns_path(); }
    [[nodiscard]] int ns() const noexcept { return ns_.ns(); }
    [[nodiscard]] int kernel() const noexcept { return ns_.kernel(); }
    [[nodiscard]] std::vector<std::string> kernel_pids() const
    {
        Fd dir(::openat(ns_.kernel(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        auto pids = dir.fd >= 0 ? list_pids(dir.fd) : std::vector<std::string>{};
        std::sort(pids.begin(), pids.end());
        return pids;
    }
    [[nodiscard]] std::optional<std::string> kernel_file(const std::string& rel) const
    {
        Fd f(::openat(ns_.kernel(), rel.c_str(), O_RDONLY | O_CLOEXEC));
        std::string out;
        if (f.fd < 0 || !procfsd::support::read_all(f.fd, out))
            return std::nullopt;
        return out;
    }
    [[nodiscard]] std::optional<std::vector<std::string>> kernel_dir(const std::string& rel) const
    {
        Fd f(::openat(ns_.kernel(), rel.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
        if (f.fd < 0)
            return std::nullopt;
        return list_dir("/proc/self/fd/" + std::to_string(f.fd));
    }

private:
    procfsd::support::PidNamespace ns_;
};

// The populated sandbox once everything in it is there: six processes (the zombie's exit
// seen), the threaded one with its four tasks.
bool populated_ready(const Sandbox& s)
{
    auto pids = s.kernel_pids();
    if (pids.size() != 6)
        return false;
    bool zombie = false, threads = false;
    for (auto& p : pids) {
        auto stat = s.kernel_file(p + "/stat");
        if (stat && stat->find(") Z ") != std::string::npos)
            zombie = true;
        auto task = s.kernel_dir(p + "/task");
        if (task && task->size() == 4 + 2) // with . and ..
            threads = true;
    }
    return zombie && threads;
}

std::vector<std::string> sorted_pids(const std::string& dir)
{
    std::vector<std::string> out;
    for (auto& n : list_dir(dir).value_or(std::vector<std::string>{}))
        if (procfsd::support::is_pid_name(n))
            out.push_back(n);
    std::sort(out.begin(), out.end());
    return out;
}

std::vector<std::string> sorted(std::optional<std::vector<std::string>> v)
{
    auto out = v.value_or(std::vector<std::string>{});
    std::sort(out.begin(), out.end());
    return out;
}

// The lines of status whose numbers are the namespace's own, and the ids.
std::string pid_lines(const std::optional<std::string>& status)
{
    std::string out;
    std::istringstream in(status.value_or(""));
    for (std::string line; std::getline(in, line);)
        for (const char* key : {"Name:", "State:", "Tgid:", "Pid:", "PPid:", "TracerPid:", "Uid:",
                                "Gid:", "NStgid:", "NSpid:", "NSpgid:", "NSsid:", "Threads:"})
            if (line.rfind(key, 0) == 0)
                out += line + "\n";
    return out;
}

// stat's fields up to the session (pid, comm, state, ppid, pgrp, session).
std::string stat_ids(const std::optional<std::string>& stat)
{
    if (!stat)
        return "";
    std::istringstream in(stat->substr(stat->rfind(')') + 1));
    std::string state, ppid, pgrp, session;
    in >> state >> ppid >> pgrp >> session;
    return stat->substr(0, stat->rfind(')') + 1) + " " + state + " " + ppid + " " + pgrp + " " + session;
}

// `ps` inside the sandbox with `proc_setup` making its /proc, minus ps's own line (it has
// another pid each run).
std::string ps_inside(const Sandbox& s, const std::string& proc_setup)
{
    std::string cmd = "nsenter -t " + std::to_string(s.init()) + " -p -- unshare -m sh -c '" +
                      proc_setup + " && exec ps -eo pid,ppid,stat,comm,args' 2>&1";
    int status = -1;
    std::string out = run_command(cmd, &status);
    INFO(cmd << "\n" << out);
    CHECK(status == 0);
    // Columns collapsed: ps sizes the PID column by /proc/sys/kernel/pid_max, which the kernel
    // gives per reader's pid namespace and procfsd the daemon's (README, A container's /proc).
    std::string kept;
    std::istringstream in(out);
    for (std::string line; std::getline(in, line);) {
        if (line.find(" ps -eo ") != std::string::npos)
            continue;
        std::istringstream words(line);
        for (std::string w; words >> w;)
            kept += w + " ";
        kept += "\n";
    }
    return kept;
}

// What readlink(2) of self and thread-self gives a process inside (python, with a second
// thread for thread-self), printed as "getpid() self tid thread-self".
std::string links_inside(const Sandbox& s, const std::string& root)
{
    std::string script = "import os, threading\n"
                         "r = []\n"
                         "def t(): r.append('%d %s' % (threading.get_native_id(), os.readlink('" +
                         root + "/thread-self')))\n"
                         "th = threading.Thread(target=t); th.start(); th.join()\n"
                         "print(os.getpid(), os.readlink('" + root + "/self'), r[0])\n";
    return run_command("nsenter -t " + std::to_string(s.init()) + " -p -- python3 -c \"" + script +
                       "\" 2>&1");
}

} // namespace

TEST_CASE("a pidns= mount shows the namespace as the kernel's procfs for it does", "[pidns]")
{
    Sandbox s(populated);
    REQUIRE(wait_until([&] { return populated_ready(s); }, 10s));
    TestMount m("pidns=" + s.ns_path());

    // The same processes, by their numbers there.
    auto pids = s.kernel_pids();
    CHECK(sorted_pids(m.path()) == pids);
    CHECK(std::find(pids.begin(), pids.end(), "1") != pids.end());
    for (auto& pid : pids) {
        INFO("pid " << pid);
        CHECK(sorted(list_dir(m.path(pid))) == sorted(s.kernel_dir(pid)));
        CHECK(sorted(list_dir(m.path(pid + "/task"))) == sorted(s.kernel_dir(pid + "/task")));
        CHECK(pid_lines(read_file(m.path(pid + "/status"))) == pid_lines(s.kernel_file(pid + "/status")));
        CHECK(stat_ids(read_file(m.path(pid + "/stat"))) == stat_ids(s.kernel_file(pid + "/stat")));
        CHECK(read_file(m.path(pid + "/cmdline")) == s.kernel_file(pid + "/cmdline"));
        for (auto& tid : sorted(s.kernel_dir(pid + "/task"))) {
            if (tid == "." || tid == "..")
                continue;
            INFO("tid " << tid);
            CHECK(pid_lines(read_file(m.path(pid + "/task/" + tid + "/status"))) ==
                  pid_lines(s.kernel_file(pid + "/task/" + tid + "/status")));
            // A thread is looked up at the root too, as in procfs.
            CHECK(lstat_errno(m.path(tid)) == 0);
        }
    }
    // The root lists what the kernel's lists (self, thread-self, the files).
    CHECK(sorted(list_dir(m.path())) == sorted(s.kernel_dir(".")));

    // self and thread-self name a caller inside by its numbers there...
    std::string inside = links_inside(s, m.path());
    std::istringstream words(inside);
    std::string pid, self, tid, thread_self;
    words >> pid >> self >> tid >> thread_self;
    INFO(inside);
    CHECK(self == pid);
    CHECK(thread_self == pid + "/task/" + tid);
    CHECK(pid != std::to_string(::getpid()));
    // ...and are ENOENT to a caller outside, while listed.
    errno = 0;
    CHECK_FALSE(read_link(m.path("self")));
    CHECK(errno == ENOENT);
    CHECK_FALSE(read_link(m.path("thread-self")));
    auto root = list_dir(m.path()).value_or(std::vector<std::string>{});
    CHECK(std::find(root.begin(), root.end(), "self") != root.end());
    // The kernel's instance agrees.
    char buf[64];
    CHECK(::readlinkat(s.kernel(), "self", buf, sizeof buf) < 0);

    // ps inside, with the mount over /proc, prints what it prints with the kernel's procfs.
    std::string native = ps_inside(s, "mount -t proc proc /proc");
    std::string mirrored = ps_inside(s, "mount --bind " + m.path() + " /proc");
    CHECK(mirrored == native);
    CHECK(native.find("sleep 1000") != std::string::npos);
    CHECK(native.find("<defunct>") != std::string::npos);
    CHECK(m.path().find(' ') == std::string::npos);
}

TEST_CASE("a process reaped in the namespace vanishes at once; a reused pid never shows through "
          "an old handle",
          "[pidns][exit]")
{
    Sandbox s("wait; sleep 1000");
    TestMount m("pidns=" + s.ns_path() + ",entry_timeout=3600");
    NsProcess victim = spawn_in(s.ns(), {"sleep", "1001"});
    std::string pid = std::to_string(victim.in_ns);
    REQUIRE(lstat_errno(m.path(pid + "/status")) == 0);
    REQUIRE(list_dir(m.path(pid + "/task")));
    Fd old(::open(m.path(pid).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    REQUIRE(old.fd >= 0);
    victim.kill_and_reap();
    CHECK(wait_until([&] { return lstat_errno(m.path(pid)) == ENOENT; }, 1s));
    CHECK(lstat_errno(m.path(pid + "/status")) == ENOENT);

    // The pid is given again inside: ns_last_pid, written from inside, points before it.
    NsProcess writer = spawn_in(s.ns(), {"sh", "-c", "echo " + std::to_string(victim.in_ns - 1) +
                                                        " > /proc/sys/kernel/ns_last_pid"});
    CHECK(procfsd::support::exited_ok(writer.helper.reap()));
    writer.host = 0;
    NsProcess reused = spawn_in(s.ns(), {"sleep", "1002"});
    REQUIRE(reused.in_ns == victim.in_ns);
    // Forked, then exec'd: the kernel's instance tells when it runs sleep.
    REQUIRE(wait_until([&] {
        auto k = s.kernel_file(pid + "/cmdline");
        return k && k->find("1002") != std::string::npos;
    }));
    auto now = read_file(m.path(pid + "/cmdline"));
    REQUIRE(now);
    CHECK(now->find("1002") != std::string::npos);
    // The old handle names the reaped process, never the new one.
    Fd through_old(::openat(old.fd, "cmdline", O_RDONLY | O_CLOEXEC));
    std::string text;
    if (through_old.fd >= 0)
        procfsd::support::read_all(through_old.fd, text);
    CHECK(text.find("1002") == std::string::npos);
}

TEST_CASE("one daemon serves the host and two namespaces side by side, and a nested one",
          "[pidns][multimount]")
{
    Sandbox a(populated);
    Sandbox b("sleep 1000 & wait");
    REQUIRE(wait_until([&] { return populated_ready(a); }, 10s));
    Sandbox nested("sleep 1000 & wait", a.ns());
    REQUIRE(wait_until([&] { return b.kernel_pids().size() == 2 && nested.kernel_pids().size() == 2; }, 10s));
    TestMount m("hidepid=off", {"pidns=" + a.ns_path() + ",hidepid=invisible",
                                "pidns=" + b.ns_path() + ",hidepid=noaccess",
                                "pidns=" + nested.ns_path()});
    // The host mount shows the host's numbers: every sandbox's processes among them.
    auto host = sorted_pids(m.mount_path(0));
    CHECK(std::find(host.begin(), host.end(), std::to_string(a.init())) != host.end());
    CHECK(std::find(host.begin(), host.end(), std::to_string(nested.init())) != host.end());
    // Root sees each namespace whole.
    CHECK(sorted_pids(m.mount_path(1)) == a.kernel_pids());
    CHECK(sorted_pids(m.mount_path(2)) == b.kernel_pids());
    CHECK(sorted_pids(m.mount_path(3)) == nested.kernel_pids());
    // The nested namespace's processes are in the outer one too, by the outer one's numbers.
    CHECK(a.kernel_pids().size() > 6);
    CHECK(pid_lines(read_file(m.mount_path(3, "1/status"))) == pid_lines(nested.kernel_file("1/status")));
    // hidepid= per mount, as the kernel applies it: nobody sees only its own process in a,
    // all of b's but cannot enter root's.
    Identity nobody{65534, 65534, {}};
    std::string seen = run_as_capture(nobody, [&] {
        std::string out;
        for (auto& p : sorted_pids(m.mount_path(1)))
            out += p + " ";
        out += "| ";
        for (auto& p : sorted_pids(m.mount_path(2)))
            out += p + " ";
        out += "| " + std::to_string(lstat_errno(m.mount_path(2, "1/status")));
        return out;
    });
    std::string a_nobody;
    for (auto& p : a.kernel_pids())
        if (auto st = a.kernel_file(p + "/status"); st && st->find("Uid:\t65534") != std::string::npos)
            a_nobody += p + " ";
    std::string b_all;
    for (auto& p : b.kernel_pids())
        b_all += p + " ";
    CHECK(seen == a_nobody + "| " + b_all + "| " + std::to_string(EPERM));
    CHECK_FALSE(a_nobody.empty());
    // ctl list names each namespace.
    std::string list = m.ctl("list");
    CHECK(list.find("hidepid=invisible,pidns=" + a.ns_path() + " (pid:[") != std::string::npos);
    CHECK(list.find("hidepid=noaccess,pidns=" + b.ns_path() + " (pid:[") != std::string::npos);
}

TEST_CASE("without procfs pidns= (before Linux 6.18), a helper in the namespace makes its "
          "instance",
          "[pidns][helper]")
{
    auto box = std::make_unique<Sandbox>(populated);
    const Sandbox& s = *box;
    REQUIRE(wait_until([&] { return populated_ready(s); }, 10s));
    procfsd::MountOptions options;
    options.subset_pid = true;
    auto made = procfsd::open_private_procfs_by_helper(options, s.ns());
    INFO(procfsd::sys::errno_name(made.error));
    REQUIRE(made.ok());
    // The namespace's view: its pids (the helper's moment there is over), subset=pid applied,
    // self ENOENT to us, who have no pid there.
    Fd root(::openat(made.value.get(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    REQUIRE(root.fd >= 0);
    auto pids = list_pids(root.fd);
    std::sort(pids.begin(), pids.end());
    CHECK(pids == s.kernel_pids());
    CHECK(::faccessat(made.value.get(), "meminfo", F_OK, 0) != 0);
    CHECK(::faccessat(s.kernel(), "meminfo", F_OK, 0) == 0);
    char buf[64];
    CHECK(::readlinkat(made.value.get(), "self", buf, sizeof buf) < 0);
    auto one = read_file("/proc/self/fd/" + std::to_string(made.value.get()) + "/1/cmdline");
    CHECK(one == s.kernel_file("1/cmdline"));
    // The helper and its child are reaped: no child of ours has ended unreaped.
    CHECK(::waitpid(-1, nullptr, WNOHANG) == 0);

    // A namespace whose init is gone takes no new process: a clean ENOMEM, at once.
    ScratchDir scratch;
    std::string ns_file = scratch.file("ns", "");
    REQUIRE(::mount(s.ns_path().c_str(), ns_file.c_str(), nullptr, MS_BIND, nullptr) == 0);
    Fd dead_ns(::open(ns_file.c_str(), O_RDONLY | O_CLOEXEC));
    ::umount2(ns_file.c_str(), MNT_DETACH);
    REQUIRE(dead_ns.fd >= 0);
    box.reset(); // its init is killed and reaped, after every other process there
    auto refused = procfsd::open_private_procfs_by_helper(options, dead_ns.fd);
    CHECK(refused.error == -ENOMEM);
}

TEST_CASE("a namespace whose processes are all gone leaves an empty tree", "[pidns]")
{
    auto s = std::make_unique<Sandbox>("sleep 1000 & wait");
    // The mount keeps the namespace by its descriptor; the path dies with the init.
    ScratchDir scratch;
    std::string ns_file = scratch.file("ns", "");
    REQUIRE(::mount(s->ns_path().c_str(), ns_file.c_str(), nullptr, MS_BIND, nullptr) == 0);
    TestMount m("pidns=" + ns_file);
    CHECK_FALSE(sorted_pids(m.path()).empty());
    s.reset(); // the init is killed and reaped: the kernel kills the rest
    CHECK(wait_until([&] { return sorted_pids(m.path()).empty(); }, 2s));
    errno = 0;
    CHECK_FALSE(read_link(m.path("self")));
    CHECK(errno == ENOENT);
    // The kernel has "1" cached until the daemon's exit watcher, woken by the init's pidfd,
    // invalidates it: moments after the reap (the listing above reads the source at once).
    CHECK(wait_until([&] { return lstat_errno(m.path("1")) == ENOENT; }, 2s));
    CHECK(read_file(m.path("uptime")));
    CHECK(m.ctl("list").find("no process left") != std::string::npos);
    m.stop();
    ::umount2(ns_file.c_str(), MNT_DETACH);
}

TEST_CASE("bad pidns= values are refused with one line, and nothing is mounted", "[pidns][errors]")
{
    ScratchDir scratch;
    std::string mnt = scratch.sub("mnt");
    std::string plain = scratch.file("plain", "x");
    // A namespace the daemon's is below: its parent's, kept by a bind mount made inside a
    // namespace of ours that holds the daemon.
    struct Bad {
        std::string value;
        std::string says;
    };
    std::vector<Bad> bad = {
        {"/nonexistent/ns", "ENOENT (pidns=/nonexistent/ns: no such file)"},
        {plain, "EINVAL (pidns=" + plain + ": not a namespace file"},
        {"/proc/self/ns/net", "EINVAL (pidns=/proc/self/ns/net: a net namespace, not a pid namespace)"},
        {"relative/ns", "is not an absolute path"},
    };
    for (auto& b : bad) {
        auto run = procfsd::support::run_program({procfsd_binary(), "-f", mnt, "-o", "pidns=" + b.value}, true, 30);
        INFO(b.value << ": " << run.err);
        CHECK(WIFEXITED(run.status));
        CHECK(WEXITSTATUS(run.status) != 0);
        CHECK(run.err.find(b.says) != std::string::npos);
        CHECK_FALSE(is_mounted(mnt));
    }
    // pidns= with source= is a contradiction.
    Sandbox s("sleep 1000 & wait");
    auto run = procfsd::support::run_program(
        {procfsd_binary(), "-f", mnt, "-o", "pidns=" + s.ns_path() + ",source=/tmp"}, true, 30);
    CHECK(run.err.find("cannot go with source=") != std::string::npos);
    CHECK_FALSE(is_mounted(mnt));

    // A namespace that is not a descendant of the daemon's: the daemon runs in the sandbox's
    // (its /proc there is that namespace's) and is given the test's own.
    std::string host_ns = scratch.file("host-ns", "");
    REQUIRE(::mount("/proc/self/ns/pid", host_ns.c_str(), nullptr, MS_BIND, nullptr) == 0);
    std::string cmd = "nsenter -t " + std::to_string(s.init()) + " -p -- unshare -m --mount-proc " +
                      procfsd_binary() + " -f " + mnt + " -o pidns=" + host_ns + " 2>&1";
    int status = -1;
    std::string out = run_command(cmd, &status);
    INFO(cmd << "\n" << out);
    CHECK(status != 0);
    CHECK(out.find("neither the daemon's pid namespace nor a descendant of it") != std::string::npos);
    CHECK_FALSE(is_mounted(mnt));
    ::umount2(host_ns.c_str(), MNT_DETACH);
}
