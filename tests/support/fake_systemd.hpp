// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// Stand-ins for systemd in the restart tests, with no systemd running: its notify socket and
// fd store (FakeSystemd), and what it answers on D-Bus about a unit's job (FakeSystemdBus).

#include <systemd/sd-bus.h>
#include <sys/types.h>

#include <atomic>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

namespace procfsd::test {

// The notify socket a service sends READY=1, FDSTORE=1 and FDSTOREREMOVE=1 to: it keeps the
// descriptors stored, to hand them to the next instance as LISTEN_FDS.
class FakeSystemd {
public:
    FakeSystemd();
    ~FakeSystemd();
    FakeSystemd(const FakeSystemd&) = delete;
    FakeSystemd& operator=(const FakeSystemd&) = delete;

    [[nodiscard]] std::string address() const { return "@" + name_; }
    // Reads messages until one says `line` (READY=1), within 10 s, keeping the store current.
    bool wait_for(const std::string& line);
    // Reads the messages sent so far.
    void drain();
    // Starts argv as the service (with `env` added), the stored descriptors as LISTEN_FDS.
    pid_t start(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});

    [[nodiscard]] size_t stored() const { return store_.size(); }
    [[nodiscard]] const std::string& messages() const { return messages_; }

private:
    // One message, waiting up to `timeout_ms`: false when none came.
    bool receive(int timeout_ms, std::string& text);

    std::string name_;
    int sock_ = -1;
    std::vector<std::pair<std::string, int>> store_;
    std::string messages_;
};

// A private bus (a dbus-daemon of its own) on which this process owns org.freedesktop.systemd1
// and answers GetUnitByPID, the unit's Job and the job's JobType, as systemd does while it runs
// `systemctl restart` (JobType "restart") or `systemctl stop` ("stop") for the unit.
class FakeSystemdBus {
public:
    explicit FakeSystemdBus(const std::string& dir);
    ~FakeSystemdBus();
    FakeSystemdBus(const FakeSystemdBus&) = delete;
    FakeSystemdBus& operator=(const FakeSystemdBus&) = delete;

    // False when the bus could not be started (no dbus-daemon).
    [[nodiscard]] bool ok() const { return bus_ != nullptr; }
    // DBUS_SYSTEM_BUS_ADDRESS for the service.
    [[nodiscard]] const std::string& address() const { return address_; }
    // The job the unit runs now ("" for none).
    void set_job(std::string type);
    // The pid GetUnitByPID was last asked about (0: never).
    [[nodiscard]] pid_t asked_about() const { return asked_.load(); }

private:
    static int get_unit_by_pid(sd_bus_message* m, void* self, sd_bus_error* error);
    static int unit_job(sd_bus* bus, const char* path, const char* interface, const char* property,
                        sd_bus_message* reply, void* self, sd_bus_error* error);
    static int job_type(sd_bus* bus, const char* path, const char* interface, const char* property,
                        sd_bus_message* reply, void* self, sd_bus_error* error);
    void serve();

    pid_t daemon_ = -1;
    std::string address_;
    sd_bus* bus_ = nullptr;
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<pid_t> asked_{0};
    mutable std::mutex mu_; // guards job_
    std::string job_;
};

} // namespace procfsd::test
