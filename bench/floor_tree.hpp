// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The tree the FUSE floor serves (procfsd-floor, floor_server.cpp): constant data shaped like
// /proc,
//
//   /meminfo /uptime /stat /loadavg /self -> "<caller>" /thread-self /sys/kernel/pid_max
//   /<pid>/{stat,status,cmdline,comm,environ,task/ (empty)}   listed for pid = 1 .. --pids N,
//   found for any pid (ps looks up its own)
//
// with the timeouts of a procfsd hidepid=off mount with its defaults (entry_timeout=3600,
// attr_timeout=1): pid entries until reaped, everything else for a second.

#include <fuse_lowlevel.h>
#include <sys/stat.h>

#include <string>

namespace procfsd::floorfs {

constexpr double pid_entry_timeout = 3600;
constexpr double short_timeout = 1;

// The nodes whose link target names the caller.
enum : fuse_ino_t { ino_self = 6, ino_thread_self = 7 };

// Pids 1..n are listed at the root (any pid can be looked up).
void set_listed_pids(long n);

// A child of `parent` by name: its inode and entry timeout; false if there is none.
bool find_child(fuse_ino_t parent, const char* name, fuse_ino_t& ino, double& entry_timeout);

// The attributes of a node; false if there is no such node.
bool attributes(fuse_ino_t ino, struct stat& st);

// A regular file's content, with the pid printed where /proc prints it.
std::string content(fuse_ino_t ino);

// Whether `ino` is a symbolic link (self, thread-self).
bool is_link(fuse_ino_t ino);

struct DirItem {
    std::string name;
    fuse_ino_t ino;
    mode_t mode;
    bool is_pid_dir; // a <pid> directory of the root: READDIRPLUS gives its entry
};

// Entry `index` of a directory listing (0 ".", 1 "..", then the children); false past the end.
bool dir_item(fuse_ino_t dir, size_t index, DirItem& out);

} // namespace procfsd::floorfs
