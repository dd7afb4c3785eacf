// SPDX-License-Identifier: GPL-2.0-or-later
#include <catch2/catch_test_macros.hpp>

#include "procfsd/mount_options.hpp"

using namespace procfsd;

namespace {
MountOptions parse_ok(std::string_view text)
{
    auto r = parse_mount_options(text);
    if (auto* err = std::get_if<std::string>(&r))
        FAIL("refused '" << text << "': " << *err);
    return std::get<MountOptions>(r);
}

std::string refusal(std::string_view text)
{
    auto r = parse_mount_options(text);
    REQUIRE(std::holds_alternative<std::string>(r));
    return std::get<std::string>(r);
}
} // namespace

TEST_CASE("defaults: /proc, writable, long pid entry cache", "[unit][options]")
{
    auto o = parse_ok("");
    CHECK(o.source == "/proc");
    CHECK_FALSE(o.read_only);
    CHECK(o.entry_timeout == 3600.0);
    CHECK(o.attr_timeout == 1.0);
    CHECK(o.to_string() == "rw");
}

TEST_CASE("options are parsed with the kernel's names", "[unit][options]")
{
    auto o = parse_ok("ro,source=/srv/proc,entry_timeout=5,attr_timeout=0.5,hidepid=invisible,gid=0,subset=pid,nosuid");
    CHECK(o.read_only);
    CHECK(o.source == "/srv/proc");
    CHECK(o.entry_timeout == 5.0);
    CHECK(o.attr_timeout == 0.5);
    CHECK(o.hidepid == Hidepid::invisible);
    CHECK(o.gid == gid_t{0});
    CHECK(o.subset_pid);
    CHECK(o.vfs_flags == std::vector<std::string>{"nosuid"});
    CHECK(parse_ok("hidepid=4").hidepid == Hidepid::ptraceable);
    CHECK(parse_ok("hidepid=1").hidepid == Hidepid::noaccess);
    CHECK(parse_ok("gid=root").gid == gid_t{0});
}

TEST_CASE("malformed options are refused with the option named", "[unit][options]")
{
    CHECK(refusal("hidepid=3").find("hidepid=3") != std::string::npos);
    CHECK(refusal("hidepid=foo").find("hidepid=foo") != std::string::npos);
    CHECK(refusal("gid=nosuchgroup-procfsd").find("no such group") != std::string::npos);
    CHECK(refusal("subset=net").find("subset=net") != std::string::npos);
    CHECK(refusal("entry_timeout=-1").find("entry_timeout=-1") != std::string::npos);
    CHECK(refusal("entry_timeout=abc").find("entry_timeout") != std::string::npos);
    CHECK(refusal("bogus=1").find("unknown option") != std::string::npos);
    CHECK(refusal("ro=1").find("takes no value") != std::string::npos);
    CHECK(refusal("source").find("needs a value") != std::string::npos);
    CHECK(refusal("source=relative").find("absolute") != std::string::npos);
    CHECK(refusal("ro,rw").find("conflicts") != std::string::npos);
    CHECK(refusal("hidepid=1,hidepid=2").find("conflicts") != std::string::npos);
    // The same thing said twice is not a conflict.
    CHECK(parse_ok("ro,ro").read_only);
}

TEST_CASE("what the option table prints, it parses back to the same options", "[unit][options]")
{
    for (const char* text : {"", "ro", "source=/proc,hidepid=invisible,gid=4,subset=pid",
                             "hidepid=ptraceable,entry_timeout=2.5,attr_timeout=0", "gid=0,ro"}) {
        auto o = parse_ok(text);
        std::string shown = o.to_string();
        INFO(text << " -> " << shown);
        auto again = parse_ok(shown);
        CHECK(again.to_string() == shown);
        CHECK(again.read_only == o.read_only);
        CHECK(again.hidepid == o.hidepid);
        CHECK(again.gid == o.gid);
        CHECK(again.subset_pid == o.subset_pid);
        CHECK(again.entry_timeout == o.entry_timeout);
        CHECK(again.attr_timeout == o.attr_timeout);
    }
}

TEST_CASE("--help lists every option the table parses", "[unit][options]")
{
    std::string help = mount_options_help();
    for (auto& name : mount_option_names()) {
        INFO(name);
        CHECK(help.find("  " + name) != std::string::npos);
        // And the parser knows each: it may refuse a value, never the name.
        for (auto text : {name, name + "=x"}) {
            auto r = parse_mount_options(text);
            auto* err = std::get_if<std::string>(&r);
            CHECK((!err || err->find("unknown option") == std::string::npos));
        }
    }
}

TEST_CASE("io_uring= and io_uring_depth= choose the transport and its queues", "[unit][options]")
{
    using R = MountOptions::IoUring;
    CHECK(parse_ok("").io_uring == R::automatic);
    CHECK(parse_ok("io_uring=auto").io_uring == R::automatic);
    CHECK(parse_ok("io_uring=on").io_uring == R::on);
    CHECK(parse_ok("io_uring=off").io_uring == R::off);
    CHECK(parse_ok("io_uring_depth=8").io_uring_depth == 8);
    CHECK(parse_ok("io_uring=on,io_uring_depth=4").to_string() == "rw,io_uring=on,io_uring_depth=4");
    CHECK(parse_ok("io_uring=auto").to_string() == "rw");
    CHECK(refusal("io_uring=yes").find("io_uring=yes") != std::string::npos);
    CHECK(refusal("io_uring_depth=0").find("1 to 64") != std::string::npos);
    CHECK(refusal("io_uring_depth=65").find("1 to 64") != std::string::npos);
    CHECK(refusal("io_uring_depth=2x").find("io_uring_depth") != std::string::npos);
}
