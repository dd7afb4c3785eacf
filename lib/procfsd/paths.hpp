// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <string>

namespace procfsd {

// `path` made absolute once, at the start, so that logs, `ctl list`, stale-mount clearing and
// a daemon that changed its directory (daemonizing chdirs to /) all mean the same directory.
// The directories above the last name are resolved (symlinks, "..", "."); the last name is
// not touched, since it may be a dead FUSE mount that answers ENOTCONN to everything.
std::string absolute_path(const std::string& path);

} // namespace procfsd
