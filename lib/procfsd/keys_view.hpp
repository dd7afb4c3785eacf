// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <sys/types.h>

#include <string>
#include <string_view>
#include <vector>

namespace procfsd {

// /proc/keys lists the keys its reader may view, and a key's possessor (whoever can reach it
// from their thread, process or session keyring) gets extra permissions. The kernel decides
// possession from the credentials the file was opened with, whose keyrings are the daemon's,
// not the caller's: read as it is, the file would show a caller the keys the daemon possesses.
// This keeps only the lines of `text` (the file as opened with the caller's fsuid and groups)
// that the caller may view without possessing the key: the kernel's key_task_permission()
// with possession left out. A caller therefore sees no key it possesses only through its own
// keyrings: less than the kernel shows it, never more. No capability lets a reader view a key
// it has no permission for (key_task_permission has no override), so this applies to root too.
// A description continued over several lines stays with its record; a continuation forged to
// look like a later record can only repeat text its own author chose to show.
std::string keys_visible_without_possession(std::string_view text, uid_t fsuid, gid_t fsgid,
                                            const std::vector<gid_t>& groups);

} // namespace procfsd
