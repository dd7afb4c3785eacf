// SPDX-License-Identifier: GPL-2.0-or-later
#include "targets.hpp"

#include "emergency_stop.hpp"
#include "file_tools.hpp"
#include "mount_tools.hpp"
#include "options.hpp"
#include "process_tools.hpp"
#include "scan.hpp"
#include "text.hpp"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>

namespace procfsd::bench {

using namespace std::chrono_literals;

namespace {

// A server that ends if the bench dies (SIGTERM: it unmounts), stdout on /dev/null.
pid_t spawn_server(const std::vector<std::string>& argv)
{
    pid_t p = support::spawn(argv, {.death_signal = SIGTERM, .quiet = true, .env = std::nullopt});
    if (p > 0)
        remember_server(p);
    return p;
}

// The init script of the bench's pid namespace: `n` sleepers, then it waits.
std::string sleepers_script(size_t n)
{
    return strprintf("i=0; while [ $i -lt %zu ]; do sleep infinity & i=$((i+1)); done; wait", n);
}

// Whether the namespace behind the kernel instance `root` holds its init and `n` processes that
// run sleep (forked and exec'd).
bool holds_sleepers(int root, size_t n)
{
    auto pids = support::list_pids(root);
    if (pids.size() != n + 1)
        return false;
    char comm[32];
    for (auto& p : pids)
        if (p != "1" && read_whole(root, (p + "/comm").c_str(), comm, sizeof comm) != 6)
            return false;
    return true;
}

} // namespace

bool TargetSet::start_all(size_t pidns_procs)
{
    dir_ = support::make_scratch_dir("procfsd-bench");
    if (dir_.empty()) {
        note("mkdtemp: %s", std::strerror(errno));
        return false;
    }

    native.name = "native";
    native.root = "/proc";
    native.fd = ::open("/proc", O_PATH | O_DIRECTORY | O_CLOEXEC);
    native.up = native.measured = native.fd >= 0;
    native_ns = native;
    native_ns.name = "native+ns";

    // First, so that the floor lists as many pids as /proc, the namespace's included.
    if (pidns_procs > 0)
        start_pidns(pidns_procs);
    pids_listed_ = support::list_pids(native.fd).size();
    start_procfsd(off, "procfsd-off", "entry_timeout=3600,io_uring=off");
    start_procfsd(inv, "procfsd-inv", "hidepid=invisible,io_uring=off");
    start_floor(floor, "floor", pids_listed_, false);
    std::string no_uring;
#ifndef PROCFSD_FUSE_URING
    no_uring = "built with the system's libfuse (-Dsystem_libfuse=true)";
#endif
    if (no_uring.empty() && !support::io_uring_allowed())
        no_uring = "kernel.io_uring_disabled is set";
    if (no_uring.empty()) {
        uring_.emplace('Y');
        remember_uring_param(uring_->saved());
        if (!uring_->usable())
            no_uring = std::string("cannot set ") + support::enable_uring_path + " (Linux 6.14+)";
    }
    if (no_uring.empty()) {
        start_procfsd(off_uring, "procfsd-uring", "entry_timeout=3600,io_uring=on");
        start_floor(floor_uring, "floor-uring", pids_listed_, true);
    } else {
        off_uring.problem = floor_uring.problem = "no FUSE over io_uring here: " + no_uring;
        note("io_uring targets: %s", off_uring.problem.c_str());
    }
    start_bindfs();
    main = up({&native, &off, &inv, &floor, &off_uring, &floor_uring, &bindfs});
    return off.up || inv.up;
}

bool TargetSet::start_pidns(size_t procs)
{
    native_pidns.name = "native-pidns";
    pidns.name = "procfsd-pidns";
    box_ = std::make_unique<support::PidNamespace>(sleepers_script(procs));
    if (!box_->ok()) {
        native_pidns.problem = pidns.problem = "no pid namespace: " + box_->problem();
        note("pidns targets: %s", native_pidns.problem.c_str());
        box_.reset();
        return false;
    }
    box_procs_ = procs;
    if (!support::wait_until([&] { return holds_sleepers(box_->kernel(), procs); }, 120s, 20ms)) {
        native_pidns.problem = pidns.problem =
            strprintf("the namespace did not get its %zu processes in 120 s", procs);
        note("pidns targets: %s", native_pidns.problem.c_str());
        stop_pidns();
        return false;
    }
    if (mount_kernel_instance(native_pidns))
        start_procfsd(pidns, pidns.name, "entry_timeout=3600,pidns=" + box_->ns_path());
    pidns.in_pidns = true;
    if (!native_pidns.up || !pidns.up) {
        stop_pidns();
        return false;
    }
    pidns_pair = {&native_pidns, &pidns};
    return true;
}

// The namespace's own kernel procfs at a directory of ours, as ps over it needs a path.
bool TargetSet::mount_kernel_instance(Target& t)
{
    t.kind = Kind::native;
    t.in_pidns = true;
    t.root = dir_ + "/" + t.name;
    ::mkdir(t.root.c_str(), 0755);
    UniqueFd instance = support::kernel_procfs(box_->ns());
    remember_mount(t.root);
    if (!instance ||
        ::move_mount(instance.get(), "", AT_FDCWD, t.root.c_str(), MOVE_MOUNT_F_EMPTY_PATH) != 0) {
        t.problem = strprintf("the kernel's procfs for the namespace: %s", std::strerror(errno));
        note("%s: %s", t.name.c_str(), t.problem.c_str());
        return false;
    }
    t.fd = ::open(t.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    t.up = t.measured = t.fd >= 0;
    return t.up;
}

void TargetSet::stop_pidns()
{
    stop(pidns);
    stop(native_pidns);
    box_.reset();
}

bool TargetSet::wait_ready(Target& t)
{
    int status = 0;
    switch (support::wait_for_mounts(t.daemon, {t.root}, "", 15s, &status)) {
    case support::MountWait::server_exited:
        forget_server(t.daemon);
        t.daemon = -1;
        t.problem = strprintf("server exited (status %d) before the mount was ready", status);
        return false;
    case support::MountWait::timed_out:
        t.problem = "mount not ready in time";
        return false;
    case support::MountWait::ready:
        break;
    }
    auto m = support::mount_at(t.root);
    t.device = m ? m->device : "";
    t.fd = ::open(t.root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
    t.up = t.measured = t.fd >= 0;
    return t.up;
}

bool TargetSet::start_procfsd(Target& t, const std::string& name, const std::string& opts)
{
    t.name = name;
    t.kind = Kind::procfsd;
    t.root = dir_ + "/" + name;
    t.control = strprintf("bench-%d-%s", static_cast<int>(::getpid()), name.c_str());
    ::mkdir(t.root.c_str(), 0755);
    remember_mount(t.root);
    t.daemon = spawn_server(
        {opt_.procfsd, "-f", "--log-level", "warn", "--control", t.control, t.root, "-o", opts});
    if (t.daemon < 0) {
        t.problem = "cannot fork";
        return false;
    }
    if (!wait_ready(t)) {
        note("%s: %s", name.c_str(), t.problem.c_str());
        stop(t);
        return false;
    }
    return true;
}

bool TargetSet::start_floor(Target& t, const std::string& name, size_t pids, bool io_uring)
{
    t.name = name;
    t.kind = Kind::floor;
    t.root = dir_ + "/" + name;
    ::mkdir(t.root.c_str(), 0755);
    remember_mount(t.root);
    std::vector<std::string> argv{opt_.floor, "--pids", std::to_string(pids)};
    if (io_uring)
        argv.push_back("--io-uring");
    argv.push_back(t.root);
    t.daemon = spawn_server(argv);
    if (t.daemon < 0 || !wait_ready(t)) {
        note("%s: %s", name.c_str(), t.problem.c_str());
        stop(t);
        return false;
    }
    return true;
}

bool TargetSet::start_bindfs()
{
    bindfs.name = "bindfs";
    bindfs.kind = Kind::bindfs;
    bindfs.root = dir_ + "/bindfs";
    if (opt_.no_bindfs) {
        bindfs.problem = "skipped (--no-bindfs)";
        return false;
    }
    // bindfs >= 1.17 has --direct-io; older ones (Debian 12: 1.14.7, libfuse 2) take the
    // generic FUSE option. Without it, /proc files (size 0) would read empty.
    auto help = support::run_program({opt_.bindfs, "--help"}, true);
    if (help.status < 0 || (WIFEXITED(help.status) && WEXITSTATUS(help.status) == 127)) {
        bindfs.problem = "bindfs not found (scripts/dev bench installs it)";
        note("%s", bindfs.problem.c_str());
        return false;
    }
    bool has_flag = (help.out + help.err).find("--direct-io") != std::string::npos;
    bindfs_mode_ = has_flag ? "--direct-io" : "-o direct_io";
    ::mkdir(bindfs.root.c_str(), 0755);
    remember_mount(bindfs.root);
    std::vector<std::string> argv{opt_.bindfs, "-f"};
    if (has_flag) {
        argv.push_back("--direct-io");
    } else {
        argv.push_back("-o");
        argv.push_back("direct_io");
    }
    argv.push_back("/proc");
    argv.push_back(bindfs.root);
    bindfs.daemon = spawn_server(argv);
    if (bindfs.daemon < 0 || !wait_ready(bindfs)) {
        note("bindfs: %s", bindfs.problem.c_str());
        stop(bindfs);
        return false;
    }
    auto version = support::run_program({opt_.bindfs, "--version"}, true);
    bindfs_version_ = version.out.substr(0, version.out.find('\n'));
    return true;
}

void TargetSet::stop(Target& t)
{
    // Everything but /proc itself is ours to close and unmount.
    bool ours = t.root != "/proc" && !t.root.empty();
    if (t.fd >= 0 && ours) {
        ::close(t.fd);
        t.fd = -1;
    }
    if (t.daemon > 0) {
        ::kill(t.daemon, SIGTERM);
        if (!support::reaped_within(t.daemon, 10s)) {
            note("%s: server %d did not stop on SIGTERM within 10 s: SIGKILL", t.name.c_str(),
                 t.daemon);
            t.problem += (t.problem.empty() ? "" : "; ") + std::string("did not stop on SIGTERM");
            ::kill(t.daemon, SIGKILL);
            if (!support::reaped_within(t.daemon, 5s)) {
                // A thread of it is stuck in the kernel (e.g. an invalidation waiting for a
                // directory lock that a request to this very server holds): abort the connection.
                note("%s: server %d still there 5 s after SIGKILL: aborting FUSE connection %s",
                     t.name.c_str(), t.daemon, t.device.c_str());
                t.problem += "; stuck after SIGKILL, connection aborted";
                support::abort_fuse_connection(t.device);
                if (!support::reaped_within(t.daemon, 10s))
                    note("%s: server %d is still not gone; leaving it", t.name.c_str(), t.daemon);
            }
        }
        forget_server(t.daemon);
        t.daemon = -1;
    }
    if (ours) {
        for (int i = 0; i < 3 && support::is_mounted(t.root); ++i) {
            if (::umount2(t.root.c_str(), i == 0 ? 0 : MNT_DETACH) != 0)
                note("umount %s: %s", t.root.c_str(), std::strerror(errno));
        }
        ::rmdir(t.root.c_str());
    }
    t.up = false;
}

void TargetSet::stop_all()
{
    stop_pidns();
    for (Target* t : {&off, &inv, &floor, &off_uring, &floor_uring, &bindfs, &w6, &res, &res_uring})
        if (t->daemon > 0 || (!t->root.empty() && support::is_mounted(t->root)))
            stop(*t);
    if (native.fd >= 0) {
        ::close(native.fd);
        native.fd = -1;
    }
    if (!dir_.empty()) {
        ::rmdir(dir_.c_str());
        dir_.clear();
    }
}

Counters TargetSet::counters(const Target& t) const
{
    auto r = support::run_program({opt_.procfsd, "--control", t.control, "ctl", "list"}, true, 10);
    if (!support::exited_ok(r.status)) {
        note("%s: procfsd ctl list failed (status %d): %s", t.name.c_str(), r.status,
             r.err.substr(0, 300).c_str());
        return {};
    }
    return support::parse_counters(r.out);
}

std::vector<Target*> TargetSet::up(std::initializer_list<Target*> list) const
{
    std::vector<Target*> out;
    for (Target* t : list)
        if (t->up)
            out.push_back(t);
    return out;
}

Json TargetSet::json() const
{
    Json t = Json::object();
    for (const Target* x : {&native, &off, &inv, &floor, &bindfs, &native_pidns, &pidns}) {
        if (x->name.empty())
            continue;
        Json j;
        j["root"] = x->root;
        j["up"] = x->up;
        if (!x->problem.empty())
            j["problem"] = x->problem;
        t[x->name] = j;
    }
    t["procfsd-off"]["options"] = "entry_timeout=3600 (hidepid=off)";
    t["procfsd-inv"]["options"] = "hidepid=invisible";
    if (box_procs_ > 0) {
        t["procfsd-pidns"]["options"] = "entry_timeout=3600,pidns=<the bench's namespace>";
        t["procfsd-pidns"]["processes"] = box_procs_ + 1;
        t["native-pidns"]["processes"] = box_procs_ + 1;
    }
    return t;
}

Json TargetSet::bindfs_json() const
{
    Json j;
    j["version"] = bindfs_version_;
    j["options"] = bindfs_mode_ + " (single-threaded: bindfs's default)";
    return j;
}

std::vector<Target*> rotated(const std::vector<Target*>& v, int round)
{
    std::vector<Target*> out(v);
    if (!out.empty())
        std::rotate(out.begin(), out.begin() + (round % static_cast<int>(out.size())), out.end());
    return out;
}

std::vector<Target*> with_group(const std::vector<Target*>& order,
                                const std::vector<Target*>& group, int round)
{
    std::vector<Target*> out(order);
    auto g = rotated(group, round);
    out.insert(out.begin() + (round % static_cast<int>(order.size() + 1)), g.begin(), g.end());
    return out;
}

long long requests_total(const Counters& c)
{
    long long n = 0;
    for (auto& [k, v] : c)
        if (k.rfind("requests_", 0) == 0)
            n += v;
    return n;
}

long long counter(const Counters& c, const std::string& key)
{
    auto it = c.find(key);
    return it == c.end() ? -1 : it->second;
}

std::string request_breakdown(const Counters& before, const Counters& after)
{
    std::string out;
    for (auto& [k, v] : after) {
        if (k.rfind("requests_", 0) != 0)
            continue;
        long long d = v - counter(before, k);
        if (d > 0)
            out += (out.empty() ? "" : " ") + k.substr(9) + "=" + std::to_string(d);
    }
    return out;
}

pid_t daemon_pid_of(const Target& t, const Counters& c)
{
    long long p = counter(c, "daemon_pid");
    return p > 0 ? static_cast<pid_t>(p) : t.daemon;
}

} // namespace procfsd::bench
