// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/caller.hpp"

#include <linux/capability.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <sstream>
#include <string>
#include <string_view>

#include "procfsd/sys.hpp"

namespace procfsd {

namespace {

// The scope this thread runs in, if any (scopes must not nest).
thread_local bool in_scope = false;

// The user namespace's inode number from the link text ("user:[4026531837]"): a readlink does
// not follow the link into nsfs as stat() would, at a third of the cost on every request.
ino_t user_ns_of(const std::string& path)
{
    char buf[64];
    ssize_t n = ::readlink(path.c_str(), buf, sizeof buf - 1);
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    const char* open = std::strchr(buf, '[');
    return open ? static_cast<ino_t>(std::strtoull(open + 1, nullptr, 10)) : 0;
}

uint64_t effective_of(const __user_cap_data_struct* caps)
{
    return static_cast<uint64_t>(caps[0].effective) | (static_cast<uint64_t>(caps[1].effective) << 32);
}

int capget_self(__user_cap_data_struct* data)
{
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    return ::syscall(SYS_capget, &hdr, data) == 0 ? 0 : -errno;
}

int capset_self(const __user_cap_data_struct* data)
{
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
    return ::syscall(SYS_capset, &hdr, data) == 0 ? 0 : -errno;
}

int set_groups(const std::vector<gid_t>& groups)
{
    return ::syscall(SYS_setgroups, groups.size(), groups.data()) == 0 ? 0 : -errno;
}

// The effective ids, this thread only. sysctl files (test_perm) and /proc/sys/net
// (net_ctl_permissions) judge the opener by euid and egid, not by fsuid: a thread running for a
// caller must carry the caller's. The real and saved ids stay the daemon's (0), which lets the
// thread take back euid 0 without any capability.
bool set_euid(uid_t uid) { return ::syscall(SYS_setresuid, -1, uid, -1) == 0; }

// Whether `uid` is mapped in the daemon's user namespace (setresuid refuses it otherwise).
bool uid_mapped(uid_t uid)
{
    auto map = sys::read_small_file(AT_FDCWD, "/proc/self/uid_map");
    std::istringstream in(map.value);
    unsigned long long inside, outside, count;
    while (in >> inside >> outside >> count)
        if (uid >= inside && uid < inside + count)
            return true;
    return false;
}

// The worker's euid for a caller from another user namespace that lacks capabilities there: a
// uid no process is expected to run as, so that it owns no user namespace ((uid_t)-2, the
// highest valid uid; "nobody" where that one is not mapped). ((uid_t)-1 means "unchanged".)
uid_t unowning_euid()
{
    static const uid_t euid = uid_mapped(static_cast<uid_t>(-2)) ? static_cast<uid_t>(-2) : 65534;
    return euid;
}
bool set_egid(gid_t gid) { return ::syscall(SYS_setresgid, -1, gid, -1) == 0; }

// setfsuid/setfsgid report no errors; read the value back to know whether it took.
bool set_fsuid(uid_t uid)
{
    ::syscall(SYS_setfsuid, uid);
    return static_cast<uid_t>(::syscall(SYS_setfsuid, static_cast<uid_t>(-1))) == uid;
}

bool set_fsgid(gid_t gid)
{
    ::syscall(SYS_setfsgid, gid);
    return static_cast<gid_t>(::syscall(SYS_setfsgid, static_cast<gid_t>(-1))) == gid;
}

std::string_view field(std::string_view text, std::string_view key)
{
    size_t pos = 0;
    while (pos < text.size()) {
        size_t eol = text.find('\n', pos);
        if (eol == std::string_view::npos)
            eol = text.size();
        std::string_view line = text.substr(pos, eol - pos);
        if (line.size() > key.size() && line.substr(0, key.size()) == key &&
            line[key.size()] == ':') {
            line.remove_prefix(key.size() + 1);
            while (!line.empty() && (line.front() == '\t' || line.front() == ' '))
                line.remove_prefix(1);
            return line;
        }
        pos = eol + 1;
    }
    return {};
}

} // namespace

DaemonIdentity DaemonIdentity::capture()
{
    DaemonIdentity d;
    d.pid = ::getpid();
    int n = ::getgroups(0, nullptr);
    d.groups.resize(static_cast<size_t>(std::max(n, 0)));
    if (n > 0 && (n = ::getgroups(n, d.groups.data())) < 0)
        spdlog::warn("getgroups: {}", sys::errno_name(errno));
    d.groups.resize(static_cast<size_t>(std::max(n, 0)));
    d.fsgid = static_cast<gid_t>(::syscall(SYS_setfsgid, static_cast<gid_t>(-1)));
    d.egid = ::getegid();
    if (capget_self(d.caps) != 0)
        spdlog::warn("capget: {}", sys::errno_name(errno));
    d.effective = effective_of(d.caps);
    d.user_ns = user_ns_of("/proc/self/ns/user");
    return d;
}

Caller Caller::known(uid_t fsuid, gid_t fsgid, pid_t tid, const DaemonIdentity& daemon, Known facts)
{
    Caller c(fsuid, fsgid, tid, daemon);
    c.loaded_ = c.caps_loaded_ = c.user_ns_loaded_ = true;
    c.tgid_ = facts.tgid;
    c.groups_ = std::move(facts.groups);
    c.fs_ids_ = true;
    c.user_ns_ = facts.user_ns;
    c.raw_caps_ = facts.capabilities;
    c.caps_ = c.in_daemon_user_ns() ? facts.capabilities : 0;
    c.user_ns_of_ = facts.user_ns_of;
    return c;
}

void Caller::load() const
{
    if (loaded_)
        return;
    loaded_ = true;
    if (tid_ <= 0)
        return;
    // A status with every one of NGROUPS_MAX (65,536) groups is about 400 KiB.
    auto status = sys::read_small_file(AT_FDCWD, ("/proc/" + std::to_string(tid_) + "/status").c_str(),
                                       1u << 20);
    if (!status.ok())
        return; // the caller is gone: no groups, no capabilities
    std::string_view text = status.value;

    std::string_view tgid = field(text, "Tgid");
    std::from_chars(tgid.data(), tgid.data() + tgid.size(), tgid_);
    // "Uid:\treal\teffective\tsaved\tfs", likewise Gid.
    auto ids = [](std::string_view line) {
        std::array<long long, 4> out{-1, -1, -1, -1};
        for (auto& id : out) {
            while (!line.empty() && (line.front() == '\t' || line.front() == ' '))
                line.remove_prefix(1);
            auto [end, ec] = std::from_chars(line.data(), line.data() + line.size(), id);
            if (ec != std::errc{})
                break;
            line.remove_prefix(static_cast<size_t>(end - line.data()));
        }
        return out;
    };
    auto uids = ids(field(text, "Uid"));
    auto gids = ids(field(text, "Gid"));
    // The thread must still be the one that sent the request: the header's ids are its fs ids,
    // or its real ids (access(2) checks with those). A request that outlived its sender (the
    // thread exited, its tid went to another process) gets nothing from whoever holds the tid.
    auto one_of = [](const std::array<long long, 4>& ids, long long id) {
        return ids[3] == id || ids[0] == id;
    };
    if (!one_of(uids, static_cast<long long>(fsuid_)) || !one_of(gids, static_cast<long long>(fsgid_))) {
        stranger_ = true;
        tgid_ = 0;
        return;
    }
    euid_ = static_cast<uid_t>(uids[1]);
    egid_ = static_cast<gid_t>(gids[1]);
    real_ids_ = uids[0] == static_cast<long long>(fsuid_) && gids[0] == static_cast<long long>(fsgid_);
    fs_ids_ = uids[3] == static_cast<long long>(fsuid_) && gids[3] == static_cast<long long>(fsgid_);
    real_root_ = uids[0] == 0;

    std::string_view groups = field(text, "Groups");
    while (!groups.empty()) {
        gid_t g = 0;
        auto [end, ec] = std::from_chars(groups.data(), groups.data() + groups.size(), g);
        if (ec != std::errc{})
            break;
        groups_.push_back(g);
        groups.remove_prefix(static_cast<size_t>(end - groups.data()));
        while (!groups.empty() && groups.front() == ' ')
            groups.remove_prefix(1);
    }

}

void Caller::load_capabilities() const
{
    if (caps_loaded_)
        return;
    caps_loaded_ = true;
    if (tid_ <= 0)
        return;
    // capget() reads another thread's sets in one system call, without parsing its status.
    __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, tid_};
    __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3]{};
    if (::syscall(SYS_capget, &hdr, data) != 0)
        return; // gone: no capabilities
    raw_caps_ = caps_ = effective_of(data);
    if (caps_ != 0 && !in_daemon_user_ns())
        caps_ = 0;
}

