// SPDX-License-Identifier: GPL-2.0-or-later
// Every caller gets the kernel's access, not root's: for each entry kind and each kind of target
// process, an unprivileged caller (and one with CAP_SYS_PTRACE only) gets through procfsd
// exactly the outcome, errno and content it gets from /proc.
#include <catch2/catch_test_macros.hpp>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <linux/keyctl.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <sstream>

#include "harness.hpp"

using namespace procfsd::test;

namespace {

// Makes the calling process possess a new anonymous session keyring, and nothing it possessed.
bool join_fresh_session_keyring()
{
    return ::syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, nullptr) > 0;
}

constexpr uid_t caller_uid = 65534;
constexpr uid_t other_uid = 4244;

enum class Kind { read, read_head, readlink, list, stat, write };
struct Cell {
    const char* path; // below /proc/<pid>/
    Kind kind;
    bool content;     // compare content too (stable for a sleeping target)
};

// The entries of a pid directory that carry a check (the rows in lib/entries.cpp), plus a
// few that carry none.
const Cell cells[] = {
    {"environ", Kind::read, true},      {"auxv", Kind::read, true},
    {"mem", Kind::read_head, false},    {"maps", Kind::read, true},
    {"smaps_rollup", Kind::read, false}, {"smaps", Kind::read_head, false},
    {"pagemap", Kind::read_head, true}, {"numa_maps", Kind::read, false},
    {"io", Kind::read, true},           {"syscall", Kind::read, false},
    {"personality", Kind::read, true},  {"stack", Kind::read, false},
    {"wchan", Kind::read, true},        {"stat", Kind::read, true},
    {"status", Kind::read_head, true},  {"cmdline", Kind::read, true},
    {"limits", Kind::read, true},       {"mountstats", Kind::read_head, false},
    {"timerslack_ns", Kind::read, true},{"exe", Kind::readlink, true},
    {"cwd", Kind::readlink, true},      {"root", Kind::readlink, true},
    {"fd/0", Kind::readlink, true},     {"ns/pid", Kind::readlink, true},
    {"ns/net", Kind::readlink, true},   {"fd", Kind::list, true},
    {"fdinfo", Kind::list, true},       {"map_files", Kind::list, false},
    {"fd/0", Kind::stat, false},        {"fdinfo/0", Kind::read, true},
    {"task", Kind::list, true},         {"oom_score_adj", Kind::write, false},
    {"timerslack_ns", Kind::write, false}, {"clear_refs", Kind::write, false},
};

std::string outcome(const std::string& path, Kind kind, bool content)
{
    errno = 0;
    switch (kind) {
    case Kind::read: {
        auto text = read_file(path);
        if (!text)
            return std::string("err ") + strerrorname_np(errno);
        return content ? "ok " + *text : "ok";
    }
    case Kind::read_head: {
        int fd = ::open(path.c_str(), O_RDONLY);
        if (fd < 0)
            return std::string("open ") + strerrorname_np(errno);
        char buf[64];
        ssize_t n = ::read(fd, buf, sizeof buf);
        int err = errno;
        ::close(fd);
        if (n < 0)
            return std::string("read ") + strerrorname_np(err);
        return content ? "ok " + std::string(buf, static_cast<size_t>(n)) : "ok";
    }
    case Kind::readlink: {
        auto text = read_link(path);
        if (!text)
            return std::string("err ") + strerrorname_np(errno);
        return content ? "ok " + *text : "ok";
    }
    case Kind::list: {
        auto names = list_dir(path);
        if (!names)
            return std::string("err ") + strerrorname_np(errno);
        std::string out = "ok";
        if (content)
            for (auto& n : *names)
                out += " " + n;
        return out;
    }
    case Kind::stat: {
        int e = lstat_errno(path);
        return e ? std::string("err ") + strerrorname_np(e) : "ok";
    }
    case Kind::write: {
        // Write what is there already, so that a permitted write changes nothing.
        std::string value = "0";
        if (auto cur = read_file(path); cur && !cur->empty())
            value = *cur;
        int fd = ::open(path.c_str(), O_WRONLY);
        if (fd < 0)
            return std::string("open ") + strerrorname_np(errno);
        ssize_t n = ::write(fd, value.data(), value.size());
        int err = errno;
        ::close(fd);
        return n < 0 ? std::string("write ") + strerrorname_np(err) : "ok";
    }
    }
    return "?";
}

