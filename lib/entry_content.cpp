// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/entry_content.hpp"

#include <cctype>
#include <string_view>
#include <vector>

#include "procfsd/caller.hpp"
#include "procfsd/keys_view.hpp"

namespace procfsd {

namespace {

// /proc/keys is bounded by the key quotas (root's: 1,000,000 keys at most, far less in practice).
constexpr size_t max_keys_size = 16u << 20;
constexpr size_t max_stat_size = 64u << 10;

// A pid file's text (stat, status) as the source gave this open, edited by `edit`.
sys::Result<std::string> edited(const ContentRequest& r, std::string (*edit)(std::string_view))
{
    auto text = sys::read_to_end(r.file, max_stat_size);
    if (!text.ok())
        return text;
    return {edit(text.value), 0};
}

} // namespace

sys::Result<std::string> keys_for_caller(const ContentRequest& r)
{
    auto text = sys::read_to_end(r.file, max_keys_size);
    if (!text.ok())
        return text;
    return {keys_visible_without_possession(text.value, r.caller.fsuid(), r.caller.fsgid(),
                                            r.caller.groups()),
            0};
}

sys::Result<std::string> stat_without_ptrace(const ContentRequest& r)
{
    return edited(r, zero_unpermitted_stat);
}

sys::Result<std::string> wchan_without_ptrace(const ContentRequest&) { return {"0", 0}; }

namespace {

// stat's fields after "pid (comm)", numbered from 3 (comm may hold spaces and parentheses), set
// by `edit`, and the line made again.
template <class Edit>
std::string edit_stat(std::string_view stat, Edit edit)
{
    auto close = stat.rfind(')');
    if (close == std::string_view::npos)
        return std::string(stat);
    // The fields after comm, split on whitespace (views into `stat`); an edit replaces one.
    std::vector<std::string_view> fields;
    fields.reserve(52);
    std::string_view rest = stat.substr(close + 1);
    for (size_t i = 0; i < rest.size();) {
        while (i < rest.size() && std::isspace(static_cast<unsigned char>(rest[i])))
            ++i;
        size_t start = i;
        while (i < rest.size() && !std::isspace(static_cast<unsigned char>(rest[i])))
            ++i;
        if (i > start)
            fields.push_back(rest.substr(start, i - start));
    }
    auto set = [&](size_t field, const char* value) {
        if (field >= 3 && field - 3 < fields.size())
            fields[field - 3] = value;
    };
    edit(fields, set);
    std::string out(stat.substr(0, close + 1));
    out.reserve(stat.size() + 16);
    for (auto x : fields) {
        out += ' ';
        out += x;
    }
    out += '\n';
    return out;
}

} // namespace

std::string zero_unpermitted_stat(std::string_view stat)
{
    return edit_stat(stat, [](const std::vector<std::string_view>& fields, auto set) {
        // startcode and endcode read 1 while the task has an mm (the daemon's reading shows a
        // code address), else 0; startstack, kstkesp, kstkeip and wchan 0; start_data ..
        // env_end and exit_code 0.
        bool has_mm = fields.size() > 26 - 3 && fields[26 - 3] != "0";
        set(26, has_mm ? "1" : "0");
        set(27, has_mm ? "1" : "0");
        for (size_t i : {28, 29, 30, 35, 45, 46, 47, 48, 49, 50, 51, 52})
            set(i, "0");
    });
}

std::string running_stat(std::string_view stat)
{
    return edit_stat(stat, [](const std::vector<std::string_view>&, auto set) {
        set(3, "R");
        set(35, "0"); // do_task_stat: !task_is_running()
    });
}

std::string running_status(std::string_view status)
{
    std::string out(status);
    size_t at = out.rfind("State:\t", 0) == 0 ? 0 : out.find("\nState:\t");
    if (at == std::string::npos)
        return out;
    if (at != 0)
        ++at; // past the newline
    auto end = out.find('\n', at);
    out.replace(at, end == std::string::npos ? std::string::npos : end - at, "State:\tR (running)");
    return out;
}

sys::Result<std::string> stat_read_by_itself(const ContentRequest& r) { return edited(r, running_stat); }

sys::Result<std::string> status_read_by_itself(const ContentRequest& r) { return edited(r, running_status); }

// proc_pid_wchan prints 0 for a running task (get_wchan gives nothing).
sys::Result<std::string> wchan_read_by_itself(const ContentRequest&) { return {"0", 0}; }

} // namespace procfsd
