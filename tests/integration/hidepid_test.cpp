// SPDX-License-Identifier: GPL-2.0-or-later
// hidepid=, gid= and subset=pid through procfsd give each caller exactly what a kernel procfs
// mounted with the same options gives that caller: the same listings, the same errnos.
#include <catch2/catch_test_macros.hpp>
#include <fcntl.h>
#include <grp.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <sstream>

#include "harness.hpp"

using namespace procfsd::test;

namespace {

constexpr gid_t group_g = 4242;   // the mounts' gid=
constexpr uid_t user_in_g = 4243; // a user with group_g as a supplementary group

// What one caller observes of one pid on one mount, as a comparable line.
std::string observe(const std::string& mount, pid_t pid)
{
    std::ostringstream out;
    std::string p = std::to_string(pid);
    auto root = list_dir(mount);
    out << "root:" << (root ? "ok" : strerror(errno));
    if (root) {
        out << " listed=" << (std::find(root->begin(), root->end(), p) != root->end());
        size_t non_pid = 0;
        for (auto& n : *root)
            non_pid += !std::all_of(n.begin(), n.end(), ::isdigit);
        out << " non_pid=" << non_pid;
    }
    struct stat st{};
    int e = lstat_errno(mount + "/" + p, &st);
    out << " stat=" << e;
    if (!e)
        out << " uid=" << st.st_uid;
    auto dir = list_dir(mount + "/" + p);
    out << " ls=" << (dir ? 0 : errno);
    auto status = read_file(mount + "/" + p + "/status");
    out << " status=" << (status ? 0 : errno);
    // stat() of an entry below the pid directory, which an earlier caller's walk left cached.
    out << " status_stat=" << lstat_errno(mount + "/" + p + "/status");
    auto environ = read_file(mount + "/" + p + "/environ");
    out << " environ=" << (environ ? 0 : errno);
    auto exe = read_link(mount + "/" + p + "/exe");
    out << " exe=" << (exe ? 0 : errno);
    out << " task=" << lstat_errno(mount + "/" + p + "/task/" + p);
    out << " meminfo=" << lstat_errno(mount + "/meminfo");
    out << " self=" << lstat_errno(mount + "/self/status");
    return out.str();
}

std::string as_user(uid_t uid, gid_t gid, std::vector<gid_t> groups,
                    const std::function<std::string()>& fn)
{
    return run_as_capture(Identity{uid, gid, std::move(groups)}, fn);
}

// A private mount namespace for the test process, so that the kernel procfs instances it mounts
// (and the daemon it starts, which inherits it) vanish with it.
struct PrivateMounts {
    std::string dir;
    std::vector<std::string> mounts;
    PrivateMounts()
    {
        REQUIRE(::unshare(CLONE_NEWNS) == 0);
        REQUIRE(::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) == 0);
        char tmpl[] = "/tmp/procfsd-kproc-XXXXXX";
        REQUIRE(::mkdtemp(tmpl));
        dir = tmpl;
        ::chmod(dir.c_str(), 0755); // unprivileged callers must reach the mounts
    }
    std::string mount_proc(const std::string& options)
    {
        std::string path = dir + "/k" + std::to_string(next++);
        ::mkdir(path.c_str(), 0755);
        REQUIRE(::mount("proc", path.c_str(), "proc", 0, options.c_str()) == 0);
        mounts.push_back(path);
        return path;
    }
    void unmount_all()
    {
        for (auto& m : mounts) {
            ::umount2(m.c_str(), MNT_DETACH);
            ::rmdir(m.c_str());
        }
        mounts.clear();
    }
    ~PrivateMounts()
    {
        unmount_all();
        ::rmdir(dir.c_str());
    }
    size_t next = 0;
};

} // namespace

// Every hidepid= value, with and without gid= and subset=pid: sixteen mounts of one daemon, each
// beside a kernel procfs mounted with the same options.
std::vector<std::string> option_matrix()
{
    std::vector<std::string> out;
    for (const char* hidepid : {"off", "noaccess", "invisible", "ptraceable"})
        for (bool gid : {false, true})
            for (bool subset : {false, true})
                out.push_back(std::string("hidepid=") + hidepid +
                              (gid ? ",gid=" + std::to_string(group_g) : "") +
                              (subset ? ",subset=pid" : ""));
    return out;
}

