// SPDX-License-Identifier: GPL-2.0-or-later
// The pid-name parser agrees with a literal transcription of the kernel's name_to_int().
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "procfsd/pid_name.hpp"

namespace {
unsigned kernel_name_to_int(std::string_view name)
{
    const char* p = name.data();
    size_t len = name.size();
    unsigned n = 0;
    if (len == 0 || (len > 1 && *p == '0'))
        return ~0U;
    do {
        unsigned c = static_cast<unsigned char>(*p++) - '0';
        if (c > 9)
            return ~0U;
        if (n >= (~0U - 9) / 10)
            return ~0U;
        n *= 10;
        n += c;
    } while (--len > 0);
    return n;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size)
{
    std::string_view name(reinterpret_cast<const char*>(data), size);
    auto ours = procfsd::parse_proc_number(name);
    unsigned theirs = kernel_name_to_int(name);
    if (ours.value_or(~0U) != theirs)
        std::abort();
    return 0;
}
