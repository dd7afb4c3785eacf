// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// What the service manager is doing to this service: a SIGTERM of `systemctl restart` leaves
// the mounts to the next start (their connections stay in the unit's fd store), one of
// `systemctl stop` unmounts them. systemd tells the two apart only over D-Bus: the job it runs
// for the unit.

#include <sys/types.h>

#include <string>

namespace procfsd {

// Whether systemd runs a job now that stops the unit of process `pid` and starts it again
// (`systemctl restart`, `try-restart`), asked over the system bus within 2 s. False for any
// other job, or when no systemd answers (the log says why).
bool systemd_restarts_unit_of(pid_t pid);

} // namespace procfsd