// Becomes `uid` in a fresh child, with only CAP_SYS_PTRACE when `ptrace_cap`, and returns the
// mismatches between /proc and the mount that the child found. `busy` targets change while they
// are read (the daemon serving the reads): their outcomes are compared, not their contents.
std::string check_as(uid_t uid, bool ptrace_cap, const std::string& mount, const std::vector<pid_t>& targets,
                     const std::vector<pid_t>& busy = {})
{
    Identity who{uid, uid, {}, ptrace_cap ? uint64_t{1} << CAP_SYS_PTRACE : 0};
    return run_as_capture(who, [&] {
        std::string out;
        std::vector<pid_t> all = targets;
        all.insert(all.end(), busy.begin(), busy.end());
        all.push_back(::getpid()); // (d) its own process
        for (pid_t t : all) {
            bool own = t == ::getpid();
            bool changing = own || std::find(busy.begin(), busy.end(), t) != busy.end();
            for (auto& c : cells) {
                std::string rel = std::to_string(t) + "/" + c.path;
                // The caller's own process runs while it reads itself: compare outcomes only.
                bool content = c.content && !changing;
                std::string a = outcome("/proc/" + rel, c.kind, content);
                std::string b = outcome(mount + "/" + rel, c.kind, content);
                if (a != b)
                    out += rel + (own ? " (own)" : "") + "\n  /proc:   " + a.substr(0, 120) +
                           "\n  procfsd: " + b.substr(0, 120) + "\n";
            }
        }
        return out;
    });
}

Child spawn_sleeper_as(uid_t uid, bool dumpable)
{
    pid_t pid = ::fork();
    if (pid == 0) {
        if (::setgroups(0, nullptr) != 0 || ::setgid(uid) != 0 || ::setuid(uid) != 0)
            ::_exit(126);
        ::prctl(PR_SET_DUMPABLE, dumpable ? 1 : 0);
        for (;;)
            ::pause();
    }
    Child c(pid);
    wait_until([&] {
        auto s = read_file("/proc/" + std::to_string(pid) + "/status");
        return s && s->find("Uid:\t" + std::to_string(uid)) != std::string::npos;
    });
    return c;
}

} // namespace

TEST_CASE("an unprivileged caller gets exactly /proc's access to every entry kind", "[access]")
{
    TestMount m;
    auto other = spawn_sleeper_as(other_uid, true);          // (a) another user's process
    auto root = spawn_sleeper();                              // (b) a root process
    auto nondumpable = spawn_sleeper_as(caller_uid, false);   // (c) own uid, non-dumpable
    auto own_uid = spawn_sleeper_as(caller_uid, true);        //     own uid, dumpable
    std::vector<pid_t> targets{other.pid(), root.pid(), nondumpable.pid(), own_uid.pid()};
    CHECK(check_as(caller_uid, false, m.path(), targets) == "");
}

// Every entry below a pid directory, found by walking the kernel's tree rather than listed by
// hand: what an unprivileged caller gets from lstat, open, a first read, a listing or a readlink
// (outcomes and errnos, attributes, never contents, which change as the target runs).
std::string walk_outcomes(const std::string& root, const std::string& rel, int depth, std::string& out)
{
    std::string path = root + "/" + rel;
    struct stat st{};
    if (::lstat(path.c_str(), &st) != 0) {
        out += rel + " lstat " + strerrorname_np(errno) + "\n";
        return out;
    }
    char attrs[64];
    std::snprintf(attrs, sizeof attrs, " %o %u:%u", st.st_mode, st.st_uid, st.st_gid);
    out += rel + attrs;
    if (S_ISLNK(st.st_mode)) {
        out += " " + outcome(path, Kind::readlink, false) + "\n";
    } else if (S_ISREG(st.st_mode)) {
        out += " " + outcome(path, Kind::read_head, false) + "\n";
    } else if (S_ISDIR(st.st_mode)) {
        auto names = list_dir(path);
        out += names ? " listed\n" : std::string(" list ") + strerrorname_np(errno) + "\n";
        if (names && depth > 0)
            for (auto& n : *names)
                if (n != "." && n != "..")
                    walk_outcomes(root, rel + "/" + n, depth - 1, out);
    } else {
        out += "\n";
    }
    return out;
}

// The lines where two walks of `rel` differ, /proc's against the mount's; empty when equal.
std::string compare_walks(const std::string& mount, const std::string& rel)
{
    std::string a, b;
    walk_outcomes("/proc", rel, 3, a);
    walk_outcomes(mount, rel, 3, b);
    if (a == b)
        return {};
    // The first differing lines are enough to see what differs.
    std::istringstream sa(a), sb(b);
    std::string la, lb, diff;
    int shown = 0;
    for (;;) {
        bool more_a = static_cast<bool>(std::getline(sa, la));
        bool more_b = static_cast<bool>(std::getline(sb, lb));
        if ((!more_a && !more_b) || shown == 12)
            break;
        if (!more_a)
            la = "(end)";
        if (!more_b)
            lb = "(end)";
        if (la != lb) {
            diff += "  /proc:   " + la + "\n  procfsd: " + lb + "\n";
            ++shown;
        }
    }
    return diff.empty() ? std::string("differ in length") : diff;
}