ino_t Caller::user_ns() const
{
    if (!user_ns_loaded_) {
        user_ns_loaded_ = true;
        user_ns_ = user_namespace_of(tid_);
    }
    return user_ns_;
}

bool Caller::in_daemon_user_ns() const
{
    return user_ns() != 0 && user_ns() == daemon_->user_ns;
}

bool Caller::shares_user_ns_with(pid_t pid) const
{
    if (user_ns() == 0)
        return false;
    return (user_ns_of_ ? user_ns_of_(pid) : user_namespace_of(pid)) == user_ns();
}

ino_t user_namespace_of(pid_t tid)
{
    return tid > 0 ? user_ns_of("/proc/" + std::to_string(tid) + "/ns/user") : 0;
}

pid_t Caller::tgid() const
{
    // Most callers are single-threaded, or their main thread: tgkill(tid, tid, 0) succeeds
    // exactly when the thread `tid` leads thread group `tid`, in one system call where reading
    // the status file costs some forty times more.
    if (!loaded_ && tgid_ == 0 && tid_ > 0 && ::syscall(SYS_tgkill, tid_, tid_, 0) == 0)
        tgid_ = tid_;
    if (tgid_ == 0)
        load();
    return tgid_;
}

const std::vector<gid_t>& Caller::groups() const
{
    load();
    return groups_;
}

