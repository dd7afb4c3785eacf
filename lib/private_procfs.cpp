// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/private_procfs.hpp"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/mount.h>

#include <string>

namespace procfsd {

sys::Result<UniqueFd> open_private_procfs(const MountOptions& options, int pidns)
{
    UniqueFd context(::fsopen("proc", FSOPEN_CLOEXEC));
    if (!context)
        return {UniqueFd{}, -errno};
    auto set = [&](const char* key, const std::string& value) {
        if (::fsconfig(context.get(), FSCONFIG_SET_STRING, key, value.c_str(), 0) != 0) {
            int err = -errno;
            spdlog::error("procfs option {}={}: {}", key, value, sys::errno_name(err));
            return err;
        }
        return 0;
    };
    // Numbers rather than names, which kernels before 5.8's 1c6c4d112e81 did not know.
    if (int err = set("hidepid", fmt::format("{}", static_cast<int>(options.hidepid))))
        return {UniqueFd{}, err};
    if (options.gid)
        if (int err = set("gid", fmt::format("{}", *options.gid)))
            return {UniqueFd{}, err};
    if (options.subset_pid)
        if (int err = set("subset", "pid"))
            return {UniqueFd{}, err};
    if (pidns >= 0 && ::fsconfig(context.get(), FSCONFIG_SET_FD, "pidns", nullptr, pidns) != 0) {
        int err = -errno;
        spdlog::error("procfs option pidns: {}{}", sys::errno_name(err),
                      err == -EINVAL ? " (this kernel's procfs may predate pidns=, Linux 6.18)"
                      : err == -EPERM ? " (the daemon lacks CAP_SYS_ADMIN over the namespace's owner)"
                                      : "");
        return {UniqueFd{}, err};
    }
    if (::fsconfig(context.get(), FSCONFIG_CMD_CREATE, nullptr, nullptr, 0) != 0)
        return {UniqueFd{}, -errno};
    int mnt = ::fsmount(context.get(), FSMOUNT_CLOEXEC,
                        MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC);
    if (mnt < 0)
        return {UniqueFd{}, -errno};
    return {UniqueFd{mnt}, 0};
}

} // namespace procfsd