TEST_CASE("every combination of hidepid=, gid= and subset=pid matches kernel procfs for every caller",
          "[hidepid]")
{
    PrivateMounts k;
    const std::vector<std::string> options = option_matrix();
    TestMount m(options[0], std::vector<std::string>(options.begin() + 1, options.end()));
    auto root_sleeper = spawn_sleeper();
    auto nobody_sleeper = spawn_as_nobody();

    struct Who {
        const char* name;
        Identity id;
    };
    constexpr uint64_t cap_sys_ptrace = 1ull << 19;
    const std::vector<Who> callers{{"root", {0, 0}},
                                   {"nobody", {65534, 65534}},
                                   {"member of G", {user_in_g, user_in_g, {group_g}}},
                                   {"nobody with CAP_SYS_PTRACE", {65534, 65534, {}, cap_sys_ptrace}}};
    // Twice: the second round runs after every caller's lookups are in the kernel's caches, so
    // an answer cached for root that leaked to another caller would show.
    for (int round = 0; round < 2; ++round)
        for (auto& who : callers) {
            // Fresh kernel instances for each caller: with hidepid=ptraceable the kernel refuses
            // the lookup of a pid the caller may not ptrace (ENOENT), but a dentry left by an
            // earlier caller's lookup makes the same walk end in proc_pid_permission's EPERM.
            // procfsd answers as a fresh instance does, whoever asked before.
            k.unmount_all();
            std::vector<std::string> kernel;
            for (auto& o : options)
                kernel.push_back(k.mount_proc(o));
            // One child per caller and round walks all mounts: a report line per mismatch.
            std::string report = run_as_capture(who.id, [&] {
                std::string out;
                for (size_t i = 0; i < options.size(); ++i)
                    // Pid 1 too: where it lives in an ancestor user namespace (a container's
                    // init), not even the daemon may ptrace it, yet gid= lists it.
                    for (pid_t target : {root_sleeper.pid(), nobody_sleeper.pid(), ::getpid(), 1}) {
                        std::string a = observe(kernel[i], target);
                        std::string b = observe(m.mount_path(i), target);
                        if (a.rfind("root:ok", 0) != 0)
                            out += "cannot list " + kernel[i] + ": " + a + "\n";
                        if (a != b)
                            out += options[i] + ", pid " + std::to_string(target) +
                                   "\n  kernel:  " + a + "\n  procfsd: " + b + "\n";
                    }
                return out;
            });
            INFO("round " << round << ", caller " << who.name);
            CHECK(report == "");
        }
}

TEST_CASE("hidepid=ptraceable hides a non-dumpable process of the caller's own uid", "[hidepid]")
{
    PrivateMounts k;
    std::string kernel = k.mount_proc("hidepid=ptraceable");
    TestMount m("hidepid=ptraceable");
    // A process of nobody's that made itself non-dumpable, as a setuid program would be.
    pid_t hidden = ::fork();
    if (hidden == 0) {
        if (::setgid(65534) != 0 || ::setuid(65534) != 0)
            ::_exit(1);
        ::prctl(PR_SET_DUMPABLE, 0);
        for (;;)
            ::pause();
    }
    Child hidden_child(hidden);
    auto visible = spawn_as_nobody();
    REQUIRE(wait_until([&] { return read_file("/proc/" + std::to_string(hidden) + "/status").has_value(); }));
    std::string report = as_user(65534, 65534, {}, [&] {
        std::string out;
        for (pid_t target : {hidden, visible.pid()}) {
            std::string a = observe(kernel, target);
            std::string b = observe(m.path(), target);
            if (a != b)
                out += "pid " + std::to_string(target) + "\n  kernel:  " + a + "\n  procfsd: " + b + "\n";
        }
        if (int e = lstat_errno(m.path(std::to_string(hidden))); e != ENOENT)
            out += "the non-dumpable process is visible: " + observe(m.path(), hidden) + "\n";
        if (int e = lstat_errno(m.path(std::to_string(visible.pid()))); e != 0)
            out += "the ptraceable process is hidden: " + observe(m.path(), visible.pid()) + "\n";
        return out;
    });
    CHECK(report == "");
}

// A caller from another user namespace may ptrace nothing outside it, so hidepid= hides every
// process outside it from that caller, those of its own uid included, unless gid= admits it.
TEST_CASE("hidepid= hides the processes outside a caller's user namespace as the kernel does",
          "[hidepid][userns]")
{
    PrivateMounts k;
    const std::vector<std::string> options{"hidepid=invisible", "hidepid=noaccess",
                                           "hidepid=invisible,gid=" + std::to_string(group_g)};
    std::vector<std::string> kernel;
    for (auto& o : options)
        kernel.push_back(k.mount_proc(o));
    TestMount m(options[0], {options[1], options[2]});
    auto nobody_sleeper = spawn_as_nobody(); // the caller's own uid, outside its namespace
    for (const auto& groups : {std::vector<gid_t>{}, std::vector<gid_t>{group_g}}) {
        std::string report = run_as_capture(Identity{65534, 65534, groups}, [&] {
            ::prctl(PR_SET_DUMPABLE, 1); // to write its own uid_map
            if (::unshare(CLONE_NEWUSER) != 0)
                return std::string("unshare(CLONE_NEWUSER) failed");
            int fd = ::open("/proc/self/uid_map", O_WRONLY);
            const char map[] = "0 65534 1";
            if (fd < 0 || ::write(fd, map, sizeof map - 1) != static_cast<ssize_t>(sizeof map - 1))
                return std::string("uid_map failed");
            ::close(fd);
            std::string out;
            for (size_t i = 0; i < options.size(); ++i) {
                std::string a = observe(kernel[i], nobody_sleeper.pid());
                std::string b = observe(m.mount_path(i), nobody_sleeper.pid());
                if (a != b)
                    out += options[i] + "\n  kernel:  " + a + "\n  procfsd: " + b + "\n";
            }
            return out;
        });
        INFO("supplementary groups: " << groups.size());
        CHECK(report == "");
    }
}
