// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/mountinfo.hpp"

#include <sys/sysmacros.h>

#include <cstdio>
#include <fstream>
#include <sstream>

namespace procfsd {

namespace {

// mountinfo escapes space, tab, newline and backslash as \ooo.
std::string unescape(const std::string& s)
{
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        auto octal = [&](size_t j) { return s[j] >= '0' && s[j] <= '7'; };
        if (s[i] == '\\' && i + 3 < s.size() && octal(i + 1) && octal(i + 2) && octal(i + 3)) {
            out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
            i += 3;
            continue;
        }
        out += s[i];
    }
    return out;
}

} // namespace

std::vector<MountInfo> all_mounts()
{
    std::ifstream info("/proc/self/mountinfo");
    std::vector<MountInfo> out;
    for (std::string line; std::getline(info, line);) {
        // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - FSTYPE SOURCE SUPER
        std::istringstream in(line);
        std::string id, parent, dev, root, point;
        auto dash = line.find(" - ");
        if (!(in >> id >> parent >> dev >> root >> point) || dash == std::string::npos)
            continue;
        MountInfo m;
        m.point = unescape(point);
        m.root = unescape(root);
        unsigned maj = 0, min = 0;
        if (std::sscanf(dev.c_str(), "%u:%u", &maj, &min) == 2)
            m.device = makedev(maj, min);
        std::string source;
        std::istringstream(line.substr(dash + 3)) >> m.fstype >> source >> m.super;
        out.push_back(std::move(m));
    }
    return out;
}

std::optional<MountInfo> top_mount_at(const std::string& path)
{
    std::optional<MountInfo> found;
    for (auto& m : all_mounts())
        if (m.point == path)
            found = m; // later lines are mounted on top of earlier ones
    return found;
}

} // namespace procfsd
