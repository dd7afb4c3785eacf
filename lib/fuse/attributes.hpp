// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <sys/stat.h>

#include "fuse/request.hpp"

namespace procfsd {

// A node's attributes as the kernel would give them to the caller (lookup, getattr, setattr):
// the source's (whose st_ino readdir reports too, so that `ls -i` and stat agree), or those of
// a computed entry that the source lacks. Returns 0 or -errno.
int attributes(const Request& r, const Node& node, struct stat* st);
// Replies them (getattr, setattr): `replied`, or -errno.
int reply_attributes(const Request& r, const Node& node);

} // namespace procfsd
