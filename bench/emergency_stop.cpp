// SPDX-License-Identifier: GPL-2.0-or-later
#include "emergency_stop.hpp"

#include "uring_switch.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <iterator>

namespace procfsd::bench {

namespace {

pid_t g_sleeper_pids[max_sleepers];
std::atomic<size_t> g_sleeper_count{0};
pid_t g_server_pids[32];
std::atomic<size_t> g_server_count{0};
char g_mount_paths[32][256];
std::atomic<size_t> g_mount_count{0};
std::atomic<char> g_uring_saved{0}; // the kernel's enable_uring before the bench, 0: untouched

void stop_everything(int sig)
{
    size_t nd = g_server_count.load();
    for (size_t i = 0; i < nd; ++i)
        if (g_server_pids[i] > 0)
            ::kill(g_server_pids[i], SIGTERM);
    size_t ns = g_sleeper_count.load();
    for (size_t i = 0; i < ns; ++i)
        if (g_sleeper_pids[i] > 0)
            ::kill(g_sleeper_pids[i], SIGKILL);
    size_t nm = g_mount_count.load();
    for (size_t i = 0; i < nm; ++i)
        if (g_mount_paths[i][0])
            ::umount2(g_mount_paths[i], MNT_DETACH);
    if (char c = g_uring_saved.load()) {
        int fd = ::open(support::enable_uring_path, O_WRONLY | O_CLOEXEC);
        if (fd >= 0) {
            [[maybe_unused]] auto n = ::write(fd, &c, 1);
            ::close(fd);
        }
    }
    const char msg[] = "\nprocfsd-bench: interrupted; stopped what it started\n";
    [[maybe_unused]] auto w = ::write(2, msg, sizeof msg - 1);
    ::_exit(128 + sig);
}

} // namespace

void install_emergency_stop()
{
    struct sigaction sa {
    };
    sa.sa_handler = stop_everything;
    sigemptyset(&sa.sa_mask);
    for (int s : {SIGINT, SIGTERM, SIGHUP, SIGQUIT})
        ::sigaction(s, &sa, nullptr);
    ::signal(SIGPIPE, SIG_IGN);
}

void remember_sleeper(size_t slot, pid_t pid)
{
    if (slot < max_sleepers)
        g_sleeper_pids[slot] = pid;
}

void set_sleeper_count(size_t count)
{
    g_sleeper_count.store(count);
}

void remember_server(pid_t pid)
{
    size_t i = g_server_count.load();
    if (i < std::size(g_server_pids)) {
        g_server_pids[i] = pid;
        g_server_count.store(i + 1);
    }
}

void forget_server(pid_t pid)
{
    size_t n = g_server_count.load();
    for (size_t i = 0; i < n; ++i)
        if (g_server_pids[i] == pid)
            g_server_pids[i] = 0;
}

void remember_mount(const std::string& path)
{
    size_t i = g_mount_count.load();
    if (i < std::size(g_mount_paths)) {
        std::snprintf(g_mount_paths[i], sizeof g_mount_paths[i], "%s", path.c_str());
        g_mount_count.store(i + 1);
    }
}

} // namespace procfsd::bench

namespace procfsd::bench {

void remember_uring_param(char saved) { g_uring_saved = saved; }

} // namespace procfsd::bench
