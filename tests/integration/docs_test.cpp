// SPDX-License-Identifier: GPL-2.0-or-later
// The man pages render without warnings and document what the daemon says it does: every mount
// option its --help lists (from the table that parses them), every command and signal.
#include <catch2/catch_test_macros.hpp>

#include <cstdlib>
#include <sstream>

#include "harness.hpp"

using namespace procfsd::test;

namespace {

std::string man_dir()
{
    const char* dir = std::getenv("PROCFSD_MAN_DIR");
    REQUIRE(dir);
    return dir;
}

// The page as man(1) renders it, with its warnings.
std::string rendered(const std::string& page, std::string* warnings)
{
    std::string path = man_dir() + "/" + page;
    *warnings = run_command("LC_ALL=C.UTF-8 MANWIDTH=100 man --warnings -l " + path + " 2>&1 >/dev/null");
    // One line per paragraph, without hyphenation, for searching.
    return run_command("LC_ALL=C.UTF-8 MANWIDTH=1000 MAN_KEEP_FORMATTING= man -l " + path +
                       " 2>/dev/null | col -b");
}

// The mount option names --help lists ("  name=VALUE  help" under "Mount options").
std::vector<std::string> help_options()
{
    std::istringstream in(run_command(procfsd_binary() + " --help"));
    std::vector<std::string> names;
    std::string line;
    bool in_section = false;
    while (std::getline(in, line)) {
        if (line.rfind("Mount options", 0) == 0) {
            in_section = true;
            continue;
        }
        if (!in_section)
            continue;
        if (line.empty())
            break;
        if (line.size() > 2 && line[2] != ' ') {
            std::string item = line.substr(2, line.find_first_of(" =", 2) - 2);
            std::istringstream parts(item);
            std::string name;
            while (std::getline(parts, name, ','))
                names.push_back(name);
        }
    }
    return names;
}

} // namespace

TEST_CASE("the man pages render without warnings", "[docs]")
{
    for (const char* page : {"procfsd.8", "procfsd.conf.5"}) {
        std::string warnings;
        std::string text = rendered(page, &warnings);
        INFO(page << ":\n" << warnings);
        CHECK(warnings.empty());
        CHECK(text.find("SEE ALSO") != std::string::npos);
    }
}

TEST_CASE("procfsd(8) documents every mount option, command and signal the daemon has", "[docs]")
{
    std::string warnings;
    std::string man = rendered("procfsd.8", &warnings);
    auto options = help_options();
    REQUIRE(options.size() >= 20);
    for (auto& o : options) {
        INFO("mount option " << o);
        CHECK(man.find(o) != std::string::npos);
    }
    // README's table of mount options has each of the parsed ones (those with a value too).
    std::string readme = run_command("cat " + std::string(std::getenv("PROCFSD_README")));
    for (const char* o : {"hidepid=", "gid=", "subset=pid", "source=", "entry_timeout=", "attr_timeout="})
        CHECK(readme.find(o) != std::string::npos);
    for (const char* word : {"stats", "ctl list", "ctl reload", "ctl mount", "ctl umount", "SIGTERM",
                             "SIGHUP", "SIGUSR1", "--check-config", "--force", "--persist", "--control",
                             "EXIT STATUS", "EXAMPLES", "procfsd.conf"}) {
        INFO(word);
        CHECK(man.find(word) != std::string::npos);
    }
    // Every flag --help shows.
    std::istringstream help(run_command(procfsd_binary() + " --help"));
    std::string line;
    while (std::getline(help, line)) {
        auto dash = line.find("--");
        if (line.rfind("  -", 0) != 0 || dash == std::string::npos)
            continue;
        std::string flag = line.substr(dash, line.find_first_of(" ,", dash) - dash);
        INFO("flag " << flag);
        CHECK(man.find(flag) != std::string::npos);
    }
}
