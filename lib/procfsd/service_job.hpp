// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// What the service manager is doing to this service: a SIGTERM of `systemctl restart` leaves
// the mounts to the next start (their connections stay in the unit's fd store), one of
// `systemctl stop` unmounts them. systemd tells the two apart only over D-Bus: the job it runs
// for the unit.

#include <sys/types.h>

#include <string>

namespace procfsd {

// The type of the job systemd runs now for the unit of process `pid` ("restart", "stop", ...),
// asked over the system bus within 2 s; empty when there is none, or when no systemd answers
// (then `why` says why).
std::string systemd_job_of(pid_t pid, std::string* why = nullptr);

// Whether a job of that type starts the unit again after stopping it.
bool job_restarts(const std::string& type) noexcept;

} // namespace procfsd
