// SPDX-License-Identifier: GPL-2.0-or-later
#include "uring_switch.hpp"

#include "emergency_stop.hpp"

#include <fstream>

namespace procfsd::bench {

namespace {
bool write_switch(char c)
{
    std::ofstream out(uring_param);
    out << c << '\n';
    out.flush();
    return static_cast<bool>(out);
}
} // namespace

UringSwitch::UringSwitch()
{
#ifndef PROCFSD_FUSE_URING
    problem_ = "built with the system's libfuse (-Dsystem_libfuse=true)";
    return;
#endif
    std::ifstream in(uring_param);
    if (!in.get(saved_)) {
        saved_ = 0;
        problem_ = std::string("the kernel has no ") + uring_param + " (Linux 6.14+)";
        return;
    }
    std::ifstream disabled("/proc/sys/kernel/io_uring_disabled");
    char d = '0';
    if (disabled.get(d) && d != '0') {
        saved_ = 0;
        problem_ = "kernel.io_uring_disabled is set";
        return;
    }
    remember_uring_param(saved_);
    on_ = write_switch('Y');
    if (!on_)
        problem_ = std::string("cannot write ") + uring_param;
}

UringSwitch::~UringSwitch()
{
    if (saved_) {
        write_switch(saved_);
        remember_uring_param(0);
    }
}

} // namespace procfsd::bench
