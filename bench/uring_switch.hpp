// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// FUSE over io_uring allowed in the kernel for the bench's run (fuse.enable_uring=Y, read at
// each mount's INIT), and the switch put back as it was when the bench ends, however it ends
// (emergency_stop.cpp). Off where this build's libfuse or the kernel has no io_uring.

#include <string>

namespace procfsd::bench {

class UringSwitch {
public:
    UringSwitch();
    UringSwitch(const UringSwitch&) = delete;
    UringSwitch& operator=(const UringSwitch&) = delete;
    ~UringSwitch();

    [[nodiscard]] bool on() const noexcept { return on_; }
    // Why it is off.
    [[nodiscard]] const std::string& problem() const noexcept { return problem_; }

private:
    bool on_ = false;
    char saved_ = 0;
    std::string problem_;
};

} // namespace procfsd::bench
