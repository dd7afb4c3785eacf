// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/mount_state.hpp"

#include <algorithm>
#include <cstring>

#include "procfsd/entry.hpp"
#include "procfsd/process_tracker.hpp"

namespace procfsd {

namespace {

constexpr uint16_t unknown_row = 0xffff;

// A write record's `count`: its state in the high bits, its result (biased) below.
constexpr uint64_t write_started = 1ULL << 62;
constexpr uint64_t write_finished = 1ULL << 63;
constexpr uint64_t result_bias = 1ULL << 32;

enum Bits : uint8_t { entry_itself = 1, restricted = 2, behind_link = 4 };

const EntryTable* table_of(const Tree& tree, uint8_t t)
{
    return t == 1 ? &tree.root : t == 2 ? &tree.pid : t == 3 ? &tree.tid : nullptr;
}

// Where a node's row is in the mount's tree: every node's entry is a row of the root's, a pid
// directory's or a tid directory's table, or that table's `unknown` (lib/fuse/lookup.cpp).
bool locate(const Tree& tree, const Entry* e, uint8_t& table, uint16_t& row)
{
    table = 0;
    row = 0;
    if (!e)
        return true;
    for (uint8_t t = 1; t <= 3; ++t) {
        const EntryTable& tab = *table_of(tree, t);
        if (e == &tab.unknown) {
            table = t;
            row = unknown_row;
            return true;
        }
        if (e >= tab.rows.data() && e < tab.rows.data() + tab.rows.size()) {
            table = t;
            row = static_cast<uint16_t>(e - tab.rows.data());
            return true;
        }
    }
    return false;
}

const Entry* entry_at(const Tree& tree, uint8_t table, uint16_t row)
{
    const EntryTable* tab = table_of(tree, table);
    if (!tab)
        return nullptr;
    if (row == unknown_row)
        return &tab->unknown;
    return row < tab->rows.size() ? &tab->rows[row] : nullptr;
}

void copy_text(char* dst, size_t cap, const std::string& s)
{
    std::memcpy(dst, s.data(), std::min(cap, s.size()));
    if (s.size() < cap)
        dst[s.size()] = '\0';
}

} // namespace

void MountState::describe(const std::string& mountpoint, const std::string& options)
{
    auto& h = header();
    copy_text(h.mountpoint, sizeof h.mountpoint - 1, mountpoint);
    copy_text(h.options, sizeof h.options - 1, options);
}

void MountState::save_init(const void* request, size_t len)
{
    auto& h = header();
    len = std::min(len, sizeof h.init);
    std::memcpy(h.init, request, len);
    __atomic_store_n(&h.init_len, static_cast<uint32_t>(len), __ATOMIC_RELEASE);
}

std::string MountState::init() const
{
    auto& h = header();
    uint32_t len = __atomic_load_n(&h.init_len, __ATOMIC_ACQUIRE);
    return std::string(reinterpret_cast<const char*>(h.init), std::min<size_t>(len, sizeof h.init));
}

Record* MountState::node_added(const Node& node)
{
    // Node ids are never reused, also by the next server, whether or not this node is kept: a
    // known id given again with another generation would make the kernel's inode bad (EIO).
    auto& next = header().next_ino;
    uint64_t want = node.ino + 1, seen = next.load();
    while (seen < want && !next.compare_exchange_weak(seen, want)) {
    }
    uint8_t table = 0;
    uint16_t row = 0;
    if (node.name.size() + node.path.size() > sizeof(Record::text) || !locate(tree_, node.entry, table, row))
        return nullptr;
    Record* r = file_.allocate();
    if (!r)
        return nullptr;
    r->name_len = static_cast<uint16_t>(node.name.size());
    r->path_len = static_cast<uint16_t>(node.path.size());
    std::memcpy(r->text, node.name.data(), node.name.size());
    std::memcpy(r->text + node.name.size(), node.path.data(), node.path.size());
    r->id = node.ino;
    r->count.store(node.nlookup.load(), std::memory_order_relaxed);
    r->parent = node.parent;
    r->identity = node.task ? node.task->identity : 0;
    r->generation = node.generation;
    r->tgid = node.tgid;
    r->tid = node.tid;
    r->mode = node.mode;
    r->node_kind = static_cast<uint8_t>(node.kind);
    r->lifetime = static_cast<uint8_t>(node.lifetime);
    r->bits = static_cast<uint8_t>((node.entry_itself ? entry_itself : 0) | (node.restricted ? restricted : 0) |
                                   (node.behind_link ? behind_link : 0));
    r->table = table;
    r->row = row;
    r->kind.store(uint32_t(RecordKind::node), std::memory_order_release);
    return r;
}

void MountState::node_count(Record* r, uint64_t nlookup) noexcept
{
    if (r)
        r->count.store(nlookup, std::memory_order_release);
}

Record* MountState::handle_opened(RecordKind kind, uint64_t fh, fuse_ino_t ino, int flags, uid_t uid)
{
    Record* r = file_.allocate();
    if (!r)
        return nullptr;
    r->name_len = r->path_len = 0;
    r->id = fh;
    r->count.store(0, std::memory_order_relaxed);
    r->parent = ino;
    r->flags = flags;
    r->uid = uid;
    r->kind.store(uint32_t(kind), std::memory_order_release);
    return r;
}

Record* MountState::write_begins(uint64_t unique)
{
    Record* r = file_.allocate();
    if (!r)
        return nullptr;
    r->name_len = r->path_len = 0;
    r->id = unique;
    r->count.store(write_started, std::memory_order_relaxed);
    r->generation = 0;
    r->kind.store(uint32_t(RecordKind::write), std::memory_order_release);
    return r;
}

void MountState::write_done(Record* r, ssize_t result) noexcept
{
    if (r)
        r->count.store(write_finished | static_cast<uint64_t>(result + static_cast<ssize_t>(result_bias)),
                       std::memory_order_release);
}

std::optional<ssize_t> MountState::write_outcome(uint64_t unique) const
{
    for (Record* r : file_.used()) {
        if (r->kind.load(std::memory_order_acquire) != uint32_t(RecordKind::write) || r->id != unique)
            continue;
        uint64_t c = r->count.load(std::memory_order_acquire);
        if (!(c & write_finished))
            return -EINPROGRESS;
        return static_cast<ssize_t>(c & ~(write_finished | write_started)) - static_cast<ssize_t>(result_bias);
    }
    return std::nullopt;
}

MountState::Saved MountState::saved(uint64_t incarnation)
{
    Saved s;
    for (Record* r : file_.used()) {
        auto kind = static_cast<RecordKind>(r->kind.load(std::memory_order_acquire));
        if (kind == RecordKind::write) {
            if (r->generation == 0)
                r->generation = incarnation; // found at this restart
            else if (r->generation < incarnation)
                file_.release(r);
            continue;
        }
        if (kind == RecordKind::file || kind == RecordKind::dir) {
            uint64_t kh = kind == RecordKind::file ? r->count.load(std::memory_order_acquire) : 0;
            s.handles.push_back({kind, r->id, r->parent, r->flags, r->uid, kh, r});
            continue;
        }
        if (kind != RecordKind::node)
            continue;
        auto n = std::make_shared<Node>();
        n->ino = r->id;
        n->parent = r->parent;
        n->name = std::string(r->name());
        n->path = std::string(r->path());
        n->kind = static_cast<NodeKind>(r->node_kind);
        n->tgid = r->tgid;
        n->tid = r->tid;
        n->generation = r->generation;
        n->mode = r->mode;
        n->lifetime = static_cast<Lifetime>(r->lifetime);
        n->entry_itself = (r->bits & entry_itself) != 0;
        n->restricted = (r->bits & restricted) != 0;
        n->behind_link = (r->bits & behind_link) != 0;
        n->entry = entry_at(tree_, r->table, r->row);
        n->nlookup = r->count.load(std::memory_order_acquire);
        n->saved = r;
        s.nodes.push_back({std::move(n), r->identity, r});
    }
    std::sort(s.nodes.begin(), s.nodes.end(), [](auto& a, auto& b) { return a.node->ino < b.node->ino; });
    return s;
}

} // namespace procfsd
