// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// What the bench stops if it is interrupted (SIGINT, SIGTERM, SIGHUP, SIGQUIT): the servers and
// background processes it started, by pid, and its mounts. Fixed arrays, so that the signal
// handler reads them without taking a lock or allocating.

#include <sys/types.h>

#include <cstddef>
#include <string>

namespace procfsd::bench {

constexpr size_t max_sleepers = 65536;

void install_emergency_stop();

// Background process number `slot` (pid 0: gone); `count` of them are in use.
void remember_sleeper(size_t slot, pid_t pid);
void set_sleeper_count(size_t count);

void remember_server(pid_t pid);
void forget_server(pid_t pid);

void remember_mount(const std::string& path);

// The value of the kernel's switch for FUSE over io_uring before the bench changed it
// (support::UringSwitch), put back by an interrupted bench too; 0: nothing to put back.
void remember_uring_param(char saved);

} // namespace procfsd::bench
