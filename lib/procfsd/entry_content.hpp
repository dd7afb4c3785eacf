// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The content hooks of the kernel's rows (lib/entries.cpp): what the daemon cuts from or puts
// in place of the source's content, where the kernel would answer the caller differently from
// the daemon's worker thread.

#include <string>
#include <string_view>

#include "procfsd/entry.hpp"

namespace procfsd {

// keys, filtered: the lines the caller may view without possessing the key (keys_view.hpp).
sys::Result<std::string> keys_for_caller(const ContentRequest& r);
// stat for a reader without ptrace access: the fields do_task_stat() hides, zeroed.
sys::Result<std::string> stat_without_ptrace(const ContentRequest& r);
// wchan for a reader without ptrace access: "0", as proc_pid_wchan() gives.
sys::Result<std::string> wchan_without_ptrace(const ContentRequest& r);

// stat, status and wchan read by the task itself: as the kernel shows a task that runs (its
// read), not the wait in FUSE the daemon's reading sees.
sys::Result<std::string> stat_read_by_itself(const ContentRequest& r);
sys::Result<std::string> status_read_by_itself(const ContentRequest& r);
sys::Result<std::string> wchan_read_by_itself(const ContentRequest& r);

// stat with the fields do_task_stat() hides from a reader without ptrace access.
std::string zero_unpermitted_stat(std::string_view stat);
// stat of a running task: state (field 3) R, the wchan flag (field 35) 0.
std::string running_stat(std::string_view stat);
// status of a running task: "State:\tR (running)".
std::string running_status(std::string_view status);

} // namespace procfsd
