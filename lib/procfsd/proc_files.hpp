// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <string_view>

namespace procfsd {

// Whether the file `name` at the top of /proc is one the kernel serves alike to every reader:
// world-readable, with no capability, ptrace or credential check at open or read and no field
// that depends on who reads. The daemon opens and reads those with its own credentials, saving
// the switch to the caller's (the caller lookup alone costs a system call and a readlink).
bool read_alike_by_everyone(std::string_view name) noexcept;

} // namespace procfsd
