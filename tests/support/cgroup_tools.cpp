// SPDX-License-Identifier: GPL-2.0-or-later
#include "cgroup_tools.hpp"

#include "file_tools.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

namespace procfsd::support {

namespace {

// Our cgroup in that hierarchy (v1 controller) or the v2 tree ("").
std::optional<std::string> own_path(const std::string& controller)
{
    std::istringstream in(read_text("/proc/self/cgroup"));
    for (std::string line; std::getline(in, line);) {
        auto a = line.find(':'), b = line.find(':', a + 1);
        if (a == std::string::npos || b == std::string::npos)
            continue;
        std::string controllers = "," + line.substr(a + 1, b - a - 1) + ",";
        bool mine = controller.empty() ? line.compare(0, b + 1, "0::") == 0
                                       : controllers.find("," + controller + ",") != std::string::npos;
        if (mine)
            return line.substr(b + 1);
    }
    return std::nullopt;
}

} // namespace

TestCgroup::TestCgroup(const std::string& controller, const std::string& name)
{
    auto own = own_path(controller);
    std::string mount = "/sys/fs/cgroup/" + (controller.empty() ? std::string("unified") : controller);
    if (!own) {
        problem_ = "we are in no cgroup of " + (controller.empty() ? std::string("v2") : controller);
        return;
    }
    std::string base = *own == "/" ? "" : *own;
    parent_dir_ = mount + base;
    std::string dir = parent_dir_ + "/" + name;
    if (::mkdir(dir.c_str(), 0755) != 0 && errno != EEXIST) {
        problem_ = "mkdir " + dir + ": " + std::strerror(errno);
        return;
    }
    dir_ = dir;
    path_ = base + "/" + name;
}

TestCgroup::~TestCgroup() { remove(); }

bool TestCgroup::set(const std::string& file, const std::string& value) const
{
    std::ofstream out(dir_ + "/" + file);
    out << value << std::flush;
    return static_cast<bool>(out);
}

std::optional<std::string> TestCgroup::get(const std::string& file) const
{
    return read_file(dir_ + "/" + file);
}

void TestCgroup::remove()
{
    if (dir_.empty())
        return;
    // Each write moves one process; the list may shrink meanwhile as processes end.
    for (int round = 0; round < 100; ++round) {
        std::istringstream procs(read_text(dir_ + "/cgroup.procs"));
        std::string pid;
        bool any = false;
        while (procs >> pid) {
            any = true;
            std::ofstream(parent_dir_ + "/cgroup.procs") << pid << std::flush;
        }
        if (!any)
            break;
    }
    ::rmdir(dir_.c_str());
    dir_.clear();
}

} // namespace procfsd::support