TEST_CASE("every entry below a pid directory gives an unprivileged caller /proc's outcome",
          "[access][walk]")
{
    TestMount m;
    auto other = spawn_sleeper_as(other_uid, true);
    auto root = spawn_sleeper();
    auto nondumpable = spawn_sleeper_as(caller_uid, false);
    auto own_uid = spawn_sleeper_as(caller_uid, true);
    std::string mount = m.path();
    for (pid_t t : {other.pid(), root.pid(), nondumpable.pid(), own_uid.pid()}) {
        std::string out = run_as_capture(Identity{caller_uid, caller_uid},
                                         [&] { return compare_walks(mount, std::to_string(t)); });
        INFO("target " << t);
        CHECK(out == "");
    }
}

// Root with fewer capabilities than the daemon keeps euid 0 through the switch, so the worker
// gets no setuid fixup to restore its capabilities from: it must restore them itself, or abort.
TEST_CASE("root without capabilities gets /proc's outcomes, and the daemon lives on", "[access][walk]")
{
    TestMount m;
    pid_t daemon = m.daemon_pid();
    auto other = spawn_sleeper_as(other_uid, true);
    auto nondumpable = spawn_sleeper_as(caller_uid, false);
    std::string mount = m.path();
    std::string out = run_as_capture(Identity{0, 0}, [&] {
        __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
        __user_cap_data_struct data[2]{};
        if (::syscall(SYS_capget, &hdr, data) != 0)
            return std::string("capget failed");
        data[0].effective = data[1].effective = 0;
        if (::syscall(SYS_capset, &hdr, data) != 0)
            return std::string("capset failed");
        std::string r;
        for (pid_t t : {other.pid(), nondumpable.pid()})
            r += compare_walks(mount, std::to_string(t));
        // The daemon's own process: root ids without its capabilities may not ptrace it.
        for (const char* f : {"/maps", "/environ", "/mem"}) {
            std::string rel = std::to_string(daemon) + f;
            std::string a = outcome("/proc/" + rel, Kind::read_head, false);
            std::string b = outcome(mount + "/" + rel, Kind::read_head, false);
            if (a != b)
                r += rel + ": /proc " + a + ", procfsd " + b + "\n";
        }
        for (auto [f, kind] : {std::pair{"/fd", Kind::list}, std::pair{"/map_files", Kind::list},
                               std::pair{"/fd/0", Kind::readlink}, std::pair{"/fd/0", Kind::stat}}) {
            std::string rel = std::to_string(daemon) + f;
            std::string a = outcome("/proc/" + rel, kind, false);
            std::string b = outcome(mount + "/" + rel, kind, false);
            if (a != b)
                r += rel + ": /proc " + a + ", procfsd " + b + "\n";
        }
        return r + compare_walks(mount, "sys/kernel");
    });
    CHECK(out == "");
    // Root in a child user namespace: its capabilities count for nothing here (fewer answers
    // than the kernel may give, see the README); the daemon must answer and keep answering.
    out = run_as_capture(Identity{0, 0}, [&] {
        if (::unshare(CLONE_NEWUSER) != 0)
            return std::string("unshare(CLONE_NEWUSER) failed");
        std::string a;
        walk_outcomes(mount, std::to_string(other.pid()), 3, a);
        return std::string();
    });
    CHECK(out == "");
    CHECK(read_file(m.path(std::to_string(other.pid()) + "/status")));
    CHECK(compare_walks(mount, std::to_string(nondumpable.pid())) == "");
}

// The daemon's own process too: its worker threads are in its thread group, which the kernel's
// own-process rules (ptrace, proc_fd_permission) let in, so the daemon judges that one itself.
TEST_CASE("a caller with CAP_SYS_PTRACE only gets exactly /proc's access", "[access]")
{
    TestMount m;
    auto other = spawn_sleeper_as(other_uid, true);
    auto root = spawn_sleeper();
    auto nondumpable = spawn_sleeper_as(caller_uid, false);
    std::vector<pid_t> targets{other.pid(), root.pid(), nondumpable.pid()};
    CHECK(check_as(caller_uid, true, m.path(), targets, {m.daemon_pid()}) == "");
    // And without it, the daemon's process answers as any root process.
    CHECK(check_as(caller_uid, false, m.path(), {}, {m.daemon_pid()}) == "");
}

