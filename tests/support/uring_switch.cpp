// SPDX-License-Identifier: GPL-2.0-or-later
#include "uring_switch.hpp"

#include <fstream>

namespace procfsd::support {

namespace {
bool write_switch(char c)
{
    std::ofstream out(enable_uring_path);
    out << c << '\n';
    out.flush();
    return static_cast<bool>(out);
}
} // namespace

bool io_uring_allowed()
{
    std::ifstream in("/proc/sys/kernel/io_uring_disabled");
    char c = '0';
    return !in.get(c) || c == '0';
}

UringSwitch::UringSwitch(char value)
{
    std::ifstream in(enable_uring_path);
    if (!in.get(saved_)) {
        saved_ = 0;
        return;
    }
    usable_ = write_switch(value);
}

UringSwitch::~UringSwitch()
{
    if (saved_)
        write_switch(saved_);
}

} // namespace procfsd::support
