// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/pid_name.hpp"

#include <climits>

namespace procfsd {

std::optional<unsigned> parse_proc_number(std::string_view name) noexcept
{
    if (name.empty() || (name.size() > 1 && name.front() == '0'))
        return std::nullopt;
    unsigned n = 0;
    for (char c : name) {
        if (c < '0' || c > '9')
            return std::nullopt;
        // The kernel stops at (~0U - 9) / 10 so that the next digit cannot overflow.
        if (n >= (UINT_MAX - 9) / 10)
            return std::nullopt;
        n = n * 10 + static_cast<unsigned>(c - '0');
    }
    return n;
}

std::optional<pid_t> parse_pid_name(std::string_view name) noexcept
{
    auto n = parse_proc_number(name);
    if (!n || *n == 0 || *n > static_cast<unsigned>(INT_MAX))
        return std::nullopt;
    return static_cast<pid_t>(*n);
}

} // namespace procfsd
