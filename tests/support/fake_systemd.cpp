// SPDX-License-Identifier: GPL-2.0-or-later
#include "fake_systemd.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstddef>
#include <cstdlib>
#include <cstring>
#include <stdexcept>

namespace procfsd::test {

namespace {

// The value of `key=` in a notification, or "".
std::string field(const std::string& text, const std::string& key)
{
    for (size_t pos = 0; pos < text.size();) {
        size_t end = text.find('\n', pos);
        if (end == std::string::npos)
            end = text.size();
        if (text.compare(pos, key.size() + 1, key + "=") == 0)
            return text.substr(pos + key.size() + 1, end - pos - key.size() - 1);
        pos = end + 1;
    }
    return {};
}

constexpr const char* unit_path = "/org/freedesktop/systemd1/unit/procfsd_2eservice";
constexpr const char* job_path = "/org/freedesktop/systemd1/job/7";

} // namespace

FakeSystemd::FakeSystemd()
{
    name_ = "procfsd-test-systemd-" + std::to_string(::getpid());
    sock_ = ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    std::memcpy(a.sun_path + 1, name_.data(), name_.size());
    if (::bind(sock_, reinterpret_cast<sockaddr*>(&a),
               static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name_.size())) != 0)
        throw std::runtime_error("bind @" + name_ + ": " + std::strerror(errno));
}

FakeSystemd::~FakeSystemd()
{
    for (auto& [n, fd] : store_)
        ::close(fd);
    ::close(sock_);
}

bool FakeSystemd::receive(int timeout_ms, std::string& text)
{
    pollfd p{sock_, POLLIN, 0};
    if (::poll(&p, 1, timeout_ms) != 1)
        return false;
    char buf[4096];
    alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 64)];
    iovec iov{buf, sizeof buf};
    msghdr msg{};
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = ::recvmsg(sock_, &msg, MSG_CMSG_CLOEXEC);
    if (n < 0)
        return false;
    text.assign(buf, static_cast<size_t>(n));
    std::vector<int> fds;
    for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
        if (c->cmsg_type == SCM_RIGHTS)
            for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); ++i)
                fds.push_back(reinterpret_cast<int*>(CMSG_DATA(c))[i]);
    std::string name = field(text, "FDNAME");
    if (field(text, "FDSTORE") == "1") {
        for (int fd : fds)
            store_.emplace_back(name, fd);
        fds.clear();
    } else if (field(text, "FDSTOREREMOVE") == "1") {
        std::erase_if(store_, [&](auto& e) {
            if (e.first != name)
                return false;
            ::close(e.second);
            return true;
        });
    }
    for (int fd : fds)
        ::close(fd);
    messages_ += text + "\n";
    return true;
}

bool FakeSystemd::wait_for(const std::string& line)
{
    std::string text;
    while (receive(10000, text))
        if (text.find(line) != std::string::npos)
            return true;
    return false;
}

void FakeSystemd::drain()
{
    std::string text;
    while (receive(0, text)) {
    }
}

pid_t FakeSystemd::start(const std::vector<std::string>& argv, const std::vector<std::string>& env)
{
    pid_t pid = ::fork();
    if (pid == 0) {
        std::string names;
        int n = static_cast<int>(store_.size());
        std::vector<int> moved;
        for (auto& [name, fd] : store_) {
            moved.push_back(::fcntl(fd, F_DUPFD_CLOEXEC, 3 + n));
            names += (names.empty() ? "" : ":") + name;
        }
        for (int i = 0; i < n; ++i)
            ::dup2(moved[static_cast<size_t>(i)], 3 + i);
        if (n) {
            ::setenv("LISTEN_FDS", std::to_string(n).c_str(), 1);
            ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
            ::setenv("LISTEN_FDNAMES", names.c_str(), 1);
        }
        ::setenv("NOTIFY_SOCKET", address().c_str(), 1);
        for (auto& e : env)
            ::putenv(const_cast<char*>(e.c_str()));
        std::vector<char*> args;
        for (auto& a : argv)
            args.push_back(const_cast<char*>(a.c_str()));
        args.push_back(nullptr);
        ::execv(args[0], args.data());
        ::_exit(127);
    }
    return pid;
}

