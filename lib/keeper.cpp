// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/keeper.hpp"

#include <fcntl.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <sys/syscall.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string_view>
#include <vector>

#include "procfsd/service_job.hpp"
#include "procfsd/sys.hpp"
#include "procfsd/unique_fd.hpp"

extern char** environ;

#ifndef PIDFD_THREAD
#define PIDFD_THREAD O_EXCL // Linux 6.9: a pidfd for one thread, readable when that thread ends
#endif

namespace procfsd {

namespace {

// As systemd's FileDescriptorStoreMax= in the unit: a server that keeps more is refused.
constexpr size_t max_kept = 4096;
// A server that dies this many times in a row before it is ready is not started again.
constexpr int max_failed_starts = 5;

struct Kept {
    std::string name;
    UniqueFd fd;
};

std::string describe_status(int status)
{
    if (WIFEXITED(status))
        return fmt::format("exit status {}", WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return fmt::format("killed by {}", sigabbrev_np(WTERMSIG(status)) ? sigabbrev_np(WTERMSIG(status)) : "a signal");
    return "ended";
}

class Keeper {
public:
    explicit Keeper(const KeeperOptions& o) : options_(o), ready_pipe_(o.ready_pipe) {}

    int run();

private:
    bool setup();
    pid_t spawn(int exe, const std::string& upgrade_failed);
    void receive();
    void on_message(std::string_view text, std::vector<UniqueFd> fds);
    // The server ended: start the next one, or return its exit status to end the keeper.
    std::optional<int> on_server_exit(int status);
    void report_ready(int status);
    void drop(const std::string& name);
    void forget_closed(int fd);
    void keep(std::string name, UniqueFd fd, bool poll);
    // Under systemd: removes `name` from the unit's store too.
    void unstore(const std::string& name);
    // Under systemd: the descriptors its store handed over (a restart), kept from the start.
    void adopt_inherited();
    // SIGTERM: a restart of the unit leaves the mounts to the next start, else the server stops.
    void on_terminate();

    KeeperOptions options_;
    int ready_pipe_;
    UniqueFd sock_, signals_, epoll_;
    UniqueFd exe_;      // the binary serving now
    UniqueFd fallback_; // during an upgrade: the binary that served before
    std::string exe_name_ = "procfsd";
    std::string socket_name_;
    std::vector<Kept> kept_;
    pid_t server_ = -1;
    // A thread of the server's that does nothing (PROCFSD_SENTINEL=<tid>), on a PIDFD_THREAD
    // pidfd: readable once it ended. A killed server with a thread stuck in the kernel on one
    // of its own mounts (an invalidation waits for a directory lock that a lookup holds, and
    // the lookup waits for a server) is reaped only after the next server answered that lookup:
    // the next one starts when the sentinel ends, not at SIGCHLD. (A thread-group leader's
    // pidfd is not readable while another thread lives.)
    UniqueFd leader_;
    std::optional<std::chrono::steady_clock::time_point> sentinel_ended_; // waiting for the reap since
    static constexpr std::chrono::milliseconds reap_grace{500};
    bool ready_ = false;    // the server now running said READY=1
    bool ever_ready_ = false; // some server did: there are mounts to keep serving
    bool stopping_ = false; // ... and STOPPING=1
    std::string handover_;  // ... asked to be replaced by this binary
    // Under systemd (NOTIFY_SOCKET): every kept descriptor is also in the unit's fd store
    // (FileDescriptorStoreMax=), which outlives this process across `systemctl restart` and a
    // crash of the keeper itself; the next keeper starts with them (LISTEN_FDS).
    bool mirrored_ = false;
    bool restarting_ = false; // the server was asked to end for a restart of the unit
    int failed_starts_ = 0;
    uint64_t incarnation_ = 0;
};

bool Keeper::setup()
{
    exe_.reset(::open("/proc/self/exe", O_RDONLY | O_CLOEXEC));
    sock_.reset(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
    epoll_.reset(::epoll_create1(EPOLL_CLOEXEC));
    sigset_t mask;
    sigemptyset(&mask);
    for (int s : {SIGCHLD, SIGTERM, SIGINT, SIGHUP, SIGUSR1})
        sigaddset(&mask, s);
    ::sigprocmask(SIG_BLOCK, &mask, nullptr);
    signals_.reset(::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK));
    if (!exe_ || !sock_ || !epoll_ || !signals_) {
        spdlog::critical("keeper: {}", sys::errno_name(errno));
        return false;
    }
    // An abstract name: nothing on disk to clean up. Only the server's own messages count
    // (SO_PASSCRED gives the sender's pid with each), as NotifyAccess=main does.
    socket_name_ = fmt::format("procfsd/keeper/{}", ::getpid());
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::memcpy(addr.sun_path + 1, socket_name_.data(), socket_name_.size());
    int one = 1;
    ::setsockopt(sock_.get(), SOL_SOCKET, SO_PASSCRED, &one, sizeof one);
    if (::bind(sock_.get(), reinterpret_cast<sockaddr*>(&addr),
               static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + socket_name_.size())) != 0) {
        spdlog::critical("keeper: bind @{}: {}", socket_name_, sys::errno_name(errno));
        return false;
    }
    for (int fd : {sock_.get(), signals_.get()}) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.fd = fd;
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev);
    }
    mirrored_ = std::getenv("NOTIFY_SOCKET") != nullptr;
    adopt_inherited();
    return true;
}

