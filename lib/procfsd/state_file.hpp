// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

// What a mount's kernel still refers to, kept where a crash of the serving process does not
// lose it: a memfd, held by the keeper (or systemd's fd store) beside the mount's /dev/fuse
// descriptor, mapped shared and written as the state changes, so that everything already
// answered to the kernel is there for the next server (README, Restarts and upgrades).
//
// The file is a header and fixed-size slots. A slot's `kind` is stored last when it is filled
// and first when it is freed, so a slot half written at a crash reads as free; nothing the
// kernel was told depends on such a slot, since it is written before the reply.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "procfsd/sys.hpp"
#include "procfsd/unique_fd.hpp"

namespace procfsd {

enum class RecordKind : uint32_t {
    free = 0,
    node = 1,  // a node the kernel holds (NodeTable)
    file = 2,  // an open file handle
    dir = 3,   // an open directory handle
    write = 4, // a write request being applied, or applied (resent requests: exactly once)
};

// One slot. Field meaning by kind: see MountState (lib/mount_state.cpp), the one writer.
struct Record {
    std::atomic<uint32_t> kind;
    uint16_t name_len;
    uint16_t path_len;
    uint64_t id;                 // node id, handle id, request id
    std::atomic<uint64_t> count; // node: lookup count; write: state and result; file: the
                                 // kernel's poll handle waiting on it (0: none)
    uint64_t parent;             // node: parent id; handle: node id
    uint64_t identity;           // node: the task's pidfs inode (0: none)
    uint64_t generation;         // node: the generation the kernel was given
    int32_t tgid;
    int32_t tid;
    uint32_t mode;
    uint32_t uid; // handle: whose charge it is
    int32_t flags; // handle: open flags
    uint8_t node_kind;
    uint8_t lifetime;
    uint8_t bits; // node: entry_itself, restricted, behind_link
    uint8_t table; // node: the Tree table its row is in (0 none, 1 root, 2 pid, 3 tid)
    uint16_t row; // node: the row's index in that table (0xffff: the table's `unknown`)
    uint8_t pad[6];
    char text[432]; // name, then path

    [[nodiscard]] std::string_view name() const noexcept { return {text, name_len}; }
    [[nodiscard]] std::string_view path() const noexcept { return {text + name_len, path_len}; }
};
static_assert(sizeof(Record) == 512);

// The first page: what the mount is and how its connection was negotiated.
struct StateHeader {
    static constexpr uint64_t magic_value = 0x31657461'7364'6670ULL; // "pfdstate1"
    uint64_t magic;
    uint32_t version;
    uint32_t init_len; // the INIT request as the kernel sent it (header and fuse_init_in)
    std::atomic<uint64_t> next_ino;
    std::atomic<uint64_t> next_fh;
    uint64_t incarnation; // how many servers have served it
    char mountpoint[1024];
    char options[1024];
    unsigned char init[256];
};
static_assert(sizeof(StateHeader) <= 4096);

class StateFile {
public:
    StateFile() = default;
    StateFile(const StateFile&) = delete;
    StateFile& operator=(const StateFile&) = delete;
    StateFile(StateFile&& other) noexcept;
    StateFile& operator=(StateFile&& other) noexcept;
    ~StateFile();

    // A new, empty file named `name` (shown in /proc/<pid>/fd).
    static sys::Result<StateFile> create(const std::string& name);
    // The file a previous server wrote, handed over by the keeper.
    static sys::Result<StateFile> adopt(UniqueFd fd);

    [[nodiscard]] bool valid() const noexcept { return map_ != nullptr; }
    [[nodiscard]] int fd() const noexcept { return fd_.get(); }
    [[nodiscard]] StateHeader& header() const noexcept { return *static_cast<StateHeader*>(map_); }

    // A free slot (its kind still free), or null when the file cannot grow.
    Record* allocate();
    // Frees a slot: its kind goes first.
    void release(Record* r) noexcept;
    // Every slot in use, for a restore.
    [[nodiscard]] std::vector<Record*> used() const;
    [[nodiscard]] size_t slots_in_use() const;

private:
    sys::Failure map();

    UniqueFd fd_;
    void* map_ = nullptr;
    mutable std::mutex mu_; // guards slots_, free_
    size_t slots_ = 0;      // slots the file holds now
    std::vector<uint32_t> free_;
};

} // namespace procfsd
