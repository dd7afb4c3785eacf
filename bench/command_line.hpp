// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <CLI/CLI.hpp>

namespace procfsd::bench {

// Parses the command line into `app`'s options. Returns -1 to go on, else the exit status: 0
// after --help, 2 after a usage error, said on stderr (CLI11 would return its own 105, 106...).
inline int parse_command_line(CLI::App& app, int argc, char** argv)
{
    try {
        app.parse(argc, argv);
    } catch (const CLI::Success& e) {
        return app.exit(e);
    } catch (const CLI::ParseError& e) {
        app.exit(e);
        return 2;
    }
    return -1;
}

} // namespace procfsd::bench