// access(2) checks with the real ids and, for a real uid other than root, no capabilities; the
// request header carries the real ids then, and the task's status its setuid ids. A setuid-root
// program run by nobody must get /proc's answers, with and without AT_EACCESS.
TEST_CASE("a setuid-root program run by nobody gets /proc's access(2) answers", "[access]")
{
    TestMount m;
    auto other = spawn_sleeper_as(other_uid, true);
    auto root = spawn_sleeper();
    const char* built = std::getenv("PROCFSD_ACCESS_PROBE");
    REQUIRE(built);
    std::string probe = m.dir() + "/access-probe";
    int status = -1;
    run_command("cp " + std::string(built) + " " + probe + " && chown 0:0 " + probe + " && chmod 4755 " + probe,
                &status);
    REQUIRE(status == 0);
    std::string out = run_as_capture(Identity{caller_uid, caller_uid}, [&] {
        std::string cmd = probe + " " + m.path() + " " + std::to_string(other.pid()) + " " +
                          std::to_string(root.pid());
        return run_command(cmd);
    });
    ::unlink(probe.c_str());
    INFO(out);
    REQUIRE(out.rfind("ruid 65534 euid 0\n", 0) == 0); // the setuid bit took
    CHECK(out == "ruid 65534 euid 0\n");
}

TEST_CASE("the same holds on a hidepid=noaccess mount", "[access]")
{
    TestMount m("hidepid=noaccess");
    auto other = spawn_sleeper_as(other_uid, true);
    auto nondumpable = spawn_sleeper_as(caller_uid, false);
    // On /proc (hidepid=off) these would be visible; compare with a procfs mounted like ours.
    std::string kproc = m.dir() + "/kproc";
    ::mkdir(kproc.c_str(), 0755);
    int status = -1;
    std::string out = run_command("unshare -m sh -c 'mount -t proc -o hidepid=noaccess proc " + kproc +
                                  " && echo mounted'", &status);
    // The kernel instance can only be compared inside that namespace; the hidepid test does the
    // full comparison. Here: the daemon's worker credentials stay correct under hidepid.
    CHECK(status == 0);
    auto r = run_as(caller_uid, caller_uid, [&] {
        std::string p = std::to_string(other.pid());
        if (lstat_errno(m.path(p)) != 0)
            return 1; // noaccess: listed and stat-able
        if (read_file(m.path(p + "/status")) || errno != EPERM)
            return 2; // entering is EPERM
        return 0;
    });
    CHECK(r == 0);
}

TEST_CASE("worker credentials are restored after every operation, failed ones included", "[access]")
{
    TestMount m;
    auto root = spawn_sleeper();
    std::string environ = m.path(std::to_string(root.pid()) + "/environ");
    // Interleave denied user reads and root reads on every worker thread many times.
    for (int round = 0; round < 50; ++round) {
        int user = run_as(caller_uid, caller_uid, [&] {
            for (int i = 0; i < 20; ++i)
                if (read_file(environ) || errno != EACCES)
                    return 1;
            return 0;
        });
        REQUIRE(user == 0);
        for (int i = 0; i < 20; ++i)
            REQUIRE(read_file(environ).has_value());
        // A user read right after root reads is still denied.
        REQUIRE(run_as(caller_uid, caller_uid, [&] { return read_file(environ) ? 1 : 0; }) == 0);
    }
}

