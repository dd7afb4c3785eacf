// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/control_server.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <thread>

#include "procfsd/mountinfo.hpp"
#include "procfsd/paths.hpp"
#include "procfsd/sys.hpp"

namespace procfsd {

namespace {

// What the daemon answers a peer that is not root.
constexpr const char* denied_status = "error: permission denied (root only)";

socklen_t abstract_address(const std::string& name, sockaddr_un& addr)
{
    std::memset(&addr, 0, sizeof addr);
    addr.sun_family = AF_UNIX;
    // sun_path[0] == '\0': an abstract name, gone with the daemon, no file to clean up.
    std::memcpy(addr.sun_path + 1, name.data(), std::min(name.size(), sizeof addr.sun_path - 2));
    return static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name.size());
}

} // namespace

std::string ControlServer::socket_name(dev_t device)
{
    return fmt::format("procfsd/dev/{}:{}", major(device), minor(device));
}

ControlServer::ControlServer(Handler handler, std::function<void()> after_answer)
    : handler_(std::move(handler)), after_answer_(std::move(after_answer))
{
    spare_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
    epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
    struct epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = worker_.wakeup_fd();
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, worker_.wakeup_fd(), &ev);
}

ControlServer::~ControlServer() { stop(); }

void ControlServer::start()
{
    worker_.start([this] { run(); });
}

void ControlServer::stop() { worker_.stop(); }

