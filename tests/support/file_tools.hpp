// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Reading files and pid directories the same way on /proc and on a mount that serves it.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace procfsd::support {

// Appends what is left to read from `fd` to `out`; false (errno set) on a read error.
bool read_all(int fd, std::string& out);

// A whole file; nullopt with errno set on failure.
std::optional<std::string> read_file(const std::string& path);

// A whole file, "" if it cannot be read (for figures that are read again if missing).
std::string read_text(const std::string& path);

// The value of a "Name: value" line (meminfo, status), as a number; -1 without that line.
long long line_value(const std::string& text, const std::string& name);

// A pid directory's name as the kernel writes it: digits, no leading zero.
bool is_pid_name(std::string_view name);

// The pid directories of a /proc-like directory (an open descriptor of it, O_PATH will do), in
// getdents order.
std::vector<std::string> list_pids(int dir_fd);

} // namespace procfsd::support