FakeSystemdBus::FakeSystemdBus(const std::string& dir)
{
    std::string socket = dir + "/system_bus_socket";
    address_ = "unix:path=" + socket;
    daemon_ = ::fork();
    if (daemon_ == 0) {
        int null = ::open("/dev/null", O_RDWR); // it warns that it cannot raise its fd limit
        ::dup2(null, 1);
        ::dup2(null, 2);
        ::execl("/usr/bin/dbus-daemon", "dbus-daemon", "--session", "--nofork", "--nopidfile", "--nosyslog",
                ("--address=" + address_).c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
    }
    if (daemon_ < 0)
        return;
    // Listening once its socket exists.
    struct stat st{};
    auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (::stat(socket.c_str(), &st) != 0) {
        if (std::chrono::steady_clock::now() > give_up || ::waitpid(daemon_, nullptr, WNOHANG) == daemon_) {
            daemon_ = -1;
            return;
        }
        ::usleep(2000);
    }
    static const sd_bus_vtable manager[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_METHOD("GetUnitByPID", "u", "o", get_unit_by_pid, SD_BUS_VTABLE_UNPRIVILEGED),
        SD_BUS_VTABLE_END,
    };
    static const sd_bus_vtable unit[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("Job", "(uo)", unit_job, 0, 0),
        SD_BUS_VTABLE_END,
    };
    static const sd_bus_vtable job[] = {
        SD_BUS_VTABLE_START(0),
        SD_BUS_PROPERTY("JobType", "s", job_type, 0, 0),
        SD_BUS_VTABLE_END,
    };
    sd_bus* b = nullptr;
    if (sd_bus_new(&b) < 0)
        return;
    if (sd_bus_set_address(b, address_.c_str()) < 0 || sd_bus_set_bus_client(b, 1) < 0 || sd_bus_start(b) < 0 ||
        sd_bus_request_name(b, "org.freedesktop.systemd1", 0) < 0 ||
        sd_bus_add_object_vtable(b, nullptr, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager", manager,
                                 this) < 0 ||
        sd_bus_add_object_vtable(b, nullptr, unit_path, "org.freedesktop.systemd1.Unit", unit, this) < 0 ||
        sd_bus_add_object_vtable(b, nullptr, job_path, "org.freedesktop.systemd1.Job", job, this) < 0) {
        sd_bus_flush_close_unref(b);
        return;
    }
    bus_ = b;
    thread_ = std::thread([this] { serve(); });
}

FakeSystemdBus::~FakeSystemdBus()
{
    stop_ = true;
    if (thread_.joinable())
        thread_.join();
    if (bus_)
        sd_bus_flush_close_unref(bus_);
    if (daemon_ > 0) {
        ::kill(daemon_, SIGTERM);
        ::waitpid(daemon_, nullptr, 0);
    }
}

void FakeSystemdBus::set_job(std::string type)
{
    std::lock_guard lock(mu_);
    job_ = std::move(type);
}

void FakeSystemdBus::serve()
{
    while (!stop_) {
        int rv = sd_bus_process(bus_, nullptr);
        if (rv > 0)
            continue;
        if (rv < 0)
            return;
        sd_bus_wait(bus_, 100'000); // wakes to see stop_
    }
}

int FakeSystemdBus::get_unit_by_pid(sd_bus_message* m, void* self, sd_bus_error*)
{
    uint32_t pid = 0;
    if (int rv = sd_bus_message_read(m, "u", &pid); rv < 0)
        return rv;
    static_cast<FakeSystemdBus*>(self)->asked_ = static_cast<pid_t>(pid);
    return sd_bus_reply_method_return(m, "o", unit_path);
}

int FakeSystemdBus::unit_job(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* self,
                             sd_bus_error*)
{
    auto* me = static_cast<FakeSystemdBus*>(self);
    std::lock_guard lock(me->mu_);
    bool has = !me->job_.empty();
    return sd_bus_message_append(reply, "(uo)", has ? 7u : 0u, has ? job_path : "/");
}

int FakeSystemdBus::job_type(sd_bus*, const char*, const char*, const char*, sd_bus_message* reply, void* self,
                             sd_bus_error*)
{
    auto* me = static_cast<FakeSystemdBus*>(self);
    std::lock_guard lock(me->mu_);
    return sd_bus_message_append(reply, "s", me->job_.c_str());
}

} // namespace procfsd::test
