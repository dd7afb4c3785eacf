// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "procfsd/node.hpp"

namespace procfsd {
class MountState;
}

namespace procfsd {

// The inodes one mount's kernel knows, by FUSE node id, with their lookup counts. Node ids are
// never reused, so an inode of a reaped process can never come to mean another one.
class NodeTable {
public:
    NodeTable();

    [[nodiscard]] std::shared_ptr<Node> get(fuse_ino_t ino) const;

    struct Remembered {
        std::shared_ptr<Node> node;
        bool created = false; // first reference: the kernel did not know this inode before
    };
    // The node for `name` in `parent`, with its lookup count raised by one: the existing one when
    // `reusable` accepts it, else the one `make` builds (with a new id). Call once per entry
    // replied to the kernel (lookup, readdirplus).
    Remembered remember(fuse_ino_t parent, std::string_view name,
                        const std::function<bool(const Node&)>& reusable,
                        const std::function<std::shared_ptr<Node>()>& make);

    // Lowers the lookup count; returns the node when it reached zero and was dropped.
    std::shared_ptr<Node> forget(fuse_ino_t ino, uint64_t nlookup);
    // The kernel forgets everything at unmount: drops every node but the root, returning them.
    std::vector<std::shared_ptr<Node>> clear();

    [[nodiscard]] size_t size() const;

    // Keeps every node and lookup count in `state` from now on (null: nowhere).
    void persist_to(MountState* state) noexcept { state_ = state; }
    // A restarted server's nodes, as the previous one recorded them (with their records), and
    // the first node id it may give.
    void restore(std::vector<std::shared_ptr<Node>> nodes, fuse_ino_t next_ino);

private:
    void count_changed(Node& node) noexcept;

    static std::string key(fuse_ino_t parent, std::string_view name);

    mutable std::mutex mu_; // guards nodes_, by_name_, next_ino_
    std::unordered_map<fuse_ino_t, std::shared_ptr<Node>> nodes_;
    std::unordered_map<std::string, fuse_ino_t> by_name_;
    fuse_ino_t next_ino_ = FUSE_ROOT_ID + 1;
    MountState* state_ = nullptr;
};

} // namespace procfsd
