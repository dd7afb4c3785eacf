// SPDX-License-Identifier: GPL-2.0-or-later
#include <catch2/catch_test_macros.hpp>

#include "procfsd/pid_name.hpp"

using procfsd::parse_pid_name;
using procfsd::parse_proc_number;

TEST_CASE("pid names parse like the kernel's name_to_int", "[unit][names]")
{
    CHECK(parse_pid_name("1") == 1);
    CHECK(parse_pid_name("4194304") == 4194304);
    CHECK(parse_proc_number("0") == 0u);
    CHECK_FALSE(parse_pid_name("0"));
}

TEST_CASE("odd pid names are not numbers", "[unit][names]")
{
    for (const char* bad : {"", "01", "007", "+1", "-1", " 1", "1 ", "1a", "0x10", "4294967295",
                            "4294967296", "99999999999999999999", "１"})
        CHECK_FALSE(parse_pid_name(bad));
    // Values the kernel still accepts (below ~0U / 10) but that no pid can have.
    // The kernel refuses a further digit once the value reaches (~0U - 9) / 10.
    CHECK(parse_proc_number("429496729") == 429496729u);
    CHECK(parse_proc_number("4294967279") == 4294967279u);
    CHECK_FALSE(parse_proc_number("4294967280"));
    CHECK_FALSE(parse_pid_name("4294967279"));
}
