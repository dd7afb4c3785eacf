// SPDX-License-Identifier: GPL-2.0-or-later
#include "mount_tools.hpp"

#include "process_tools.hpp"

#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace procfsd::support {

namespace {

struct MountLine {
    std::string point;
    MountEntry entry;
};

// /proc/self/mountinfo in mount order: "ID PARENT MAJ:MIN ROOT POINT OPTIONS [OPTIONAL...] -
// TYPE SOURCE SUPER_OPTIONS".
std::vector<MountLine> mount_table()
{
    std::vector<MountLine> out;
    std::ifstream info("/proc/self/mountinfo");
    std::string line;
    while (std::getline(info, line)) {
        std::istringstream in(line);
        std::string id, parent, root, field;
        MountLine m;
        in >> id >> parent >> m.entry.device >> root >> m.point;
        while (in >> field && field != "-") {
        }
        in >> m.entry.type;
        out.push_back(std::move(m));
    }
    return out;
}

bool mounted_and_answering(const std::string& point, const std::string& type)
{
    auto m = mount_at(point);
    if (!m || (!type.empty() && m->type != type))
        return false;
    struct stat st {
    };
    // lstat: a pidns= mount lists self but it names nobody outside the namespace.
    return ::lstat((point + "/self").c_str(), &st) == 0;
}

} // namespace

std::optional<MountEntry> mount_at(const std::string& path)
{
    std::optional<MountEntry> found;
    for (auto& m : mount_table())
        if (m.point == path)
            found = m.entry;
    return found;
}

bool is_mounted(const std::string& path)
{
    return mount_at(path).has_value();
}

MountWait wait_for_mounts(pid_t server, const std::vector<std::string>& points,
                          const std::string& type, std::chrono::milliseconds deadline, int* status)
{
    bool exited = false;
    bool ready = wait_until(
        [&] {
            int st = 0;
            if (::waitpid(server, &st, WNOHANG) == server) {
                exited = true;
                if (status)
                    *status = st;
                return true;
            }
            for (auto& p : points)
                if (!mounted_and_answering(p, type))
                    return false;
            return true;
        },
        deadline, 5ms);
    return exited ? MountWait::server_exited : ready ? MountWait::ready : MountWait::timed_out;
}

bool abort_fuse_connection(const std::string& device)
{
    auto colon = device.find(':');
    if (device.empty() || colon == std::string::npos)
        return false;
    if (::access("/sys/fs/fuse/connections/", F_OK) == 0) {
        bool fusectl = false;
        for (auto& m : mount_table())
            fusectl = fusectl || m.entry.type == "fusectl";
        if (!fusectl)
            ::mount("none", "/sys/fs/fuse/connections", "fusectl", 0, nullptr);
    }
    std::ofstream abort_file("/sys/fs/fuse/connections/" + device.substr(colon + 1) + "/abort");
    abort_file << "1";
    return static_cast<bool>(abort_file);
}

void detach_left_behind(const std::string& point, const MountEntry& entry)
{
    // Detached, a procfsd connection that no server serves any more would keep its waiters
    // (and a server thread held by them) forever: it ends first.
    if (entry.type == "fuse.procfsd")
        abort_fuse_connection(entry.device);
    ::umount2(point.c_str(), MNT_DETACH);
}

void detach_mounts_below(const std::string& dir)
{
    auto table = mount_table();
    for (auto it = table.rbegin(); it != table.rend(); ++it)
        if (it->point.rfind(dir + "/", 0) == 0)
            detach_left_behind(it->point, it->entry);
}

std::string make_scratch_dir(const std::string& prefix)
{
    std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
    if (!::mkdtemp(tmpl.data()))
        return {};
    ::chmod(tmpl.c_str(), 0755);
    return tmpl;
}

std::vector<std::string> over_proc(const std::string& root, const std::string& command)
{
    return {"unshare", "-m", "sh", "-c", "mount --bind '" + root + "' /proc && exec " + command};
}

std::map<std::string, long long> parse_counters(const std::string& text)
{
    std::map<std::string, long long> c;
    std::istringstream in(text);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string key, value;
        fields >> key;
        if (key == "mount") {
            std::string tok;
            while (fields >> tok)
                if (tok.rfind("nodes=", 0) == 0)
                    c["nodes"] += std::atoll(tok.c_str() + 6);
            continue;
        }
        if (!(fields >> value) || value.empty())
            continue;
        char* end = nullptr;
        long long v = std::strtoll(value.c_str(), &end, 10);
        if (end && *end == '\0')
            c[key] = v;
    }
    return c;
}

} // namespace procfsd::support