// The daemon reads a few top-level files with its own credentials (lib/proc_files.cpp); every
// other top-level file must still answer each caller as the kernel does: addresses hidden from
// a reader without CAP_SYSLOG (kallsyms, timer_list) or CAP_SYS_ADMIN (iomem, ioports), only the
// reader's own keys (keys, key-users).
TEST_CASE("top-level files answer an unprivileged caller as /proc does, read alike or not", "[access]")
{
    TestMount m;
    const char* stable[] = {"version", "cmdline", "filesystems", "devices", "execdomains",
                            "consoles", "partitions", "swaps", "misc", "crypto", "cgroups",
                            "kallsyms", "iomem", "ioports", "keys", "key-users", "timer_list",
                            "kcore", "kmsg", "slabinfo", "sysrq-trigger", "uptime", "meminfo"};
    // Root reads them first, so the nodes exist before the unprivileged reader comes.
    for (auto f : stable)
        (void)outcome(m.path(f), Kind::read_head, false);
    std::string mount = m.path();
    Identity nobody{caller_uid, caller_uid};
    std::string out = run_as_capture(nobody, [&] {
        // Its own session keyring: what it possesses must not depend on how the tests started.
        if (!join_fresh_session_keyring())
            return std::string("keyctl(JOIN_SESSION_KEYRING) failed");
        std::string mismatches;
        for (auto f : stable) {
            if (::access(("/proc/" + std::string(f)).c_str(), F_OK) != 0)
                continue; // not built into this kernel
            // Volatile: uptime and meminfo (outcome only); keys reveal themselves by content.
            bool content = std::string_view(f) != "uptime" && std::string_view(f) != "meminfo";
            std::string a = outcome("/proc/" + std::string(f), Kind::read_head, content);
            std::string b = outcome(mount + "/" + f, Kind::read_head, content);
            if (a != b)
                mismatches += std::string(f) + "\n  /proc:   " + a + "\n  procfsd: " + b + "\n";
        }
        return mismatches;
    });
    CHECK(out == "");
}

namespace {

// /proc/keys without each key's usage count (its third column), which moves as processes that
// share a keyring (another session's `_ses`) come and go between two reads.
std::string keys_without_usage(const std::string& keys)
{
    std::istringstream lines(keys);
    std::string out;
    for (std::string line; std::getline(lines, line);) {
        std::istringstream fields(line);
        std::string serial, flags, usage;
        fields >> serial >> flags >> usage;
        std::string rest;
        std::getline(fields, rest);
        out += serial + " " + flags + rest + "\n";
    }
    return out;
}

} // namespace

// The kernel decides possession of a key by the opener's keyrings, and procfsd opens
// /proc/keys with the daemon's: a key only the daemon possesses must show to no caller, root
// included (no capability overrides a key's view permission).
TEST_CASE("/proc/keys shows no caller a key only the daemon possesses", "[access][keys]")
{
    // The daemon inherits this session keyring; the key in it grants its possessor alone.
    REQUIRE(join_fresh_session_keyring());
    long key = ::syscall(SYS_add_key, "user", "procfsd-test-possessed", "secret", 6,
                         KEY_SPEC_SESSION_KEYRING);
    REQUIRE(key > 0);
    struct Invalidate {
        long key;
        ~Invalidate() { ::syscall(SYS_keyctl, KEYCTL_INVALIDATE, key); }
    } invalidate{key};
    REQUIRE(::syscall(SYS_keyctl, KEYCTL_SETPERM, key, 0x3f000000) == 0);
    char serial[16];
    std::snprintf(serial, sizeof serial, "%08lx ", key);
    // This process possesses it, so its own read shows it: the filter has something to drop.
    auto own = read_file("/proc/keys");
    REQUIRE(own);
    REQUIRE(own->find(serial) != std::string::npos);

    TestMount m;
    std::string keys = m.path("keys");
    for (const Identity& who : {Identity{caller_uid, caller_uid}, Identity{0, 0}}) {
        std::string out = run_as_capture(who, [&] {
            if (!join_fresh_session_keyring())
                return std::string("keyctl(JOIN_SESSION_KEYRING) failed");
            auto native = read_file("/proc/keys");
            auto served = read_file(keys);
            if (!native || !served)
                return std::string("read failed: ") + std::strerror(errno);
            std::string r;
            if (native->find(serial) != std::string::npos)
                r += "/proc shows it; ";
            if (served->find(serial) != std::string::npos)
                r += "procfsd shows it; ";
            if (keys_without_usage(*native) != keys_without_usage(*served))
                r += "contents differ:\n" + *native + "---\n" + *served;
            return r;
        });
        INFO("uid " << who.uid);
        CHECK(out == "");
    }
}

