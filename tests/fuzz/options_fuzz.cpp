// SPDX-License-Identifier: GPL-2.0-or-later
// Any -o text is parsed without a crash; what is accepted prints back to text that parses to
// the same options.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "procfsd/mount_options.hpp"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string_view text(reinterpret_cast<const char*>(data), size);
    auto parsed = procfsd::parse_mount_options(text);
    if (auto* opts = std::get_if<procfsd::MountOptions>(&parsed)) {
        auto again = procfsd::parse_mount_options(opts->to_string());
        auto* round = std::get_if<procfsd::MountOptions>(&again);
        if (!round || round->to_string() != opts->to_string())
            std::abort();
    }
    return 0;
}
