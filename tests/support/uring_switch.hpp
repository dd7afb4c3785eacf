// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// The kernel's switch for FUSE over io_uring (fuse.enable_uring, read at each mount's INIT),
// set by a test or the bench for as long as it needs and put back as it was on every path.

namespace procfsd::support {

constexpr const char* enable_uring_path = "/sys/module/fuse/parameters/enable_uring";

// Whether this process may use io_uring at all (kernel.io_uring_disabled 0, or no such sysctl).
bool io_uring_allowed();

class UringSwitch {
public:
    explicit UringSwitch(char value);
    UringSwitch(const UringSwitch&) = delete;
    UringSwitch& operator=(const UringSwitch&) = delete;
    ~UringSwitch();

    // False where the kernel has no FUSE over io_uring (before Linux 6.14, or not built), or
    // the switch did not take the value.
    [[nodiscard]] bool usable() const noexcept { return usable_; }
    // Its value before (put back by the destructor); 0 where there is no switch.
    [[nodiscard]] char saved() const noexcept { return saved_; }

private:
    char saved_ = 0;
    bool usable_ = false;
};

} // namespace procfsd::support
