// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/transport.hpp"

#include <fuse_log.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <fstream>
#include <mutex>

#include "procfsd/mount.hpp"

namespace procfsd {

namespace {

// The kernel's switch for FUSE over io_uring (fs/fuse/dev_uring.c); read at INIT, so a
// connection keeps its transport when the switch changes later.
constexpr const char* enable_uring_path = "/sys/module/fuse/parameters/enable_uring";

// Set by the init handler on the thread that answers a mount's INIT, which is where libfuse
// starts the ring and reports its failure (fuse_lowlevel.c, do_init): each request loop
// thread serves one session, so the pointer never names another mount.
thread_local Mount* initializing = nullptr;

void libfuse_log(enum fuse_log_level level, const char* fmt, va_list ap)
{
    char buf[1024];
    int n = std::vsnprintf(buf, sizeof buf, fmt, ap);
    if (n < 0)
        return;
    std::string_view text(buf, std::min<size_t>(static_cast<size_t>(n), sizeof buf - 1));
    while (!text.empty() && text.back() == '\n')
        text.remove_suffix(1);
    if (text.find("failed to start io-uring") != std::string_view::npos && initializing) {
        initializing->uring_failed(std::string(text));
        return; // the mount logs it, with its path
    }
    auto lvl = level <= FUSE_LOG_ERR       ? spdlog::level::err
               : level == FUSE_LOG_WARNING ? spdlog::level::warn
               : level == FUSE_LOG_DEBUG   ? spdlog::level::debug
                                           : spdlog::level::info;
    spdlog::log(lvl, "libfuse: {}", text);
}

} // namespace

std::string_view transport_name(Transport t) noexcept
{
    return t == Transport::io_uring ? "io_uring" : "dev_fuse";
}

UringSupport uring_support()
{
    UringSupport s;
#ifdef PROCFSD_FUSE_URING
    s.built = true;
#endif
    std::ifstream f(enable_uring_path);
    char c = 0;
    s.kernel = f.get(c) && (c == 'Y' || c == '1');
    return s;
}

TransportPlan plan_transport(MountOptions::IoUring wanted, UringSupport support)
{
    using R = MountOptions::IoUring;
    if (wanted == R::off)
        return {};
    if (wanted == R::automatic)
        return {support.built && support.kernel, 0, {}};
    if (!support.built)
        return {false, EOPNOTSUPP,
                "io_uring=on: this procfsd is built with the system's libfuse, which has no "
                "io_uring (the default build uses libfuse 3.18)"};
    if (!support.kernel)
        return {false, EOPNOTSUPP,
                fmt::format("io_uring=on: the kernel does not offer FUSE over io_uring ({} is not "
                            "Y; an administrator enables it there or with `options fuse "
                            "enable_uring=1` in /etc/modprobe.d)",
                            enable_uring_path)};
    return {true, 0, {}};
}

void route_libfuse_log()
{
    static std::once_flag once;
    std::call_once(once, [] { fuse_set_log_func(libfuse_log); });
}

void uring_init_begins(Mount* mount) noexcept { initializing = mount; }

} // namespace procfsd