void Keeper::adopt_inherited()
{
    char** names = nullptr;
    int n = sd_listen_fds_with_names(1, &names); // taken out of the environment: the server gets its own
    if (n <= 0)
        return;
    for (int i = 0; i < n; ++i) {
        std::string name = names && names[i] ? names[i] : "stored";
        keep(std::move(name), UniqueFd(SD_LISTEN_FDS_START + i), true);
    }
    if (names) {
        for (int i = 0; names[i]; ++i)
            free(names[i]);
        free(names);
    }
    spdlog::info("keeper: {} descriptors from the service manager's store", n);
}

void Keeper::keep(std::string name, UniqueFd fd, bool poll)
{
    if (poll) {
        // Events 0: EPOLLERR and EPOLLHUP only, as a FUSE descriptor reports its end. (A file
        // that epoll refuses, a memfd, has no end to report.)
        epoll_event ev{};
        ev.data.fd = fd.get();
        ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd.get(), &ev);
    }
    kept_.push_back({std::move(name), std::move(fd)});
}

void Keeper::on_terminate()
{
    if (mirrored_ && server_ > 0 && ever_ready_ && systemd_restarts_unit_of(::getpid())) {
        spdlog::info("keeper: systemd restarts the unit: the mounts stay in its store for the next start");
        restarting_ = true;
        ::kill(server_, SIGUSR2);
        return;
    }
    if (server_ > 0)
        ::kill(server_, SIGTERM);
}

