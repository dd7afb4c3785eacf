// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/metrics.hpp"

#include <fmt/format.h>

namespace procfsd {

namespace {

// Upper bound in microseconds of reap-latency bucket i (Stats::record_reap_latency).
uint64_t bucket_bound_us(size_t i) { return uint64_t{1} << i; }

// A label value with OpenMetrics' escapes.
std::string label(const std::string& v)
{
    std::string out;
    for (char c : v) {
        if (c == '\\' || c == '"')
            out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

struct Writer {
    std::string out;
    void family(const char* name, const char* type, const char* help, const char* unit = nullptr)
    {
        out += fmt::format("# TYPE {} {}\n", name, type);
        if (unit)
            out += fmt::format("# UNIT {} {}\n", name, unit);
        out += fmt::format("# HELP {} {}\n", name, help);
    }
    template <typename T>
    void gauge(const char* name, const char* help, T value)
    {
        family(name, "gauge", help);
        out += fmt::format("{} {}\n", name, value);
    }
    void counter(const char* name, const char* help, uint64_t value)
    {
        family(name, "counter", help);
        out += fmt::format("{}_total {}\n", name, value);
    }
};

} // namespace

std::string render_text(const DaemonMetrics& m, std::string_view mountpoint)
{
    std::string out;
    for (auto& mount : m.mounts)
        if (mount.mountpoint == mountpoint)
            out += fmt::format("transport {}\n", mount.transport);
    for (auto& mount : m.mounts)
        out += fmt::format("mount {} {} nodes={} transport={} requests_io_uring={} requests_dev_fuse={} "
                           "requests_resent={} state_records={}\n",
                           mount.mountpoint, mount.options, mount.nodes, mount.transport,
                           mount.via_uring, mount.via_dev, mount.requests_resent, mount.state_records);
    out += fmt::format("daemon_pid {}\nkeeper_pid {}\nincarnation {}\n", m.daemon_pid, m.keeper_pid,
                       m.incarnation);
    if (!m.upgrade_failed.empty())
        out += fmt::format("upgrade_failed {}\n", m.upgrade_failed);
    out += fmt::format("tracked_processes {}\nlisted_inodes {}\npidfds {}\npidfds_watched {}\n",
                       m.tracked_processes, m.listed_inodes, m.pidfds, m.pidfds_watched);
    out += fmt::format("exits_seen {}\nreaps_seen {}\n", m.exits_seen, m.reaps_seen);
    out += fmt::format("invalidations_sent {}\ninvalidations_enoent {}\ninvalidations_failed {}\n",
                       m.invalidations_sent, m.invalidations_enoent, m.invalidations_failed);
    out += fmt::format("resume_invalidations {}\nresume_poll_wakeups {}\n", m.resume_invalidations,
                       m.resume_poll_wakeups);
    out += fmt::format("open_files {}\n", m.open_files);
    out += fmt::format("container_inits {}\nload_sampled {}\nresource_files_kept {}\n", m.container_inits,
                       m.load_sampled, m.resource_files_kept);
    for (size_t i = 0; i < m.requests.size(); ++i)
        out += fmt::format("requests_{} {}\n", op_name(static_cast<Op>(i)), m.requests[i]);
    // Per bucket: events that took from half the bound (0 for the first) to the bound.
    for (size_t i = 0; i < m.reap_latency.size(); ++i)
        if (m.reap_latency[i])
            out += fmt::format("reap_latency_us_lt_{} {}\n", bucket_bound_us(i), m.reap_latency[i]);
    return out;
}

std::string render_openmetrics(const DaemonMetrics& m)
{
    Writer w;
    w.gauge("procfsd_daemon_pid", "The process id of the serving daemon.", m.daemon_pid);
    w.gauge("procfsd_keeper_pid", "The process id of the keeper holding the mounts' descriptors (0: none).",
            m.keeper_pid);
    w.gauge("procfsd_incarnation", "Which server of its keeper this one is (1: the first).", m.incarnation);
    w.gauge("procfsd_tracked_processes", "Processes and threads the kernel holds directory inodes for.",
            m.tracked_processes);
    w.gauge("procfsd_listed_inodes", "Directory entries on the tracked processes' inode lists.",
            m.listed_inodes);
    w.gauge("procfsd_pidfds", "Pidfds the daemon holds.", m.pidfds);
    w.gauge("procfsd_pidfds_watched", "Pidfds in the exit watcher's epoll.", m.pidfds_watched);
    w.gauge("procfsd_open_files", "Files and directories open through every mount.", m.open_files);
    w.gauge("procfsd_container_inits",
            "Pid namespaces whose init resources=cgroup keeps (with a pidfd each).", m.container_inits);
    w.gauge("procfsd_load_sampled", "Cgroups whose load average resources=cgroup samples.",
            m.load_sampled);
    w.gauge("procfsd_resource_files_kept",
            "Files resources=cgroup keeps open to read again (cgroup files, readers' cgroup files).",
            m.resource_files_kept);
    w.counter("procfsd_exits_seen", "Exits (zombies) the exit watcher saw.", m.exits_seen);
    w.counter("procfsd_reaps_seen", "Reaps the exit watcher saw.", m.reaps_seen);
    w.family("procfsd_invalidations", "counter",
             "Entry invalidations at reap, by result (enoent: the kernel had nothing cached).");
    w.out += fmt::format("procfsd_invalidations_total{{result=\"sent\"}} {}\n", m.invalidations_sent);
    w.out += fmt::format("procfsd_invalidations_total{{result=\"enoent\"}} {}\n", m.invalidations_enoent);
    w.out += fmt::format("procfsd_invalidations_total{{result=\"failed\"}} {}\n", m.invalidations_failed);
    w.counter("procfsd_resume_invalidations",
              "Directories of processes that ended while no server ran, invalidated by a restarted server.",
              m.resume_invalidations);
    w.counter("procfsd_resume_poll_wakeups", "Poll waits of a previous server woken by a restarted one.",
              m.resume_poll_wakeups);
    w.family("procfsd_mount_nodes", "gauge", "Inodes the kernel holds on each mount.");
    for (auto& mount : m.mounts)
        w.out += fmt::format("procfsd_mount_nodes{{mountpoint=\"{}\"}} {}\n", label(mount.mountpoint),
                             mount.nodes);
    w.family("procfsd_mount_transport", "stateset",
             "How each mount's requests reach the daemon: /dev/fuse or FUSE over io_uring.");
    for (auto& mount : m.mounts)
        for (std::string_view t : {"dev_fuse", "io_uring"})
            w.out += fmt::format("procfsd_mount_transport{{mountpoint=\"{}\",procfsd_mount_transport=\"{}\"}} {}\n",
                                 label(mount.mountpoint), t, t == mount.transport ? 1 : 0);
    w.family("procfsd_transport_requests", "counter",
             "FUSE requests by mount and the way they came (FORGET and INTERRUPT always over /dev/fuse).");
    for (auto& mount : m.mounts) {
        w.out += fmt::format("procfsd_transport_requests_total{{mountpoint=\"{}\",transport=\"io_uring\"}} {}\n",
                             label(mount.mountpoint), mount.via_uring);
        w.out += fmt::format("procfsd_transport_requests_total{{mountpoint=\"{}\",transport=\"dev_fuse\"}} {}\n",
                             label(mount.mountpoint), mount.via_dev);
    }
    w.family("procfsd_requests", "counter", "FUSE requests served, by mount and operation.");
    for (auto& mount : m.mounts)
        for (size_t i = 0; i < mount.requests.size(); ++i)
            w.out += fmt::format("procfsd_requests_total{{mountpoint=\"{}\",op=\"{}\"}} {}\n",
                                 label(mount.mountpoint), op_name(static_cast<Op>(i)), mount.requests[i]);
    w.family("procfsd_reap_latency_seconds", "histogram",
             "Time from a reap's event to the end of its invalidations.", "seconds");
    uint64_t cumulative = 0;
    for (size_t i = 0; i < m.reap_latency.size(); ++i) {
        cumulative += m.reap_latency[i];
        w.out += fmt::format("procfsd_reap_latency_seconds_bucket{{le=\"{:g}\"}} {}\n",
                             static_cast<double>(bucket_bound_us(i)) / 1e6, cumulative);
    }
    w.out += fmt::format("procfsd_reap_latency_seconds_bucket{{le=\"+Inf\"}} {}\n", cumulative);
    w.out += fmt::format("procfsd_reap_latency_seconds_count {}\n", cumulative);
    w.out += fmt::format("procfsd_reap_latency_seconds_sum {:g}\n",
                         static_cast<double>(m.reap_latency_sum_us) / 1e6);
    w.out += "# EOF\n";
    return w.out;
}

} // namespace procfsd
