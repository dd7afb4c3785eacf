// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// A small JSON value for the results file: objects keep their keys in the order they were set,
// numbers are written as integers when they are whole, NaN and infinities as null.

#include <initializer_list>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace procfsd::bench {

class Json {
public:
    Json() = default;
    Json(bool v) : kind_(Kind::boolean), b_(v) {}
    template <class T>
    requires(std::is_arithmetic_v<T> && !std::is_same_v<T, bool>) Json(T v)
        : kind_(Kind::number), n_(static_cast<double>(v))
    {
    }
    Json(const char* s) : kind_(Kind::string), s_(s) {}
    Json(std::string s) : kind_(Kind::string), s_(std::move(s)) {}
    Json(const std::vector<double>& v);

    static Json array();
    // An object with these members, in this order.
    static Json object(std::initializer_list<std::pair<std::string, Json>> members = {});

    // The member `key`, added (null) if missing; a value that is not an object becomes one.
    Json& operator[](const std::string& key);
    // Appends to an array; a value that is not an array becomes one.
    void push(Json v);

    // The text, indented by two spaces a level, arrays of scalars on one line.
    std::string dump() const;

private:
    enum class Kind { null, boolean, number, string, array, object };

    void write(std::string& out, int indent) const;

    Kind kind_ = Kind::null;
    bool b_ = false;
    double n_ = 0;
    std::string s_;
    std::vector<Json> a_;
    std::vector<std::pair<std::string, Json>> o_;
};

} // namespace procfsd::bench
