// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "procfsd/mount_options.hpp"

namespace procfsd {

// One mount a daemon is asked to serve: an absolute mountpoint and its options.
struct MountRequest {
    std::string mountpoint;
    MountOptions options;
};

// Parses "DIR[:OPTS]" (`--mount`, a config entry), with `common` options before OPTS. The
// directory is made absolute (paths.hpp). Returns the request, or one line saying why not.
std::variant<MountRequest, std::string> parse_mount_arg(const std::string& arg,
                                                       const std::string& common = "");

// What a config file says (/etc/procfsd/procfsd.conf):
//     mount = [ "DIR[:OPTS]", ... ]      (on one line or over several)
//     log-level = "info"
struct ConfigFile {
    std::vector<MountRequest> mounts;
    std::optional<std::string> log_level;
};

// Reads and checks a config file whole: its syntax, every key, every value and every mount's
// options, and no mountpoint twice. Returns the config, or one line "FILE:LINE: reason" (or
// "FILE: reason"). The syntax is CLI11's (TOML-like); arrays may span lines, which CLI11
// before 2.2 cannot read, so they are joined first, keeping their line numbers for errors.
std::variant<ConfigFile, std::string> read_config_file(const std::string& path);

// The log levels `--log-level` and the config accept.
const std::vector<std::string>& log_level_names();

} // namespace procfsd