pid_t Keeper::spawn(int exe, const std::string& upgrade_failed)
{
    ++incarnation_;
    pid_t keeper = ::getpid();
    pid_t pid = ::fork();
    if (pid > 0)
        leader_.reset(); // until the new server names its sentinel
    if (pid != 0)
        return pid;
    // The child: the kept descriptors at 3, 4, ... as systemd hands them over.
    sigset_t none;
    sigemptyset(&none);
    ::sigprocmask(SIG_SETMASK, &none, nullptr);
    // A keeper killed on purpose takes its server along. The mounts end with it, unless the
    // unit's fd store under systemd holds them too (mirrored_) for the next start.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != keeper)
        ::_exit(1);
    int n = static_cast<int>(kept_.size());
    exe = ::fcntl(exe, F_DUPFD_CLOEXEC, 3 + n); // out of the way of 3, 4, ...
    std::vector<int> moved;
    for (auto& k : kept_)
        moved.push_back(::fcntl(k.fd.get(), F_DUPFD_CLOEXEC, 3 + n));
    std::string names;
    for (int i = 0; i < n; ++i) {
        ::dup2(moved[static_cast<size_t>(i)], 3 + i); // without FD_CLOEXEC
        names += (i ? ":" : "") + kept_[static_cast<size_t>(i)].name;
    }
    if (n > 0) {
        ::setenv("LISTEN_FDS", std::to_string(n).c_str(), 1);
        ::setenv("LISTEN_PID", std::to_string(::getpid()).c_str(), 1);
        ::setenv("LISTEN_FDNAMES", names.c_str(), 1);
    } else {
        ::unsetenv("LISTEN_FDS");
        ::unsetenv("LISTEN_PID");
        ::unsetenv("LISTEN_FDNAMES");
    }
    ::setenv("NOTIFY_SOCKET", ("@" + socket_name_).c_str(), 1);
    ::setenv(keeper_pid_env, std::to_string(keeper).c_str(), 1);
    ::setenv("PROCFSD_INCARNATION", std::to_string(incarnation_).c_str(), 1);
    if (!upgrade_failed.empty())
        ::setenv(upgrade_failed_env, upgrade_failed.c_str(), 1);
    else
        ::unsetenv(upgrade_failed_env);
    std::vector<char*> argv;
    for (auto& a : options_.argv)
        argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    ::fexecve(exe, argv.data(), environ);
    ::_exit(127);
}

void Keeper::unstore(const std::string& name)
{
    if (mirrored_)
        sd_notify(0, ("FDSTOREREMOVE=1\nFDNAME=" + name).c_str());
}

void Keeper::drop(const std::string& name)
{
    unstore(name);
    for (auto it = kept_.begin(); it != kept_.end();) {
        if (it->name == name) {
            ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, it->fd.get(), nullptr);
            it = kept_.erase(it);
        } else {
            ++it;
        }
    }
}

void Keeper::forget_closed(int fd)
{
    for (auto it = kept_.begin(); it != kept_.end(); ++it) {
        if (it->fd.get() == fd) {
            spdlog::debug("keeper: {} ended: dropped", it->name);
            unstore(it->name);
            ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
            kept_.erase(it);
            return;
        }
    }
}

void Keeper::on_message(std::string_view text, std::vector<UniqueFd> fds)
{
    bool store = false, remove = false, poll = true;
    std::string name;
    for (size_t pos = 0; pos < text.size();) {
        size_t end = text.find('\n', pos);
        std::string_view line = text.substr(pos, end == std::string_view::npos ? std::string_view::npos : end - pos);
        pos = end == std::string_view::npos ? text.size() : end + 1;
        // A service manager above the keeper hears of the server's state as from the keeper
        // (NotifyAccess=main: the keeper is the service's main process).
        if (line == "READY=1" || line == "STOPPING=1" || line == "RELOADING=1" || line.rfind("STATUS=", 0) == 0)
            sd_notify(0, std::string(line).c_str());
        if (line == "READY=1") {
            ready_ = true;
            ever_ready_ = true;
            failed_starts_ = 0;
            fallback_.reset();
            report_ready(0);
        } else if (line == "STOPPING=1") {
            stopping_ = true;
        } else if (line == "FDSTORE=1") {
            store = true;
        } else if (line == "FDSTOREREMOVE=1") {
            remove = true;
        } else if (line == "FDPOLL=0") {
            poll = false;
        } else if (line.rfind("FDNAME=", 0) == 0) {
            name = std::string(line.substr(7));
        } else if (line.rfind("PROCFSD_SENTINEL=", 0) == 0) {
            pid_t tid = std::atoi(std::string(line.substr(17)).c_str());
            leader_.reset(static_cast<int>(::syscall(SYS_pidfd_open, tid, PIDFD_THREAD)));
            if (leader_) {
                epoll_event ev{};
                ev.events = EPOLLIN;
                ev.data.fd = leader_.get();
                ::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, leader_.get(), &ev);
            }
        } else if (line.rfind(handover_key, 0) == 0) {
            handover_ = std::string(line.substr(std::strlen(handover_key)));
        }
    }
    if (remove && !name.empty())
        drop(name);
    if (!store)
        return;
    if (name.empty())
        name = "stored";
    size_t room = max_kept - std::min(max_kept, kept_.size());
    if (fds.size() > room) {
        spdlog::error("keeper: already {} descriptors: {} not kept", kept_.size(), name);
        fds.resize(room);
    }
    if (mirrored_ && !fds.empty()) {
        std::vector<int> raw;
        for (auto& fd : fds)
            raw.push_back(fd.get());
        std::string msg = "FDSTORE=1\nFDNAME=" + name + (poll ? "" : "\nFDPOLL=0");
        if (int rv = sd_pid_notify_with_fds(0, 0, msg.c_str(), raw.data(), static_cast<unsigned>(raw.size())); rv <= 0)
            spdlog::warn("keeper: {} not in the service manager's store: {}", name,
                         rv < 0 ? std::string(sys::errno_name(rv)) : std::string("no NOTIFY_SOCKET"));
    }
    for (auto& fd : fds)
        keep(name, std::move(fd), poll);
}

