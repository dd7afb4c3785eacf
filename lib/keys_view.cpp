// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/keys_view.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <optional>

namespace procfsd {

namespace {

// Key permission bits (include/linux/key.h): possessor, user, group, other, a byte each.
constexpr uint32_t key_view = 0x01;
constexpr uint32_t key_group_all = 0x3f00;

// The whitespace-separated fields of one line.
std::vector<std::string_view> fields(std::string_view line)
{
    std::vector<std::string_view> out;
    size_t pos = 0;
    while (pos < line.size()) {
        size_t start = line.find_first_not_of(' ', pos);
        if (start == std::string_view::npos)
            break;
        size_t end = line.find(' ', start);
        if (end == std::string_view::npos)
            end = line.size();
        out.push_back(line.substr(start, end - start));
        pos = end;
    }
    return out;
}

template <typename T>
bool parse(std::string_view s, T& value, int base = 10)
{
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value, base);
    return ec == std::errc{} && end == s.data() + s.size();
}

// A record starts with the key's serial as eight hex digits and a space (proc_keys_show in
// security/keys/proc.c: "%08x %c%c%c%c%c%c%c %5d %4s %08x %5d %5d %-9.9s "), and the file
// lists keys in ascending serial order. A description may hold newlines: a line that is not
// shaped like a record, or whose serial does not follow the previous record's, continues the
// previous record and shares its fate.
std::optional<uint32_t> record_serial(std::string_view line)
{
    if (line.size() < 9 || line[8] != ' ')
        return std::nullopt;
    for (char c : line.substr(0, 8))
        if (!std::isxdigit(static_cast<unsigned char>(c)) || std::isupper(static_cast<unsigned char>(c)))
            return std::nullopt;
    uint32_t serial = 0;
    if (!parse(line.substr(0, 8), serial, 16))
        return std::nullopt;
    return serial;
}

// Fields of a record: "<id> <flags> <usage> <expiry> <perm> <uid> <gid> <type> <description>".
// A record whose fields do not parse is dropped.
bool viewable(std::string_view line, uid_t fsuid, gid_t fsgid, const std::vector<gid_t>& groups)
{
    auto f = fields(line);
    uint32_t perm = 0;
    long long uid = 0, gid = 0;
    if (f.size() < 8 || !parse(f[4], perm, 16) || !parse(f[5], uid) || !parse(f[6], gid))
        return false;
    uint32_t granted = perm; // other
    if (uid == static_cast<long long>(fsuid)) {
        granted = perm >> 16;
    } else if (gid >= 0 && (perm & key_group_all) &&
               (gid == static_cast<long long>(fsgid) ||
                std::find(groups.begin(), groups.end(), static_cast<gid_t>(gid)) != groups.end())) {
        granted = perm >> 8;
    }
    return granted & key_view;
}

} // namespace

std::string keys_visible_without_possession(std::string_view text, uid_t fsuid, gid_t fsgid,
                                            const std::vector<gid_t>& groups)
{
    std::string out;
    bool keep = false; // the current record's fate; text before any record is dropped
    std::optional<uint32_t> last_serial;
    size_t pos = 0;
    while (pos < text.size()) {
        size_t eol = text.find('\n', pos);
        size_t next = eol == std::string_view::npos ? text.size() : eol + 1;
        std::string_view line = text.substr(pos, next - pos);
        std::string_view body = line.substr(0, line.find('\n'));
        auto serial = record_serial(body);
        if (serial && (!last_serial || *serial > *last_serial)) {
            last_serial = serial;
            keep = viewable(body, fsuid, fsgid, groups);
        }
        if (keep)
            out += line;
        pos = next;
    }
    return out;
}

} // namespace procfsd