// sysctl files judge the opener by euid and egid (test_perm), not by fsuid: a daemon thread that
// switched only its fsuid would pass for root there. Opening for writing changes nothing until
// a write, so every file of a few sysctl directories is opened both ways, as a plain user and as
// a member of group root (which gets the group bits), and must meet /proc's answer.
TEST_CASE("sysctl files refuse an unprivileged caller as /proc does, for reading and writing",
          "[access][sysctl]")
{
    TestMount m;
    std::vector<std::string> files;
    for (const char* dir : {"sys/kernel", "sys/vm", "sys/fs", "sys/net/core", "sys/net/ipv4"}) {
        auto names = list_dir("/proc/" + std::string(dir));
        if (!names)
            continue;
        for (auto& n : *names) {
            struct stat st{};
            std::string rel = std::string(dir) + "/" + n;
            if (::lstat(("/proc/" + rel).c_str(), &st) == 0 && S_ISREG(st.st_mode))
                files.push_back(rel);
        }
    }
    REQUIRE(files.size() > 50);
    std::string mount = m.path();
    auto open_errno = [](const std::string& path, int flags) {
        int fd = ::open(path.c_str(), flags | O_NONBLOCK);
        if (fd < 0)
            return std::string(strerrorname_np(errno));
        ::close(fd);
        return std::string("ok");
    };
    size_t refused_native = 0;
    for (const Identity& who : {Identity{caller_uid, caller_uid}, Identity{caller_uid, caller_uid, {0}}}) {
        std::string out = run_as_capture(who, [&] {
            std::string mismatches;
            size_t refused = 0;
            for (auto& f : files)
                for (int flags : {O_RDONLY, O_WRONLY}) {
                    std::string a = open_errno("/proc/" + f, flags);
                    std::string b = open_errno(mount + "/" + f, flags);
                    refused += a != "ok";
                    if (a != b)
                        mismatches += f + (flags == O_RDONLY ? " read" : " write") +
                                      ": /proc " + a + ", procfsd " + b + "\n";
                }
            return mismatches + "refused " + std::to_string(refused);
        });
        INFO("groups " << who.groups.size());
        auto tail = out.rfind("refused ");
        REQUIRE(tail != std::string::npos);
        CHECK(out.substr(0, tail) == "");
        refused_native += std::stoul(out.substr(tail + 8));
    }
    CHECK(refused_native > 0); // the comparison covered refusals, not only successes
}

// A top-level file made unreadable to others after the daemon looked it up is checked again.
TEST_CASE("a top-level file chmod'ed after lookup is refused as /proc refuses it", "[access]")
{
    TestMount m;
    const std::string name = "execdomains"; // read alike by everyone, rarely read by anyone
    struct stat st{};
    REQUIRE(::stat(("/proc/" + name).c_str(), &st) == 0);
    REQUIRE(read_file(m.path(name)));
    REQUIRE(::chmod(("/proc/" + name).c_str(), 0400) == 0);
    struct RestoreMode {
        std::string path;
        mode_t mode;
        ~RestoreMode() { ::chmod(path.c_str(), mode & 07777); }
    } restore{"/proc/" + name, st.st_mode};
    std::string mount = m.path();
    std::string out = run_as_capture(Identity{caller_uid, caller_uid}, [&] {
        return outcome("/proc/" + name, Kind::read, false) + " / " +
               outcome(mount + "/" + name, Kind::read, false);
    });
    CHECK(out == "err EACCES / err EACCES");
}

// A caller in a user namespace its own uid owns: the kernel gives a task every capability in a
// namespace its euid owns, from the parent namespace, so a worker that took the caller's euid
// in the daemon's namespace would hold them all over the caller's namespace. The caller itself,
// with no capability there, may not read its own non-dumpable child's environ.
#if defined(__x86_64__)
constexpr long prctl_syscall = 157;
#elif defined(__aarch64__)
constexpr long prctl_syscall = 167;
#else
constexpr long prctl_syscall = SYS_prctl;
#endif

