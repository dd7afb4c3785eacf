// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/node_table.hpp"

#include <algorithm>

#include "procfsd/mount_state.hpp"
#include "procfsd/process_tracker.hpp"

namespace procfsd {

std::string child_path(const Node& dir, std::string_view name)
{
    std::string p = dir.kind == NodeKind::root ? std::string() : dir.path + "/";
    p += name;
    return p;
}

std::shared_ptr<Node> made_like(const Node& proto)
{
    auto node = std::make_shared<Node>();
    node->kind = proto.kind;
    node->path = proto.path;
    node->task = proto.task;
    node->tgid = proto.tgid;
    node->tid = proto.tid;
    node->entry = proto.entry;
    node->entry_itself = proto.entry_itself;
    node->lifetime = proto.lifetime;
    node->mode = proto.mode;
    node->restricted = proto.restricted;
    node->behind_link = proto.behind_link;
    node->generation = proto.generation;
    return node;
}

NodeTable::NodeTable()
{
    auto root = std::make_shared<Node>();
    root->ino = FUSE_ROOT_ID;
    root->parent = FUSE_ROOT_ID;
    root->kind = NodeKind::root;
    root->path = ".";
    root->mode = S_IFDIR | 0555;
    root->nlookup = 1; // the kernel holds the root for as long as it is mounted
    nodes_.emplace(FUSE_ROOT_ID, std::move(root));
}

std::string NodeTable::key(fuse_ino_t parent, std::string_view name)
{
    std::string k = std::to_string(parent);
    k += '/';
    k += name;
    return k;
}

std::shared_ptr<Node> NodeTable::get(fuse_ino_t ino) const
{
    std::lock_guard lock(mu_);
    auto it = nodes_.find(ino);
    return it == nodes_.end() ? nullptr : it->second;
}

NodeTable::Remembered NodeTable::remember(fuse_ino_t parent, std::string_view name,
                                          const std::function<bool(const Node&)>& reusable,
                                          const std::function<std::shared_ptr<Node>()>& make)
{
    std::string k = key(parent, name);
    {
        std::lock_guard lock(mu_);
        auto it = by_name_.find(k);
        if (it != by_name_.end()) {
            auto node = nodes_.at(it->second);
            if (reusable(*node)) {
                node->nlookup.fetch_add(1);
                count_changed(*node);
                return {node, false};
            }
        }
    }
    // Built outside the lock: making a node may track a process (pidfd_open, epoll_ctl).
    auto fresh = make();
    std::lock_guard lock(mu_);
    auto it = by_name_.find(k);
    if (it != by_name_.end()) {
        // Another request remembered the same name meanwhile; keep the first if still good.
        auto node = nodes_.at(it->second);
        if (reusable(*node)) {
            node->nlookup.fetch_add(1);
            count_changed(*node);
            return {node, false};
        }
    }
    fresh->ino = next_ino_++;
    fresh->parent = parent;
    fresh->name = std::string(name);
    fresh->nlookup = 1;
    fresh->generation = fresh->task ? fresh->task->serial : 0;
    if (state_)
        fresh->saved = state_->node_added(*fresh);
    nodes_[fresh->ino] = fresh;
    by_name_[k] = fresh->ino;
    return {fresh, true};
}

std::shared_ptr<Node> NodeTable::forget(fuse_ino_t ino, uint64_t nlookup)
{
    if (ino == FUSE_ROOT_ID)
        return nullptr;
    std::lock_guard lock(mu_);
    auto it = nodes_.find(ino);
    if (it == nodes_.end())
        return nullptr;
    auto node = it->second;
    uint64_t before = node->nlookup.load();
    uint64_t after = nlookup >= before ? 0 : before - nlookup;
    node->nlookup.store(after);
    if (after > 0) {
        count_changed(*node);
        return nullptr;
    }
    if (state_)
        state_->dropped(std::exchange(node->saved, nullptr));
    nodes_.erase(it);
    auto name_it = by_name_.find(key(node->parent, node->name));
    if (name_it != by_name_.end() && name_it->second == ino)
        by_name_.erase(name_it);
    return node;
}

std::vector<std::shared_ptr<Node>> NodeTable::clear()
{
    std::lock_guard lock(mu_);
    std::vector<std::shared_ptr<Node>> dropped;
    for (auto it = nodes_.begin(); it != nodes_.end();) {
        if (it->first == FUSE_ROOT_ID) {
            ++it;
            continue;
        }
        dropped.push_back(it->second);
        it = nodes_.erase(it);
    }
    by_name_.clear();
    return dropped;
}

void NodeTable::count_changed(Node& node) noexcept
{
    if (state_)
        state_->node_count(node.saved, node.nlookup.load());
}

void NodeTable::restore(std::vector<std::shared_ptr<Node>> nodes, fuse_ino_t next_ino)
{
    std::lock_guard lock(mu_);
    next_ino_ = std::max(next_ino_, next_ino);
    for (auto& n : nodes) {
        next_ino_ = std::max(next_ino_, n->ino + 1);
        by_name_[key(n->parent, n->name)] = n->ino;
        nodes_[n->ino] = std::move(n);
    }
}

size_t NodeTable::size() const
{
    std::lock_guard lock(mu_);
    return nodes_.size();
}

} // namespace procfsd
