// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/config_file.hpp"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include "procfsd/paths.hpp"

namespace procfsd {

namespace {

// Where `c` first occurs in `text` outside a double-quoted string (npos if it does not).
size_t find_unquoted(const std::string& text, char c)
{
    bool quoted = false;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\\' && quoted)
            ++i;
        else if (text[i] == '"')
            quoted = !quoted;
        else if (text[i] == c && !quoted)
            return i;
    }
    return std::string::npos;
}

// Where a comment starts in `line` (npos if none).
size_t comment_start(const std::string& line) { return find_unquoted(line, '#'); }

// Whether `text` closes the array it is in.
bool closes_array(const std::string& text) { return find_unquoted(text, ']') != std::string::npos; }

// One logical line of the file: a key and its value, from line `line` on.
struct Statement {
    std::string key;
    std::string text; // "key = value" on one line
    int line = 0;
    std::vector<std::pair<std::string, int>> elements; // array items with their lines
};

std::string trim(const std::string& s)
{
    auto b = s.find_first_not_of(" \t\r");
    auto e = s.find_last_not_of(" \t\r");
    return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

// The quoted strings in `text`, unescaped as CLI11 reads them.
std::vector<std::string> quoted_strings(const std::string& text)
{
    std::vector<std::string> out;
    for (size_t i = 0; i < text.size(); ++i) {
        if (text[i] != '"')
            continue;
        std::string s;
        for (++i; i < text.size() && text[i] != '"'; ++i) {
            if (text[i] == '\\' && i + 1 < text.size())
                ++i;
            s += text[i];
        }
        out.push_back(s);
    }
    return out;
}

// Splits the file into statements, joining arrays that span lines.
std::variant<std::vector<Statement>, std::string> statements_of(std::istream& in, const std::string& path)
{
    std::vector<Statement> out;
    std::string raw;
    int number = 0;
    Statement* open = nullptr; // an array not closed yet
    while (std::getline(in, raw)) {
        ++number;
        std::string line = raw;
        if (auto c = comment_start(line); c != std::string::npos)
            line.resize(c);
        line = trim(line);
        if (open) {
            for (auto& s : quoted_strings(line))
                open->elements.emplace_back(s, number);
            open->text += " " + line;
            if (closes_array(line))
                open = nullptr;
            continue;
        }
        if (line.empty())
            continue;
        if (line.front() == '[')
            return fmt::format("{}:{}: sections are not used here: '{}'", path, number, line);
        auto eq = line.find('=');
        if (eq == std::string::npos)
            return fmt::format("{}:{}: expected 'key = value': '{}'", path, number, line);
        Statement st;
        st.key = trim(line.substr(0, eq));
        st.text = line;
        st.line = number;
        std::string value = trim(line.substr(eq + 1));
        if (!value.empty() && value.front() == '[') {
            for (auto& s : quoted_strings(value))
                st.elements.emplace_back(s, number);
            out.push_back(std::move(st));
            if (!closes_array(value))
                open = &out.back();
            continue;
        }
        out.push_back(std::move(st));
    }
    if (open)
        return fmt::format("{}:{}: the array of '{}' is never closed (missing ']')", path, open->line,
                           open->key);
    return out;
}

// The line a CLI11 message is about: the statement whose key it names.
int line_of(const std::vector<Statement>& statements, const std::string& message)
{
    for (auto& st : statements) {
        std::string k = st.key;
        if (message.find("--" + k) != std::string::npos || message.find(" " + k) != std::string::npos ||
            message.find("\"" + k) != std::string::npos)
            return st.line;
    }
    return 0;
}

} // namespace

const std::vector<std::string>& log_level_names()
{
    static const std::vector<std::string> names{"trace", "debug", "info",    "warn",
                                                "error", "critical", "off"};
    return names;
}

std::variant<MountRequest, std::string> parse_mount_arg(const std::string& arg, const std::string& common)
{
    auto colon = arg.find(':');
    std::string dir = arg.substr(0, colon);
    if (dir.empty())
        return fmt::format("'{}': no directory", arg);
    std::string opts = common;
    if (colon != std::string::npos) {
        if (!opts.empty())
            opts += ',';
        opts += arg.substr(colon + 1);
    }
    dir = absolute_path(dir);
    auto parsed = parse_mount_options(opts);
    if (auto* err = std::get_if<std::string>(&parsed))
        return fmt::format("{}: {}", dir, *err);
    return MountRequest{dir, std::get<MountOptions>(parsed)};
}

std::variant<ConfigFile, std::string> read_config_file(const std::string& path)
{
    std::ifstream in(path);
    if (!in)
        return fmt::format("{}: cannot read it: {}", path, std::strerror(errno));
    auto split = statements_of(in, path);
    if (auto* err = std::get_if<std::string>(&split))
        return *err;
    auto& statements = std::get<std::vector<Statement>>(split);

    // CLI11 reads the joined text: it knows the keys, their types and their values' checks.
    CLI::App app;
    app.allow_config_extras(false);
    std::vector<std::string> mounts;
    std::string log_level;
    app.add_option("--mount", mounts);
    app.add_option("--log-level", log_level)->check(CLI::IsMember(log_level_names()));
    std::string joined;
    for (auto& st : statements)
        joined += st.text + "\n";
    std::istringstream text(joined);
    try {
        app.parse_from_stream(text);
    } catch (const CLI::Error& e) {
        std::string what = e.what();
        int line = line_of(statements, what);
        if (what.rfind("INI was not able to parse ", 0) == 0)
            what = "unknown key or malformed value: " + what.substr(26);
        return line ? fmt::format("{}:{}: {}", path, line, what) : fmt::format("{}: {}", path, what);
    }

    ConfigFile config;
    if (!log_level.empty())
        config.log_level = log_level;
    // Each mount with the line it came from, checked as `--mount` is.
    std::vector<std::pair<std::string, int>> lined;
    for (auto& st : statements)
        if (st.key == "mount")
            lined.insert(lined.end(), st.elements.begin(), st.elements.end());
    std::set<std::string> seen;
    for (size_t i = 0; i < mounts.size(); ++i) {
        int line = i < lined.size() && lined[i].first == mounts[i] ? lined[i].second : 0;
        auto where = line ? fmt::format("{}:{}", path, line) : path;
        auto parsed = parse_mount_arg(mounts[i]);
        if (auto* err = std::get_if<std::string>(&parsed))
            return fmt::format("{}: {}", where, *err);
        auto& request = std::get<MountRequest>(parsed);
        if (!seen.insert(request.mountpoint).second)
            return fmt::format("{}: {} is listed twice", where, request.mountpoint);
        config.mounts.push_back(std::move(request));
    }
    return config;
}

} // namespace procfsd