TEST_CASE("a caller in its own user namespace gets no capability there from the worker", "[access][userns]")
{
    TestMount m;
    std::string mount = m.path();
    auto host_same_uid = spawn_sleeper_as(other_uid, true);
    std::string out = run_as_capture(Identity{other_uid, other_uid}, [&] {
        if (::unshare(CLONE_NEWUSER) != 0)
            return std::string("unshare(CLONE_NEWUSER): ") + strerrorname_np(errno);
        // Root inside maps to its own uid, as `unshare -U -r` does (its /proc/self must be its
        // own again after setuid for that).
        ::prctl(PR_SET_DUMPABLE, 1);
        std::string map = "0 " + std::to_string(other_uid) + " 1";
        int mfd = ::open("/proc/self/uid_map", O_WRONLY);
        if (mfd < 0 || ::write(mfd, map.data(), map.size()) != static_cast<ssize_t>(map.size()))
            return std::string("uid_map: ") + strerrorname_np(errno);
        ::close(mfd);
        int ready[2];
        if (::pipe(ready) != 0)
            return std::string("pipe");
        pid_t child = ::fork();
        if (child == 0) {
            // A program started inside the namespace (its mm belongs to it), made non-dumpable
            // by itself: perl is always there (perl-base is essential), prctl by number.
            ::dup2(ready[1], 1);
            std::string script = "syscall(" + std::to_string(prctl_syscall) +
                                 ", 4, 0, 0, 0, 0) == 0 or exit 1; $| = 1; print 'r'; sleep 1000";
            ::execl("/usr/bin/perl", "perl", "-e", script.c_str(), static_cast<char*>(nullptr));
            ::_exit(127);
        }
        ::close(ready[1]);
        char c;
        if (::read(ready[0], &c, 1) != 1)
            return std::string("the non-dumpable sleeper did not start");
        std::string mismatches;
        // With every capability in its namespace (its root): a process of the same uid outside
        // it is still out of reach (ptrace wants CAP_SYS_PTRACE in the target's namespace).
        for (const std::string& rel : {std::to_string(host_same_uid.pid()) + "/environ",
                                       std::to_string(host_same_uid.pid()) + "/maps"}) {
            std::string a = outcome("/proc/" + rel, Kind::read, false);
            std::string b = outcome(mount + "/" + rel, Kind::read, false);
            if (a != b)
                mismatches += rel + ": /proc " + a + ", procfsd " + b + "; ";
        }
        // Its own non-dumpable child, inside the namespace: its root may read it.
        {
            std::string rel = std::to_string(child) + "/environ";
            std::string a = outcome("/proc/" + rel, Kind::read, false);
            std::string b = outcome(mount + "/" + rel, Kind::read, false);
            if (a != b || a != "ok")
                mismatches += "as root of the namespace: /proc " + a + ", procfsd " + b + "; ";
        }
        // No capability left in the new namespace either.
        __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
        __user_cap_data_struct data[2]{};
        ::syscall(SYS_capset, &hdr, data);
        std::string rel = std::to_string(child) + "/environ";
        std::string a = outcome("/proc/" + rel, Kind::read, false);
        std::string b = outcome(mount + "/" + rel, Kind::read, false);
        ::kill(child, SIGKILL);
        ::waitpid(child, nullptr, 0);
        return mismatches + (a == b ? std::string() : "own namespace: /proc: " + a + ", procfsd: " + b);
    });
    CHECK(out == "");
}

// What the kernel lets a task do to itself alone is granted to the worker only where it applies:
// CAP_SYS_NICE for timerslack_ns, never for autogroup, where it would lift the nice limit.
TEST_CASE("a caller's own autogroup refuses a negative nice as /proc does", "[access]")
{
    if (::access("/proc/self/autogroup", F_OK) != 0)
        SKIP("no CONFIG_SCHED_AUTOGROUP");
    TestMount m;
    std::string mount = m.path();
    std::string out = run_as_capture(Identity{caller_uid, caller_uid}, [&] {
        ::prctl(PR_SET_DUMPABLE, 1); // its /proc/self entries are its own again after setuid
        auto write_nice = [](const std::string& path) {
            int fd = ::open(path.c_str(), O_WRONLY);
            if (fd < 0)
                return std::string("open ") + strerrorname_np(errno);
            ssize_t n = ::write(fd, "-10", 3);
            int err = errno;
            ::close(fd);
            return n < 0 ? std::string("write ") + strerrorname_np(err) : std::string("ok");
        };
        return write_nice("/proc/self/autogroup") + " / " + write_nice(mount + "/self/autogroup");
    });
    CHECK(out == "write EPERM / write EPERM");
}

namespace {

// Sets a sysctl for the scope of a test and puts the old value back.
struct SysctlScope {
    std::string path, old;
    SysctlScope(std::string p, const std::string& value) : path(std::move(p))
    {
        old = read_file(path).value_or("");
        int fd = ::open(path.c_str(), O_WRONLY);
        REQUIRE(fd >= 0);
        REQUIRE(::write(fd, value.data(), value.size()) == static_cast<ssize_t>(value.size()));
        ::close(fd);
    }
    ~SysctlScope()
    {
        int fd = ::open(path.c_str(), O_WRONLY);
        if (fd >= 0) {
            [[maybe_unused]] auto n = ::write(fd, old.data(), old.size());
            ::close(fd);
        }
    }
};

} // namespace