void Keeper::receive()
{
    for (;;) {
        char buf[4096];
        alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * 64) + CMSG_SPACE(sizeof(ucred))];
        iovec iov{buf, sizeof buf - 1};
        msghdr msg{};
        msg.msg_iov = &iov;
        msg.msg_iovlen = 1;
        msg.msg_control = control;
        msg.msg_controllen = sizeof control;
        ssize_t n = ::recvmsg(sock_.get(), &msg, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
        if (n < 0)
            return;
        std::vector<UniqueFd> fds;
        pid_t sender = -1;
        for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                auto* p = reinterpret_cast<int*>(CMSG_DATA(c));
                for (size_t i = 0; i < count; ++i)
                    fds.emplace_back(p[i]);
            } else if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS) {
                ucred cred{};
                std::memcpy(&cred, CMSG_DATA(c), sizeof cred);
                sender = cred.pid;
            }
        }
        if (sender != server_ || (msg.msg_flags & (MSG_TRUNC | MSG_CTRUNC)))
            continue; // not the server's, or cut short: its descriptors close here
        on_message(std::string_view(buf, static_cast<size_t>(n)), std::move(fds));
    }
}

void Keeper::report_ready(int status)
{
    if (ready_pipe_ < 0)
        return;
    unsigned char b = static_cast<unsigned char>(status);
    [[maybe_unused]] auto w = ::write(ready_pipe_, &b, 1);
    ::close(ready_pipe_);
    ready_pipe_ = -1;
    if (status == 0 && options_.on_ready)
        options_.on_ready();
}

