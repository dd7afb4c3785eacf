// SPDX-License-Identifier: GPL-2.0-or-later
// The README's recipes run as written there, with the test's own mount for the example's: a
// sandbox made with unshare and one made with bubblewrap get the procfsd mount as /proc.
#include <catch2/catch_test_macros.hpp>

#include <cstdlib>
#include <fstream>

#include "harness.hpp"

using namespace procfsd::test;

namespace {

// The indented command lines of the first code block after `heading` in the README.
std::vector<std::string> readme_block(const std::string& heading)
{
    const char* readme = std::getenv("PROCFSD_README");
    REQUIRE(readme);
    std::ifstream in(readme);
    std::string line;
    std::vector<std::string> out;
    bool found = false;
    while (std::getline(in, line)) {
        if (!found) {
            found = line == heading;
            continue;
        }
        if (line.rfind("    ", 0) == 0)
            out.push_back(line.substr(4));
        else if (!out.empty())
            break;
    }
    return out;
}

std::string replace_all(std::string s, const std::string& from, const std::string& to)
{
    for (size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
        s.replace(pos, from.size(), to);
    return s;
}

} // namespace

TEST_CASE("the README's sandbox recipes give the sandbox this /proc", "[recipes]")
{
    auto recipes = readme_block("### A sandbox's /proc");
    REQUIRE(recipes.size() == 2);
    TestMount m("hidepid=invisible");
    auto sleeper = spawn_sleeper();
    for (auto& recipe : recipes) {
        std::string cmd = replace_all(recipe, "/run/procfsd/proc-private", m.path());
        long long opens = m.counter("requests_open");
        int status = -1;
        std::string out = run_command(cmd + " 2>&1", &status);
        INFO(cmd << "\n" << out.substr(0, 2000));
        CHECK(status == 0);
        CHECK(out.find("  PID TTY") != std::string::npos);
        CHECK(out.find(std::to_string(sleeper.pid()) + " ?") != std::string::npos);
        // ps read its files through the mount.
        CHECK(m.counter("requests_open") > opens + 10);
    }
}
