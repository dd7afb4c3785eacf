// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The objects behind magic links (fd/N, ns/*) whose text is relative: following
// `fd/3 -> socket:[3984596]` makes the kernel look up the name `socket:[3984596]` in fd/, which
// reaches the daemon. Such a name (never listed) is answered with the attributes of the object
// behind the link that shows that text, as the caller may see them (the kernel's stat through
// /proc): its type, inode, size, owner and times; st_dev is the mount's, as for every FUSE
// node. Opening one is refused (fuse/open.cpp via decide()): a FUSE file is never the socket
// or namespace itself.

#include <fuse_lowlevel.h>

#include <string>
#include <string_view>

#include "fuse/request.hpp"

namespace procfsd::fuse_op {

// Whether `name` has a link text's shape "type:[number]" (socket:[1], net:[4026531833]).
bool is_link_text(std::string_view name) noexcept;

// LOOKUP of the link text `text` in `dir`, a directory whose row resolves_link_texts.
int lookup_behind_link(const Request& r, fuse_ino_t parent, const Node& dir, std::string_view text,
                       fuse_entry_param& e);
// GETATTR of such a node: the object's attributes while its link still shows its text.
int attributes_behind_link(const Request& r, const Node& node, struct stat* st);
// Remembers which link showed `text` (READLINK of `link`), for the lookup that follows.
void note_link_text(const Request& r, const Node& link, const std::string& text);

} // namespace procfsd::fuse_op
