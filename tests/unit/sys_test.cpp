// SPDX-License-Identifier: GPL-2.0-or-later
#include <catch2/catch_test_macros.hpp>
#include <unistd.h>

#include <string>

#include "procfsd/paths.hpp"
#include "procfsd/sys.hpp"

using namespace procfsd;

namespace {

// A pipe holding `size` bytes, its write end closed.
UniqueFd pipe_with(size_t size)
{
    int p[2];
    REQUIRE(::pipe(p) == 0);
    std::string data(size, 'x');
    REQUIRE(::write(p[1], data.data(), data.size()) == static_cast<ssize_t>(size));
    ::close(p[1]);
    return UniqueFd(p[0]);
}

} // namespace

TEST_CASE("reading a file whole never truncates it silently", "[unit][sys]")
{
    auto exact = sys::read_to_end(pipe_with(8192).get(), 8192);
    CHECK(exact.ok());
    CHECK(exact.value.size() == 8192);
    auto over = sys::read_to_end(pipe_with(8193).get(), 8192);
    CHECK(over.error == -EFBIG);
    CHECK(over.value.empty());
    auto empty = sys::read_to_end(pipe_with(0).get(), 16);
    CHECK(empty.ok());
    CHECK(empty.value.empty());
}

TEST_CASE("mountpoints are made absolute without touching their last name", "[unit][paths]")
{
    char cwd[4096];
    REQUIRE(::getcwd(cwd, sizeof cwd));
    CHECK(absolute_path("/tmp/x") == "/tmp/x");
    CHECK(absolute_path("/tmp/x/") == "/tmp/x");
    CHECK(absolute_path("/tmp/../tmp/x") == "/tmp/x");
    // A name that need not exist (a dead mount answers ENOTCONN to everything).
    CHECK(absolute_path("/tmp/no-such-thing") == "/tmp/no-such-thing");
    std::string rel = absolute_path("some-dir");
    CHECK(rel == std::string(cwd) + "/some-dir");
}