// net/ files print socket addresses with %pK: under kptr_restrict=1 a reader without CAP_SYSLOG
// sees zeros, so the daemon (which may hold CAP_SYSLOG) must read them as the caller.
TEST_CASE("net/ files hide kernel addresses from a reader without CAP_SYSLOG", "[access]")
{
    TestMount m;
    auto sleeper = spawn_sleeper();
    SysctlScope restrict_pointers("/proc/sys/kernel/kptr_restrict", "1");
    std::string rel = std::to_string(sleeper.pid()) + "/net/netlink";
    std::string mount = m.path();
    std::string out = run_as_capture(Identity{caller_uid, caller_uid}, [&] {
        auto a = read_file("/proc/" + rel);
        auto b = read_file(mount + "/" + rel);
        if (!a || !b)
            return std::string("read failed");
        // The first column of each socket line is its address.
        auto addresses = [](const std::string& text) {
            std::string cols;
            std::istringstream in(text);
            std::string line;
            std::getline(in, line); // header
            while (std::getline(in, line))
                cols += line.substr(0, line.find(' ')) + "\n";
            return cols;
        };
        return addresses(*a) == addresses(*b) ? std::string() : "/proc:\n" + addresses(*a) + "procfsd:\n" + addresses(*b);
    });
    CHECK(out == "");
}

// Root may chmod a directory below a pid's net/ (it is a proc_dir_entry of the network
// namespace) after procfsd made its node: listing it and looking up in it are then refused.
TEST_CASE("a net/ directory chmod'ed after lookup is refused as /proc refuses it", "[access]")
{
    TestMount m;
    // A process in a network namespace of its own, so that the chmod touches nothing else.
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    pid_t pid = ::fork();
    if (pid == 0) {
        ::close(ready[0]);
        if (::unshare(CLONE_NEWNET) != 0)
            ::_exit(1);
        ::close(ready[1]);
        for (;;)
            ::pause();
    }
    Child owner(pid);
    ::close(ready[1]);
    char c;
    [[maybe_unused]] auto n = ::read(ready[0], &c, 1);
    ::close(ready[0]);
    std::string rel = std::to_string(pid) + "/net/stat";
    REQUIRE(list_dir(m.path(rel))); // nodes made while it is open to all
    REQUIRE(::chmod(("/proc/" + rel).c_str(), 0700) == 0);
    std::string mount = m.path();
    std::string out = run_as_capture(Identity{caller_uid, caller_uid}, [&] {
        std::string r;
        for (auto [path, kind] : {std::pair{rel, Kind::list}, std::pair{rel + "/rt_cache", Kind::read}})
            r += outcome("/proc/" + path, kind, false) + " / " + outcome(mount + "/" + path, kind, false) + "\n";
        return r;
    });
    CHECK(out == "err EACCES / err EACCES\nerr EACCES / err EACCES\n");
}

namespace {

// What writing `text` to `path` gives: "ok" or the errno's name.
std::string write_result(const std::string& path, const std::string& text)
{
    int fd = ::open(path.c_str(), O_WRONLY);
    if (fd < 0)
        return strerrorname_np(errno);
    ssize_t n = ::write(fd, text.data(), text.size());
    int err = errno;
    ::close(fd);
    return n < 0 ? strerrorname_np(err) : "ok";
}

std::string stat_result(const std::string& path)
{
    int err = lstat_errno(path);
    return err ? strerrorname_np(err) : "ok";
}

} // namespace

// The worker threads are in the daemon's thread group, which the kernel lets write its threads'
// comm (proc_tid_comm_permission, comm_write) and search its fdinfo/ (proc_fdinfo_permission)
// whatever the caller: the daemon answers as the kernel does for any other root process, here
// one of the test's own children, read natively by a process outside its group.
TEST_CASE("nobody renames the daemon's threads or searches its fdinfo/", "[access][daemon]")
{
    TestMount m;
    Child other = spawn_sleeper();
    const std::string d = std::to_string(m.daemon_pid());
    const std::string o = std::to_string(other.pid());
    Identity nobody{65534, 65534};
    auto as_nobody = [&](const std::function<std::string()>& fn) { return run_as_capture(nobody, fn); };

    for (const std::string& rel : std::vector<std::string>{"/comm", "/task/" + d + "/comm"}) {
        INFO(rel);
        std::string native = as_nobody([&] { return write_result("/proc/" + o + replace_all(rel, d, o), "x"); });
        CHECK(native == "EACCES");
        CHECK(as_nobody([&] { return write_result(m.path(d + rel), "x"); }) == native);
        // Root may open it, and is refused the write: only the thread group may.
        std::string root_native = write_result("/proc/" + o + replace_all(rel, d, o), "x");
        CHECK(root_native == "EINVAL");
        CHECK(write_result(m.path(d + rel), "x") == root_native);
    }
    CHECK(read_file(m.path(d + "/comm")) == read_file("/proc/" + d + "/comm"));

    std::string native = as_nobody([&] { return stat_result("/proc/" + o + "/fdinfo/0"); });
    CHECK(native == "EACCES");
    CHECK(as_nobody([&] { return stat_result(m.path(d + "/fdinfo/0")); }) == native);
}
