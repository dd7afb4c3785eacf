// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/task_counts.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <linux/cgroupstats.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/taskstats.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cstring>
#include <fstream>
#include <vector>

#include "procfsd/sys.hpp"

namespace procfsd {

namespace {

// One generic netlink request with one attribute.
struct Request {
    nlmsghdr nl;
    genlmsghdr genl;
    std::array<char, 64> attrs;
};

size_t put_attr(Request& r, uint16_t type, const void* data, uint16_t len)
{
    auto* a = reinterpret_cast<nlattr*>(r.attrs.data());
    a->nla_type = type;
    a->nla_len = static_cast<uint16_t>(NLA_HDRLEN + len);
    std::memcpy(r.attrs.data() + NLA_HDRLEN, data, len);
    return NLA_ALIGN(a->nla_len);
}

// Sends one request and reads its answer into `buf`; the answer's length, or -errno.
ssize_t ask(int sock, Request& r, size_t attrs_len, std::array<char, 8192>& buf)
{
    r.nl.nlmsg_len = static_cast<uint32_t>(NLMSG_LENGTH(GENL_HDRLEN) + attrs_len);
    if (::send(sock, &r, r.nl.nlmsg_len, 0) < 0)
        return -errno;
    // The answer to this request: one that came after an earlier request's receive timeout
    // is that request's, and is skipped.
    ssize_t n = 0;
    auto* h = reinterpret_cast<nlmsghdr*>(buf.data());
    for (int tries = 0;; ++tries) {
        while ((n = ::recv(sock, buf.data(), buf.size(), 0)) < 0 && errno == EINTR) {
        }
        if (n < 0)
            return -errno;
        if (!NLMSG_OK(h, static_cast<unsigned>(n)))
            return -EPROTO;
        if (h->nlmsg_seq == r.nl.nlmsg_seq)
            break;
        if (tries == 8)
            return -EPROTO;
    }
    if (h->nlmsg_type == NLMSG_ERROR) {
        auto* e = static_cast<nlmsgerr*>(NLMSG_DATA(h));
        return e->error < 0 ? e->error : -EPROTO;
    }
    return n;
}

// The first attribute of type `type` in a generic netlink answer.
const nlattr* find_attr(const std::array<char, 8192>& buf, ssize_t n, uint16_t type)
{
    auto* h = reinterpret_cast<const nlmsghdr*>(buf.data());
    const char* at = static_cast<const char*>(NLMSG_DATA(h)) + GENL_HDRLEN;
    const char* end = buf.data() + std::min<size_t>(static_cast<size_t>(n), h->nlmsg_len);
    while (at + NLA_HDRLEN <= end) {
        auto* a = reinterpret_cast<const nlattr*>(at);
        if (a->nla_len < NLA_HDRLEN || at + a->nla_len > end)
            return nullptr;
        if ((a->nla_type & NLA_TYPE_MASK) == type)
            return a;
        at += NLA_ALIGN(a->nla_len);
    }
    return nullptr;
}

// A thread's state letter from its stat; 0 if it is gone.
char state_of(const std::string& tid)
{
    std::ifstream in("/proc/" + tid + "/stat");
    std::string text;
    std::getline(in, text);
    auto paren = text.rfind(')');
    return paren != std::string::npos && paren + 2 < text.size() ? text[paren + 2] : 0;
}

} // namespace

TaskCounter::TaskCounter()
{
    netlink_.reset(::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC));
    if (!netlink_)
        return;
    struct timeval timeout{1, 0}; // the kernel answers at once; never wait on a lost answer
    ::setsockopt(netlink_.get(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    Request r{};
    r.nl.nlmsg_type = GENL_ID_CTRL;
    r.nl.nlmsg_flags = NLM_F_REQUEST;
    r.nl.nlmsg_seq = ++seq_;
    r.genl.cmd = CTRL_CMD_GETFAMILY;
    r.genl.version = 1;
    static constexpr char name[] = TASKSTATS_GENL_NAME;
    size_t len = put_attr(r, CTRL_ATTR_FAMILY_NAME, name, sizeof name);
    std::array<char, 8192> buf{};
    ssize_t n = ask(netlink_.get(), r, len, buf);
    const nlattr* id = n > 0 ? find_attr(buf, n, CTRL_ATTR_FAMILY_ID) : nullptr;
    if (!id) {
        netlink_.reset(); // no taskstats: v1 counts fall back to reading each thread
        return;
    }
    std::memcpy(&family_, reinterpret_cast<const char*>(id) + NLA_HDRLEN, sizeof family_);
}

bool TaskCounter::count_v1(int dir_fd, TaskCounts& into)
{
    if (!netlink_)
        return false;
    Request r{};
    r.nl.nlmsg_type = family_;
    r.nl.nlmsg_flags = NLM_F_REQUEST;
    r.nl.nlmsg_seq = ++seq_;
    r.genl.cmd = CGROUPSTATS_CMD_GET;
    r.genl.version = TASKSTATS_GENL_VERSION;
    uint32_t fd = static_cast<uint32_t>(dir_fd);
    size_t len = put_attr(r, CGROUPSTATS_CMD_ATTR_FD, &fd, sizeof fd);
    std::array<char, 8192> buf{};
    ssize_t n = ask(netlink_.get(), r, len, buf);
    const nlattr* a = n > 0 ? find_attr(buf, n, CGROUPSTATS_TYPE_CGROUP_STATS) : nullptr;
    if (!a || a->nla_len < NLA_HDRLEN + sizeof(cgroupstats))
        return false;
    cgroupstats s{};
    std::memcpy(&s, reinterpret_cast<const char*>(a) + NLA_HDRLEN, sizeof s);
    into.running += static_cast<unsigned>(s.nr_running);
    into.uninterruptible += static_cast<unsigned>(s.nr_uninterruptible);
    into.total += static_cast<unsigned>(s.nr_running + s.nr_sleeping + s.nr_uninterruptible +
                                        s.nr_stopped + s.nr_io_wait);
    return true;
}

void TaskCounter::count_threads(const std::string& file, TaskCounts& into, size_t& tasks)
{
    std::ifstream threads(file);
    for (std::string tid; tasks < max_tasks && threads >> tid; ++tasks) {
        char state = state_of(tid);
        if (state == 0)
            continue; // ended meanwhile
        ++into.total;
        into.running += state == 'R';
        into.uninterruptible += state == 'D';
    }
}

std::optional<TaskCounts> TaskCounter::count(const std::string& dir, cgroup::Version version)
{
    TaskCounts out;
    size_t tasks = 0, seen = 0;
    std::vector<std::string> pending{dir};
    while (!pending.empty() && seen < max_cgroups) {
        std::string at = std::move(pending.back());
        pending.pop_back();
        auto fd = sys::openat(AT_FDCWD, at.c_str(), O_RDONLY | O_DIRECTORY);
        if (!fd.ok()) {
            if (seen == 0)
                return std::nullopt; // the cgroup itself is gone
            continue;                // a sub-cgroup removed meanwhile
        }
        ++seen;
        if (version == cgroup::Version::v2)
            count_threads(at + "/cgroup.threads", out, tasks);
        else if (!count_v1(fd.value.get(), out))
            count_threads(at + "/tasks", out, tasks);
        DIR* d = ::fdopendir(::dup(fd.value.get()));
        if (!d)
            continue;
        while (auto* e = ::readdir(d))
            if (e->d_type == DT_DIR && e->d_name[0] != '.')
                pending.push_back(at + "/" + e->d_name);
        ::closedir(d);
    }
    return out;
}

} // namespace procfsd
