// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <sys/types.h>

#include <optional>
#include <string_view>

namespace procfsd {

// Parses a directory name as the kernel's name_to_int() (fs/proc/util.c) does for /proc/<pid>,
// task/<tid> and fd/<n>: decimal digits only, no sign, no leading zero (except "0" itself), and
// no value that would overflow. Anything else is not a number, so the lookup gives ENOENT.
std::optional<unsigned> parse_proc_number(std::string_view name) noexcept;

// A pid name: parse_proc_number() and greater than zero, since no process has pid 0.
std::optional<pid_t> parse_pid_name(std::string_view name) noexcept;

} // namespace procfsd