namespace {

// `inherited`: the same socket, listening already, as a previous server kept it (clients
// queue on it while no server runs).
UniqueFd bound_socket(const std::string& name, int epoll, int* error = nullptr, UniqueFd inherited = {})
{
    UniqueFd sock = std::move(inherited);
    if (!sock) {
        sock.reset(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
        sockaddr_un addr{};
        socklen_t len = abstract_address(name, addr);
        if (!sock || ::bind(sock.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0 ||
            ::listen(sock.get(), 16) != 0) {
            int err = errno;
            if (error)
                *error = err;
            else
                spdlog::warn("control socket @{}: {}", name, sys::errno_name(err));
            return {};
        }
    }
    struct epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = sock.get();
    ::epoll_ctl(epoll, EPOLL_CTL_ADD, sock.get(), &ev);
    return sock;
}

} // namespace

int ControlServer::listen(dev_t device, UniqueFd inherited)
{
    auto sock = bound_socket(socket_name(device), epoll_.get(), nullptr, std::move(inherited));
    std::lock_guard lock(mu_);
    if (!sock)
        return -1;
    int fd = sock.get();
    listeners_[device] = std::move(sock);
    return fd;
}

int ControlServer::listen_name(const std::string& name, UniqueFd inherited)
{
    int err = 0;
    auto sock = bound_socket(name, epoll_.get(), &err, std::move(inherited));
    if (!sock)
        return -err;
    std::lock_guard lock(mu_);
    int fd = sock.get();
    named_.push_back(std::move(sock));
    return fd;
}

void ControlServer::unlisten(dev_t device)
{
    std::lock_guard lock(mu_);
    auto it = listeners_.find(device);
    if (it == listeners_.end())
        return;
    ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->second.get(), nullptr);
    listeners_.erase(it);
}

void ControlServer::run()
{
    for (;;) {
        struct epoll_event ev{};
        int n = ::epoll_wait(epoll_.get(), &ev, 1, -1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || ev.data.fd == worker_.wakeup_fd())
            return; // stopping
        // Not under mu_: a command may mount or unmount, which (un)listens.
        serve_client(ev.data.fd);
    }
}

void ControlServer::serve_client(int listener)
{
    UniqueFd client(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
    if (!client && (errno == EMFILE || errno == ENFILE)) {
        // Out of descriptors: give up the spare one to take the connection off the queue and
        // refuse it, or the listener stays readable and the loop spins with the client waiting.
        spare_.reset();
        client.reset(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC));
        const char full[] = "error: the daemon is out of file descriptors\n";
        if (client)
            [[maybe_unused]] auto w = ::write(client.get(), full, sizeof full - 1);
        client.reset();
        spare_.reset(::open("/dev/null", O_RDONLY | O_CLOEXEC));
        return;
    }
    if (!client)
        return;
    struct ucred cred{};
    socklen_t len = sizeof cred;
    if (::getsockopt(client.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0 || cred.uid != 0) {
        std::string denied = std::string(denied_status) + "\n";
        [[maybe_unused]] auto w = ::send(client.get(), denied.data(), denied.size(), MSG_NOSIGNAL);
        return;
    }
    struct timeval tv{2, 0};
    ::setsockopt(client.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    std::string command;
    char c = 0;
    while (command.size() < 4096 && ::read(client.get(), &c, 1) == 1 && c != '\n')
        command += c;
    std::string answer = handler_(command);
    for (size_t off = 0; off < answer.size();) {
        ssize_t w = ::send(client.get(), answer.data() + off, answer.size() - off, MSG_NOSIGNAL);
        if (w <= 0)
            break;
        off += static_cast<size_t>(w);
    }
    client.reset(); // the client reads to EOF
    if (after_answer_)
        after_answer_();
}

std::optional<std::string> control_request(const std::string& socket, const std::string& command,
                                           int* error)
{
    UniqueFd sock(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
    sockaddr_un addr{};
    socklen_t len = abstract_address(socket, addr);
    if (::connect(sock.get(), reinterpret_cast<sockaddr*>(&addr), len) != 0) {
        if (error)
            *error = errno;
        return std::nullopt;
    }
    // A daemon that cannot answer must not hang its client.
    struct timeval tv{30, 0};
    ::setsockopt(sock.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    // MSG_NOSIGNAL: a daemon that refuses closes first, and its answer is still there to read.
    std::string line = command + "\n";
    [[maybe_unused]] auto sent = ::send(sock.get(), line.data(), line.size(), MSG_NOSIGNAL);
    std::string answer;
    char buf[4096];
    ssize_t n;
    while ((n = ::read(sock.get(), buf, sizeof buf)) > 0)
        answer.append(buf, static_cast<size_t>(n));
    return answer;
}

std::optional<pid_t> daemon_pid_at(const std::string& socket)
{
    auto answer = control_request(socket, "stats");
    auto pos = answer ? answer->find("\ndaemon_pid ") : std::string::npos;
    if (pos == std::string::npos)
        return std::nullopt;
    return static_cast<pid_t>(std::strtol(answer->c_str() + pos + 12, nullptr, 10));
}

int control_client(const std::string& mountpoint, const std::string& name, const std::string& command)
{
    std::string socket;
    if (!mountpoint.empty()) {
        // Found in mountinfo, not by a stat(): asking for counters must not add a request to
        // the counters it asks for.
        auto top = top_mount_at(absolute_path(mountpoint));
        struct stat st{};
        if (!top && ::stat(mountpoint.c_str(), &st) != 0) {
            std::fprintf(stderr, "procfsd: %s: %s\n", mountpoint.c_str(),
                         std::string(sys::errno_name(errno)).c_str());
            return 1;
        }
        if (!top || top->fstype != "fuse.procfsd") {
            std::fprintf(stderr, "procfsd: %s is not a procfsd mount%s\n", mountpoint.c_str(),
                         top ? (" (it is " + top->fstype + ")").c_str() : "");
            return 2;
        }
        socket = ControlServer::socket_name(top->device);
    } else {
        socket = "procfsd/ctl/" + name;
    }
    int err = 0;
    auto answer = control_request(socket, command, &err);
    if (!answer) {
        std::fprintf(stderr, "procfsd: no procfsd daemon answers on @%s (%s)\n", socket.c_str(),
                     std::string(sys::errno_name(err)).c_str());
        return 1;
    }
    auto eol = answer->find('\n');
    std::string status = answer->substr(0, eol);
    std::string body = eol == std::string::npos ? "" : answer->substr(eol + 1);
    if (status == "ok") {
        std::fwrite(body.data(), 1, body.size(), stdout);
        return 0;
    }
    if (status == denied_status) {
        std::fprintf(stderr, "procfsd: only root may use the control socket of a procfsd daemon\n");
        return 2;
    }
    std::fprintf(stderr, "procfsd: %s\n", status.empty() ? "the daemon closed without an answer" : status.c_str());
    std::fwrite(body.data(), 1, body.size(), stderr);
    return 1;
}

void clear_stale_mount(const std::string& mountpoint)
{
    struct stat st{};
    if (::stat(mountpoint.c_str(), &st) == 0 || errno != ENOTCONN)
        return;
    if (auto top = top_mount_at(mountpoint); top && top->fstype == "fuse.procfsd") {
        spdlog::info("{}: clearing a stale procfsd mount (ENOTCONN)", mountpoint);
        ::umount2(mountpoint.c_str(), MNT_DETACH);
    }
}

} // namespace procfsd

namespace procfsd {

int upgrade_client(const std::string& name, const std::string& binary)
{
    std::string socket = "procfsd/ctl/" + name;
    auto before = daemon_pid_at(socket);
    if (!before) {
        std::fprintf(stderr, "procfsd: no procfsd daemon answers on @%s\n", socket.c_str());
        return 1;
    }
    int err = 0;
    auto answer = control_request(socket, "upgrade\t" + binary, &err);
    if (!answer || answer->rfind("ok\n", 0) != 0) {
        std::fprintf(stderr, "procfsd: %s\n",
                     answer ? answer->substr(0, answer->find('\n')).c_str()
                            : ("no answer (" + std::string(sys::errno_name(err)) + ")").c_str());
        return 1;
    }
    // The next server answers once it serves: every mount resumed, INIT replayed. The keeper
    // starts it at once, or the previous binary when it fails.
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::optional<std::string> stats;
    pid_t now = 0;
    while (std::chrono::steady_clock::now() < deadline) {
        auto pid = daemon_pid_at(socket);
        if (pid && *pid != *before && (stats = control_request(socket, "stats\ttext"))) {
            now = *pid;
            break;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (!now) {
        std::fprintf(stderr, "procfsd: upgrade: no server answered within 30 s after pid %d handed over\n", *before);
        return 1;
    }
    auto failed = stats->find("\nupgrade_failed ");
    if (failed != std::string::npos) {
        auto end = stats->find('\n', failed + 1);
        std::fprintf(stderr, "procfsd: upgrade: %s did not start (%s): pid %d serves with the previous binary\n",
                     binary.c_str(), stats->substr(failed + 16, end - failed - 16).c_str(), now);
        return 1;
    }
    std::printf("upgraded: pid %d hands over to pid %d (%s)\n", *before, now, binary.c_str());
    return 0;
}

} // namespace procfsd
