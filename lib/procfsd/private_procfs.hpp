// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include "procfsd/mount_options.hpp"
#include "procfsd/sys.hpp"

namespace procfsd {

// A detached kernel procfs instance, made with fsopen/fsmount and never attached anywhere,
// carrying a mount's hidepid=, gid= and subset= (Linux 5.8+ gives every procfs mount its own
// options) and, with `pidns` >= 0, showing that pid namespace (pidns=, Linux 6.18+), else the
// daemon's. The daemon reads it as the caller, so the kernel's own
// has_pid_permissions() decides every lookup, listing and open for that caller: the rule is
// applied, not re-implemented. Returns an O_PATH fd on its root.
//
// A kernel whose procfs has no pidns= key (before 6.18) gets the instance the other way: a
// procfs context takes the active pid namespace of the process that opens it, so a helper
// process forked into the namespace opens it and sends it back (SCM_RIGHTS). That helper takes
// a pid there for its moment (ns_last_pid moves), and a namespace whose init is gone takes no
// new process (ENOMEM).
sys::Result<UniqueFd> open_private_procfs(const MountOptions& options, int pidns = -1);

// The same instance made the helper's way whatever the kernel: for the tests, on kernels that
// have pidns=.
sys::Result<UniqueFd> open_private_procfs_by_helper(const MountOptions& options, int pidns);

} // namespace procfsd
