// SPDX-License-Identifier: GPL-2.0-or-later
#include "fuse/judged_by_daemon.hpp"

#include <linux/capability.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sstream>
#include <vector>

#include "procfsd/sys.hpp"

namespace procfsd {

namespace {

// __ptrace_may_access() for the daemon as target: the ids match (all the daemon's are 0) and,
// since cap_ptrace_access_check() wants the target's permitted capabilities within the
// caller's effective ones, the caller holds every capability the daemon holds; or it has
// CAP_SYS_PTRACE. Capabilities of a caller in another user namespace count for nothing.
bool caller_may_ptrace_daemon(const Caller& caller)
{
    if ((caller.capabilities() & (uint64_t{1} << CAP_SYS_PTRACE)) != 0)
        return true;
    return caller.fsuid() == 0 && caller.fsgid() == 0 && caller.as_privileged_as_daemon();
}

bool is_daemon(const Node& node)
{
    static const pid_t self = ::getpid();
    return node.task && node.task->tgid == self;
}

// has_pid_permissions() for this caller and a process it may (`may_ptrace`) or may not ptrace;
// `min` as in the kernel.
bool hidepid_allows(const Request& r, Hidepid min, bool may_ptrace)
{
    const auto& o = r.mount.options();
    if (o.hidepid == Hidepid::ptraceable)
        return may_ptrace;
    if (static_cast<int>(o.hidepid) < static_cast<int>(min))
        return true;
    if (o.gid && r.caller.in_group(*o.gid))
        return true;
    return may_ptrace;
}

// A caller from another user namespace and a process outside it (not its own): the kernel
// refuses the caller every ptrace check on it; a worker thread would pass them.
bool outside_foreign_caller(const Request& r, const TrackedTask& task)
{
    if (r.caller.in_daemon_user_ns() || task.tgid == r.caller.tgid())
        return false;
    return r.caller.user_ns() == 0 || user_namespace_of(task.tid) != r.caller.user_ns();
}

// generic_permission() for a directory: the owner's, the group's or the others' bits, whichever
// class the caller is in, else CAP_DAC_OVERRIDE, or CAP_DAC_READ_SEARCH to read and search.
bool directory_permits(const Caller& caller, const struct stat& st, int mask)
{
    mode_t bits = caller.fsuid() == st.st_uid ? (st.st_mode >> 6) & 7
                  : caller.in_group(st.st_gid) ? (st.st_mode >> 3) & 7
                                               : st.st_mode & 7;
    if ((bits & static_cast<mode_t>(mask)) == static_cast<mode_t>(mask))
        return true;
    uint64_t caps = caller.capabilities();
    if (caps & (uint64_t{1} << CAP_DAC_OVERRIDE))
        return true;
    return (caps & (uint64_t{1} << CAP_DAC_READ_SEARCH)) && !(mask & W_OK);
}

} // namespace

bool shielded_daemon_node(const Request& r, const Node& node)
{
    if (is_daemon(node))
        return !caller_may_ptrace_daemon(r.caller);
    // A caller in another user namespace: the worker stays in the daemon's, where the kernel's
    // ptrace checks would judge it as a same-namespace task (uid match, empty capability sets)
    // and let it at processes the caller may not inspect. So only its own process and those
    // in its own user namespace are left to the kernel; for all others the answer is the one
    // for a caller without ptrace access.
    // Only what the kernel gates by ptrace is concerned, which keeps this off the hot path.
    bool gated = node.kind == NodeKind::pid_entry && node.entry &&
                 (node.entry->ptrace_gated || node.entry->ptrace_zeroes);
    return gated && node.task && outside_foreign_caller(r, *node.task);
}

namespace {

// The hidepid= answer for `node` when the daemon must judge it (see the header), entering
// the pid directory (`enter`) or only looking at it; 0 when the source decides.
int hidepid_judged(const Request& r, const Node& node, bool enter)
{
    if (!node.task || r.mount.options().hidepid == Hidepid::off)
        return 0;
    bool may_ptrace;
    if (is_daemon(node))
        may_ptrace = caller_may_ptrace_daemon(r.caller);
    else if (outside_foreign_caller(r, *node.task))
        may_ptrace = false;
    else
        return 0; // the source, read as the caller, decides
    // getattr of /proc/<pid> hides it from hidepid>=invisible (pid_getattr); entering it is
    // refused from noaccess up (proc_pid_permission), with ENOENT when invisible.
    if (!hidepid_allows(r, Hidepid::invisible, may_ptrace))
        return -ENOENT;
    if (enter && !hidepid_allows(r, Hidepid::noaccess, may_ptrace))
        return -EPERM;
    return 0;
}

} // namespace

int daemon_hidepid_check(const Request& r, const Node& node)
{
    return hidepid_judged(r, node, node.kind != NodeKind::pid_dir);
}

int daemon_hidepid_enter_check(const Request& r, const Node& node)
{
    return hidepid_judged(r, node, true);
}

bool daemon_pid_listed(const Request& r)
{
    return hidepid_allows(r, Hidepid::invisible, caller_may_ptrace_daemon(r.caller));
}

bool foreign_pid_listed(const Request& r, pid_t pid)
{
    if (r.caller.in_daemon_user_ns() || pid == r.caller.tgid())
        return true;
    if (r.caller.user_ns() != 0 && user_namespace_of(pid) == r.caller.user_ns())
        return true; // inside its namespace: the source decides
    return hidepid_allows(r, Hidepid::invisible, false);
}

int daemon_ptrace_check(const Request& r, const Node& node)
{
    if (node.entry && node.entry->ptrace_gated && shielded_daemon_node(r, node))
        return -EACCES;
    return 0;
}

int daemon_private_dir_check(const Request& r, const Node& dir, int mask)
{
    if (mask == 0 || !is_daemon(dir) || !is_entry_itself(dir) || !dir.entry->own_process_enters)
        return 0;
    struct stat st{};
    if (int rv = sys::fstatat(r.mount.source_fd(), dir.path.c_str(), &st, AT_SYMLINK_NOFOLLOW); rv < 0)
        return rv;
    return directory_permits(r.caller, st, mask) ? 0 : -EACCES;
}

std::optional<std::string> daemon_unpermitted_content(const Node& node, int source_fd)
{
    if (!node.entry || node.kind != NodeKind::pid_entry)
        return std::nullopt;
    if (node.entry->name == "wchan")
        return std::string("0");
    if (node.entry->name == "stat") {
        auto text = sys::read_small_file(source_fd, node.path.c_str());
        if (text.ok())
            return zero_unpermitted_stat(text.value);
    }
    return std::nullopt;
}

std::string zero_unpermitted_stat(std::string_view stat)
{
    // Fields after "pid (comm)" are numbered from 3; comm may hold spaces and parentheses.
    auto close = stat.rfind(')');
    if (close == std::string_view::npos)
        return std::string(stat);
    std::string head(stat.substr(0, close + 1));
    std::istringstream in(std::string(stat.substr(close + 1)));
    std::vector<std::string> fields;
    std::string f;
    while (in >> f)
        fields.push_back(f);
    auto set = [&](size_t field, const char* value) {
        if (field >= 3 && field - 3 < fields.size())
            fields[field - 3] = value;
    };
    // startcode and endcode read 1 (the process has an mm), startstack, kstkesp, kstkeip and
    // wchan 0; start_data .. env_end and exit_code 0.
    set(26, "1");
    set(27, "1");
    for (size_t i : {28, 29, 30, 35, 45, 46, 47, 48, 49, 50, 51, 52})
        set(i, "0");
    std::string out = head;
    for (auto& x : fields)
        out += " " + x;
    out += "\n";
    return out;
}

} // namespace procfsd
