// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Which link of a directory showed a text last (42/fd: socket:[3984596] -> 3), kept from the
// READLINK that precedes the kernel's lookup of that text when it follows the link, so that
// the lookup finds the link without reading every link of the directory
// (lib/fuse/link_target.cpp). Only a hint: the lookup checks the link again as the caller.

#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

namespace procfsd {

class LinkHints {
public:
    void note(std::string_view dir, std::string_view text, std::string_view link)
    {
        std::lock_guard lock(mu_);
        if (hints_.size() >= max_hints)
            hints_.clear(); // a hint costs only a scan when it is missing
        hints_[key(dir, text)] = std::string(link);
    }
    [[nodiscard]] std::string find(std::string_view dir, std::string_view text) const
    {
        std::lock_guard lock(mu_);
        auto it = hints_.find(key(dir, text));
        return it == hints_.end() ? std::string() : it->second;
    }

private:
    static constexpr size_t max_hints = 4096;
    static std::string key(std::string_view dir, std::string_view text)
    {
        std::string k(dir);
        k += '\n';
        k += text;
        return k;
    }
    mutable std::mutex mu_;
    std::unordered_map<std::string, std::string> hints_;
};

} // namespace procfsd
