// SPDX-License-Identifier: GPL-2.0-or-later
#include "json.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace procfsd::bench {

namespace {

void quote(std::string& out, const std::string& s)
{
    out += '"';
    for (unsigned char c : s) {
        switch (c) {
        case '"':
            out += "\\\"";
            break;
        case '\\':
            out += "\\\\";
            break;
        case '\n':
            out += "\\n";
            break;
        case '\t':
            out += "\\t";
            break;
        default:
            if (c < 0x20) {
                char esc[8];
                std::snprintf(esc, sizeof esc, "\\u%04x", c);
                out += esc;
            } else {
                out += static_cast<char>(c);
            }
        }
    }
    out += '"';
}

void number(std::string& out, double n)
{
    char buf[32];
    if (!std::isfinite(n))
        out += "null";
    else if (n == std::floor(n) && std::fabs(n) < 1e15)
        out += std::string(buf, static_cast<size_t>(std::snprintf(buf, sizeof buf, "%lld",
                                                                  static_cast<long long>(n))));
    else
        out += std::string(buf, static_cast<size_t>(std::snprintf(buf, sizeof buf, "%.6g", n)));
}

} // namespace

Json::Json(const std::vector<double>& v) : kind_(Kind::array)
{
    for (double d : v)
        a_.emplace_back(d);
}

Json Json::array()
{
    Json j;
    j.kind_ = Kind::array;
    return j;
}

Json Json::object(std::initializer_list<std::pair<std::string, Json>> members)
{
    Json j;
    j.kind_ = Kind::object;
    j.o_.assign(members.begin(), members.end());
    return j;
}

Json& Json::operator[](const std::string& key)
{
    if (kind_ != Kind::object) {
        kind_ = Kind::object;
        o_.clear();
    }
    for (auto& [k, v] : o_)
        if (k == key)
            return v;
    o_.emplace_back(key, Json{});
    return o_.back().second;
}

void Json::push(Json v)
{
    if (kind_ != Kind::array) {
        kind_ = Kind::array;
        a_.clear();
    }
    a_.push_back(std::move(v));
}

std::string Json::dump() const
{
    std::string out;
    write(out, 0);
    out += '\n';
    return out;
}

void Json::write(std::string& out, int indent) const
{
    std::string pad(static_cast<size_t>(indent + 2), ' ');
    std::string end_pad(static_cast<size_t>(indent), ' ');
    switch (kind_) {
    case Kind::null:
        out += "null";
        break;
    case Kind::boolean:
        out += b_ ? "true" : "false";
        break;
    case Kind::number:
        number(out, n_);
        break;
    case Kind::string:
        quote(out, s_);
        break;
    case Kind::array: {
        bool scalars = std::all_of(a_.begin(), a_.end(), [](const Json& j) {
            return j.kind_ != Kind::array && j.kind_ != Kind::object;
        });
        out += '[';
        for (size_t i = 0; i < a_.size(); ++i) {
            if (i)
                out += scalars ? ", " : ",";
            if (!scalars)
                out += "\n" + pad;
            a_[i].write(out, indent + 2);
        }
        if (!scalars && !a_.empty())
            out += "\n" + end_pad;
        out += ']';
        break;
    }
    case Kind::object:
        out += '{';
        for (size_t i = 0; i < o_.size(); ++i) {
            out += i ? ",\n" : "\n";
            out += pad;
            quote(out, o_[i].first);
            out += ": ";
            o_[i].second.write(out, indent + 2);
        }
        if (!o_.empty())
            out += "\n" + end_pad;
        out += '}';
        break;
    }
}

} // namespace procfsd::bench