std::optional<int> Keeper::on_server_exit(int status)
{
    bool was_ready = ready_;
    pid_t ended = std::exchange(server_, -1);
    ready_ = false;
    std::string why = describe_status(status);
    if (!handover_.empty()) {
        std::string path = std::exchange(handover_, {});
        UniqueFd next(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
        if (next) {
            spdlog::info("keeper: upgrade: starting {}", path);
            fallback_ = std::move(exe_);
            exe_ = std::move(next);
            exe_name_ = path;
            server_ = spawn(exe_.get(), {});
            return std::nullopt;
        }
        spdlog::error("keeper: upgrade to {}: {}: starting the previous binary again", path, sys::errno_name(errno));
        server_ = spawn(exe_.get(), fmt::format("{}: {}", path, sys::errno_name(errno)));
        return std::nullopt;
    }
    if (!was_ready && fallback_) {
        // The new binary failed to start: the one before it serves again.
        spdlog::error("keeper: {} failed to start ({}): starting the previous binary again", exe_name_, why);
        exe_ = std::move(fallback_);
        server_ = spawn(exe_.get(), fmt::format("{}: {} before it was ready", exe_name_, why));
        exe_name_ = "procfsd";
        return std::nullopt;
    }
    if (stopping_ || restarting_ || (WIFEXITED(status) && WEXITSTATUS(status) == 0)) {
        int rv = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
        report_ready(rv);
        return rv;
    }
    if (!was_ready && (!ever_ready_ || ++failed_starts_ >= max_failed_starts)) {
        // It cannot start: a configuration error, or a server that dies at every start.
        int rv = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
        spdlog::critical("keeper: the server {} before it was ready: giving up", why);
        report_ready(rv ? rv : 1);
        return rv ? rv : 1;
    }
    spdlog::warn("keeper: the server (pid {}) {}: starting it again with {} descriptors", ended, why, kept_.size());
    server_ = spawn(exe_.get(), {});
    return std::nullopt;
}

int Keeper::run()
{
    if (!setup())
        return 1;
    server_ = spawn(exe_.get(), {});
    if (server_ < 0) {
        spdlog::critical("keeper: fork: {}", sys::errno_name(errno));
        return 1;
    }
    for (;;) {
        epoll_event evs[16];
        int timeout = -1;
        if (sentinel_ended_) {
            auto left = *sentinel_ended_ + reap_grace - std::chrono::steady_clock::now();
            timeout = static_cast<int>(std::max<long>(0, std::chrono::duration_cast<std::chrono::milliseconds>(left).count()));
        }
        int n = ::epoll_wait(epoll_.get(), evs, 16, timeout);
        if (n < 0 && errno != EINTR)
            return 1;
        if (n == 0 && sentinel_ended_) {
            // Not reaped: a thread is held in the kernel by a mount; the next server frees it.
            sentinel_ended_.reset();
            spdlog::warn("keeper: the server (pid {}) is not reaped {} ms after it ended: starting the next one",
                         server_, reap_grace.count());
            if (auto rv = on_server_exit(handover_.empty() ? SIGKILL : 0)) // as waitpid would report it
                return *rv;
            stopping_ = false;
            continue;
        }
        for (int i = 0; i < n; ++i) {
            int fd = evs[i].data.fd;
            if (fd == sock_.get()) {
                receive();
                continue;
            }
            if (leader_ && fd == leader_.get()) {
                receive();
                ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
                leader_.reset();
                // A server that stops, or the first one failing to start, is waited for: its
                // status counts.
                if (stopping_ || restarting_ || (!ever_ready_ && handover_.empty()))
                    continue;
                // Its other threads end within moments, unless one is stuck: wait for the reap a
                // little, so that no thread of it still writes a reply while the next one starts.
                sentinel_ended_ = std::chrono::steady_clock::now();
                continue;
            }
            if (fd != signals_.get()) {
                forget_closed(fd);
                continue;
            }
            signalfd_siginfo si{};
            while (::read(signals_.get(), &si, sizeof si) == sizeof si) {
                if (si.ssi_signo == SIGTERM) {
                    on_terminate();
                    continue;
                }
                if (si.ssi_signo != SIGCHLD) {
                    // Stop, reload, report: the server's to do.
                    if (server_ > 0)
                        ::kill(server_, static_cast<int>(si.ssi_signo));
                    continue;
                }
                int status = 0;
                pid_t pid;
                while ((pid = ::waitpid(-1, &status, WNOHANG)) > 0) {
                    if (pid != server_)
                        continue; // one replaced before it could be reaped
                    if (leader_)
                        ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, leader_.get(), nullptr);
                    leader_.reset();
                    sentinel_ended_.reset();
                    receive(); // what it sent before it ended counts
                    if (auto rv = on_server_exit(status))
                        return *rv;
                    stopping_ = false;
                }
            }
        }
    }
}

} // namespace

int run_keeper(const KeeperOptions& options) { return Keeper(options).run(); }

} // namespace procfsd
