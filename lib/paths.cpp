// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/paths.hpp"

#include <climits>
#include <cstdlib>
#include <unistd.h>

namespace procfsd {

std::string absolute_path(const std::string& path)
{
    std::string p = path;
    while (p.size() > 1 && p.back() == '/')
        p.pop_back();
    auto slash = p.rfind('/');
    std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : p.substr(0, slash);
    std::string name = slash == std::string::npos ? p : p.substr(slash + 1);
    char resolved[PATH_MAX];
    if (name.empty() || name == "." || name == "..") {
        // Not a mountpoint's own name: resolve the whole path.
        return ::realpath(p.c_str(), resolved) ? std::string(resolved) : p;
    }
    if (!::realpath(parent.c_str(), resolved)) {
        // The parent does not exist: the mount will fail and say so; keep the path absolute.
        char cwd[PATH_MAX];
        if (p.front() == '/' || !::getcwd(cwd, sizeof cwd))
            return p;
        return std::string(cwd) + "/" + p;
    }
    std::string out = resolved;
    if (out != "/")
        out += '/';
    return out + name;
}

} // namespace procfsd