uid_t Caller::euid() const
{
    load();
    return euid_;
}

gid_t Caller::egid() const
{
    load();
    return egid_;
}

bool Caller::under_access_override() const
{
    // Under the override the header's fsuid is the real uid, so a header fsuid of 0 is root's,
    // which keeps its capabilities: nothing to read then (the hot path of root callers).
    if (fsuid_ == 0)
        return false;
    // capget() and the status show a task's own credentials, not the ones access(2) overrides
    // them with; the header's ids against the status's tell.
    load();
    return real_ids_ && (!fs_ids_ || access_check_);
}

uint64_t Caller::capabilities() const
{
    load_capabilities();
    if (caps_ == 0)
        return 0;
    // access(2) as a user other than root: capabilities cleared.
    if (under_access_override() && !real_root_)
        return 0;
    return stranger_ ? 0 : caps_;
}

uint64_t Caller::capabilities_in_own_user_ns() const
{
    load_capabilities();
    if (raw_caps_ == 0)
        return 0;
    // The real uid as seen here says nothing of root in the caller's own namespace.
    if (under_access_override() && (!real_root_ || !in_daemon_user_ns()))
        return 0;
    return stranger_ ? 0 : raw_caps_;
}

bool Caller::in_group(gid_t gid) const
{
    if (fsgid_ == gid)
        return true;
    auto& g = groups();
    return std::find(g.begin(), g.end(), gid) != g.end();
}

bool Caller::as_privileged_as_daemon() const
{
    return fsuid_ == 0 && (capabilities() & daemon_->effective) == daemon_->effective;
}

