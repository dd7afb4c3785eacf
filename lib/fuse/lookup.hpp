// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <fuse_lowlevel.h>

#include <string_view>

#include "fuse/request.hpp"

namespace procfsd::fuse_op {

// Looks `name` up in `dir` (whose inode is `parent`) as LOOKUP does, for LOOKUP and
// READDIRPLUS: finds or makes its node, raises its lookup count by one (the caller owes a
// forget_node() if the kernel never receives the entry) and fills `e`. Returns 0 or -errno.
int lookup_entry(const Request& r, fuse_ino_t parent, const Node& dir, std::string_view name,
                 fuse_entry_param& e);
// The entry of `node` with attributes `st`, cached as the mount allows for that node.
void fill_entry(const Request& r, const Node& node, const struct stat& st, fuse_entry_param& e);

} // namespace procfsd::fuse_op
