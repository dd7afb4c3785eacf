// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Calls on a mount's source procfs, each made as its plan says (procfsd/policy.hpp): with the
// caller's credentials, switched inside the call and back before it returns, or the daemon's.
// A request never holds credentials between calls, so scopes cannot nest. Every call returns
// 0 (or a length) or -errno, the source's errno unchanged.

#include <sys/stat.h>

#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "fuse/request.hpp"
#include "procfsd/policy.hpp"

namespace procfsd::source {

// Attributes of `node` (not following links). Checked after the source answered: a pid
// recycled before that answer cannot leak through.
int stat(const Request& r, const Plan& plan, const Node& node, struct stat* st);
// Attributes of `node` without the caller: to tell a directory's current mode.
int stat_as_daemon(const Request& r, const Node& node, struct stat* st);
// The plan's mode check, made by the daemon against the directory's current mode: 0 or -EACCES
// (0 when the plan asks for none).
int check_mode(const Request& r, const Plan& plan, const Node& dir);
sys::Result<UniqueFd> open(const Request& r, const Plan& plan, const Node& node, int flags);
// The same for an open or opendir: a source opened as the daemon that is no longer readable by
// all (root may chmod a top-level entry or one below net/ after its lookup) is opened again as
// the caller, and `plan` says so from then on.
sys::Result<UniqueFd> open_for_caller(const Request& r, Plan& plan, const Node& node, int flags);
sys::Result<std::string> readlink(const Request& r, const Plan& plan, const Node& node);
// The object behind the link of directory `dir` whose text is `text` (socket:[3984596]), as the
// caller: the link's name (the link `hint` first, then each link of `dir`, at most 65,536), and
// the attributes stat gives following it. -ENOENT if no link of `dir` shows that text now.
int object_behind(const Request& r, const Plan& plan, const Node& dir, std::string_view text,
                  std::string_view hint, std::string& name, struct stat* st);
// faccessat(AT_EACCESS), with the switched fs credentials, not the daemon's real uid.
int access(const Request& r, const Plan& plan, const Node& node, int mask);
// Reads and writes an open file, as the caller when it was opened as the caller.
ssize_t pread(const Request& r, const Plan& opened, const Node& node, int fd, void* buf,
              size_t size, off_t off);
ssize_t pwrite(const Request& r, const Plan& opened, const Node& node, int fd, const void* buf,
               size_t size, off_t off);
// One batch of an open directory's entries (getdents64).
ssize_t getdents(const Request& r, const Plan& plan, const Node& node, int fd, std::span<char> buf);
// Whether the caller may stat each of `names` in the root: one credential switch for them all.
std::vector<bool> visible_to_caller(const Request& r, const std::vector<std::string_view>& names);
// Runs `call` (a change to the tree or an attribute) as the plan says; returns its -errno.
int run(const Request& r, const Plan& plan, const Node& node, const std::function<int()>& call);

} // namespace procfsd::source