CredentialScope::CredentialScope(const Caller& caller, uint64_t stand_in)
    : daemon_(caller.daemon())
{
    if (caller.as_privileged_as_daemon())
        return;
    if (in_scope) {
        spdlog::critical("nested credential scope for caller tid {}: aborting", caller.tid());
        std::abort();
    }
    // Everything about the caller is read first, with the daemon's credentials: once switched,
    // this thread may no longer read the caller's ns/user link (a ptrace check).
    const std::vector<gid_t>& groups = caller.groups(); // first: it finds out a stranger
    const uint64_t eff = (caller.capabilities() | stand_in) & daemon_.effective;
    // The kernel gives a task every capability in the user namespaces its euid owns, below its
    // own (cap_capable). The worker stays in the daemon's namespace, so for a caller in another
    // one, whose euid may own that very namespace, its euid grants all capabilities there: right
    // for a caller that holds them all in its namespace (a container's root), too much for one
    // that does not, whose euid is then replaced by one that owns nothing. (Its fsuid, which
    // file access and ptrace's uid test use, stays. Processes outside the caller's namespace
    // are refused before any of this: see shielded_daemon_node().)
    const uid_t euid = caller.in_daemon_user_ns() ||
                               (caller.capabilities_in_own_user_ns() & daemon_.effective) ==
                                   daemon_.effective
                           ? caller.euid()
                           : unowning_euid();
    // Order matters: setgroups and setfsgid need CAP_SETGID, setfsuid needs CAP_SETUID, so
    // capabilities are lowered last.
    int rv = set_groups(groups);
    if (rv < 0) {
        status_ = rv;
        spdlog::error("setgroups for caller tid {}: {}", caller.tid(), sys::errno_name(rv));
        return;
    }
    switched_ = true;
    in_scope = true;
    // Group ids first, while CAP_SETGID is effective. A new euid other than 0 clears the
    // effective capabilities (the kernel's setuid fixup) and sets fsuid to it; a caller whose
    // fsuid differs needs CAP_SETUID back for setfsuid.
    if (!set_egid(caller.egid()) || !set_fsgid(caller.fsgid()) || !set_euid(euid) ||
        (caller.fsuid() != euid && capset_self(daemon_.caps) != 0) ||
        !set_fsuid(caller.fsuid())) {
        status_ = -EPERM;
        spdlog::error("switch to caller tid {} ids euid {} fsuid {} egid {} fsgid {} failed",
                      caller.tid(), euid, caller.fsuid(), caller.egid(), caller.fsgid());
        return;
    }
    __user_cap_data_struct lowered[_LINUX_CAPABILITY_U32S_3];
    std::copy(std::begin(daemon_.caps), std::end(daemon_.caps), lowered);
    lowered[0].effective = static_cast<uint32_t>(eff);
    lowered[1].effective = static_cast<uint32_t>(eff >> 32);
    rv = capset_self(lowered);
    if (rv < 0) {
        status_ = rv;
        spdlog::error("capset for caller tid {}: {}", caller.tid(), sys::errno_name(rv));
    }
}

CredentialScope::~CredentialScope()
{
    if (!switched_)
        return;
    // euid 0 first, which needs no capability since the real uid is 0; then the daemon's
    // capabilities, which the rest needs (a caller with euid 0 but fewer capabilities, such as
    // root in a child user namespace, left this thread with neither a setuid fixup to undo nor
    // CAP_SETGID).
    if (!set_euid(0) || capset_self(daemon_.caps) != 0 || !set_fsuid(0) ||
        !set_egid(daemon_.egid) || !set_fsgid(daemon_.fsgid) || set_groups(daemon_.groups) != 0) {
        spdlog::critical("cannot restore the daemon's credentials on a worker thread: aborting");
        std::abort();
    }
    in_scope = false;
}

} // namespace procfsd
