// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <fuse_lowlevel.h>
#include <sys/types.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "procfsd/node.hpp"
#include "procfsd/state_file.hpp"

namespace procfsd {

struct Tree;

// What one mount writes to its state file (procfsd/state_file.hpp) and reads back after a
// restart: the one owner of that file's records. Every method is safe from any thread.
class MountState {
public:
    MountState(StateFile file, const Tree& tree) : file_(std::move(file)), tree_(tree) {}

    [[nodiscard]] StateFile& file() noexcept { return file_; }
    [[nodiscard]] StateHeader& header() const noexcept { return file_.header(); }

    // The mount itself, written once when it is made.
    void describe(const std::string& mountpoint, const std::string& options);
    // The INIT request as the kernel sent it; empty until the first server saw it.
    void save_init(const void* request, size_t len);
    [[nodiscard]] std::string init() const;

    // A node handed to the kernel: its record, or null when it does not fit (a name and path
    // longer than a slot holds; the node is then unknown to the next server: ESTALE).
    Record* node_added(const Node& node);
    void node_count(Record* r, uint64_t nlookup) noexcept;
    // The kernel waits on open file `r` under poll handle `kh` (FUSE_POLL_SCHEDULE_NOTIFY): a
    // next server wakes it, so that the poller asks again (Mount::finish_resume).
    void poll_armed(Record* r, uint64_t kh) noexcept
    {
        if (r)
            r->count.store(kh, std::memory_order_release);
    }
    void dropped(Record* r) noexcept { file_.release(r); }

    // An open handle (kind file or dir), whose caller `uid` is charged for it.
    Record* handle_opened(RecordKind kind, uint64_t fh, fuse_ino_t ino, int flags, uid_t uid);

    // A write request being applied: its record, until its reply is sent. `unique` without
    // the kernel's resend bit.
    Record* write_begins(uint64_t unique);
    void write_done(Record* r, ssize_t result) noexcept;
    // A resent write's earlier outcome: nothing when no server began it, -EINPROGRESS when one
    // began it and died before it knew the result, else what it returned.
    [[nodiscard]] std::optional<ssize_t> write_outcome(uint64_t unique) const;

    // A node as a previous server recorded it; `node` carries no task yet (the restore finds
    // it by tid and identity).
    struct SavedNode {
        std::shared_ptr<Node> node;
        uint64_t identity = 0;
        Record* record = nullptr;
    };
    struct SavedHandle {
        RecordKind kind = RecordKind::file;
        uint64_t fh = 0;
        fuse_ino_t ino = 0;
        int flags = 0;
        uid_t uid = 0;
        uint64_t poll_kh = 0; // a file's poll wait in the kernel (0: none)
        Record* record = nullptr;
    };
    struct Saved {
        std::vector<SavedNode> nodes; // by node id, so that parents come first
        std::vector<SavedHandle> handles;
    };
    // Everything recorded, for the next server (incarnation `incarnation`). The records of
    // writes a dead server finished but whose reply may not have reached the kernel stay for
    // their resend; those that a previous restart found already stay one restart more, then go
    // (at most a worker pool's worth per restart).
    [[nodiscard]] Saved saved(uint64_t incarnation);

private:
    StateFile file_;
    const Tree& tree_;
};

} // namespace procfsd
