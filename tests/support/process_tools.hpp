// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Processes for the tests and the benchmark: servers and commands that end when we do, waits
// with a deadline, and what a process holds (RSS, descriptors). Nothing here needs Catch2.

#include <sys/types.h>

#include <chrono>
#include <csignal>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace procfsd::support {

using namespace std::chrono_literals;

// In a child just forked: default signal handling (the parent's handlers and ignored signals
// are not the child's business), and `death_signal` when the parent dies. False if the parent
// died before that was set up: the child should exit.
bool tie_to_parent(pid_t parent, int death_signal);

// Closes every descriptor from `first` up.
void close_fds_from(unsigned first);

struct SpawnOptions {
    int death_signal = SIGTERM;                  // the child gets it if we die
    bool quiet = false;                          // stdin and stdout on /dev/null; stderr stays
    std::optional<std::vector<std::string>> env; // its whole environment; unset: ours
};

// Starts argv (argv[0] searched in PATH) in the background, with no descriptor of ours beyond
// stderr. Returns its pid, or -1 (errno set) if it cannot fork.
pid_t spawn(const std::vector<std::string>& argv, const SpawnOptions& options = {});

struct ProgramRun {
    int status = -1;        // waitpid status; -1 if it could not start
    std::string out;        // stdout, when captured
    std::string err;        // stderr, when captured (and why it failed or was killed)
    double seconds = 0;     // fork to reap
    bool timed_out = false; // killed when the time was up
};

// Runs argv (PATH lookup) to its end, stdin on /dev/null, stdout and stderr captured in memfds
// (no pipe to drain while it runs) or dropped. With timeout_s > 0 it is killed (SIGKILL) once
// the time is up.
ProgramRun run_program(const std::vector<std::string>& argv, bool capture, double timeout_s = 0);

// A waitpid status of a program that exited with 0.
bool exited_ok(int status);

// Waits for child `p` to end and reaps it; with timeout_s > 0 it is killed (SIGKILL) if it has
// not ended by then (*timed_out says so). Returns the waitpid status.
int wait_child(pid_t p, double timeout_s = 0, bool* timed_out = nullptr);

// Whether child `p` ended within `deadline`; if so it is reaped.
bool reaped_within(pid_t p, std::chrono::milliseconds deadline);

// Waits until pred() holds or the deadline passes; returns pred()'s last value.
bool wait_until(const std::function<bool()>& pred, std::chrono::milliseconds deadline = 5s,
                std::chrono::milliseconds poll = 2ms);

// VmRSS of a process in KiB; -1 if unknown.
long rss_kib(pid_t pid);

// Descriptors a process holds; -1 if unknown.
long count_fds(pid_t pid);

} // namespace procfsd::support
