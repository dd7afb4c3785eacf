// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/service_job.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-bus.h>

#include <cstdlib>
#include <memory>

#include "procfsd/sys.hpp"

namespace procfsd {

namespace {

constexpr const char* manager = "org.freedesktop.systemd1";

struct BusCloser {
    void operator()(sd_bus* b) const noexcept { sd_bus_flush_close_unref(b); }
};
struct MessageUnref {
    void operator()(sd_bus_message* m) const noexcept { sd_bus_message_unref(m); }
};
using Message = std::unique_ptr<sd_bus_message, MessageUnref>;

// An sd_bus_error freed on every path.
struct BusError {
    sd_bus_error e{}; // SD_BUS_ERROR_NULL, which is a C compound literal
    ~BusError() { sd_bus_error_free(&e); }
    [[nodiscard]] std::string say(int rv) const
    {
        return fmt::format("{} ({})", sys::errno_name(rv), sd_bus_error_is_set(&e) ? e.message : "no reply");
    }
};

// The type of the job systemd runs now for the unit of process `pid` ("restart", "stop",
// ...); empty when there is none or no systemd answers, and `why` says why.
std::string systemd_job_of(pid_t pid, std::string& why)
{
    auto fail = [&why](std::string text) {
        why = std::move(text);
        return std::string();
    };
    sd_bus* raw = nullptr;
    if (int rv = sd_bus_open_system(&raw); rv < 0)
        return fail(fmt::format("the system bus: {}", sys::errno_name(rv)));
    std::unique_ptr<sd_bus, BusCloser> bus(raw);
    sd_bus_set_method_call_timeout(raw, 2'000'000);

    BusError e1;
    sd_bus_message* m = nullptr;
    int rv = sd_bus_call_method(raw, manager, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager",
                                "GetUnitByPID", &e1.e, &m, "u", static_cast<uint32_t>(pid));
    if (rv < 0)
        return fail("GetUnitByPID: " + e1.say(rv));
    Message unit_reply(m);
    const char* unit = nullptr;
    if ((rv = sd_bus_message_read(m, "o", &unit)) < 0)
        return fail(fmt::format("GetUnitByPID: {}", sys::errno_name(rv)));

    BusError e2;
    m = nullptr;
    rv = sd_bus_get_property(raw, manager, unit, "org.freedesktop.systemd1.Unit", "Job", &e2.e, &m, "(uo)");
    if (rv < 0)
        return fail(fmt::format("{} Job: {}", unit, e2.say(rv)));
    Message job_reply(m);
    uint32_t id = 0;
    const char* job = nullptr;
    if ((rv = sd_bus_message_read(m, "(uo)", &id, &job)) < 0)
        return fail(fmt::format("{} Job: {}", unit, sys::errno_name(rv)));
    if (id == 0)
        return fail(fmt::format("{} runs no job", unit));

    BusError e3;
    char* type = nullptr;
    rv = sd_bus_get_property_string(raw, manager, job, "org.freedesktop.systemd1.Job", "JobType", &e3.e, &type);
    if (rv < 0)
        return fail(fmt::format("{} JobType: {}", job, e3.say(rv)));
    std::string out(type);
    free(type);
    return out;
}

} // namespace

bool systemd_restarts_unit_of(pid_t pid)
{
    std::string why;
    std::string type = systemd_job_of(pid, why);
    if (type.empty()) {
        spdlog::info("SIGTERM: no restart ({})", why);
        return false;
    }
    // try-restart of a running unit is a restart; reload-or-restart of one that reloads
    // (ExecReload=) is a reload, which sends no SIGTERM.
    return type == "restart" || type == "try-restart";
}

} // namespace procfsd
