// SPDX-License-Identifier: GPL-2.0-or-later
// The state a mount keeps for its next server (procfsd/mount_state.hpp): what one server writes,
// a next one reads back the same from the same memfd, and the write journal tells a resent
// write's outcome.
#include <catch2/catch_test_macros.hpp>
#include <unistd.h>

#include "procfsd/entry.hpp"
#include "procfsd/mount_state.hpp"
#include "procfsd/node_table.hpp"

using namespace procfsd;

namespace {

// The same memfd, adopted as a restarted server does.
StateFile reopened(const StateFile& f)
{
    auto again = StateFile::adopt(UniqueFd(::dup(f.fd())));
    REQUIRE(again.ok());
    return std::move(again.value);
}

} // namespace

TEST_CASE("nodes and lookup counts a server recorded come back to the next one", "[state]")
{
    auto file = StateFile::create("test-state");
    REQUIRE(file.ok());
    MountState state(std::move(file.value), kernel_tree());
    state.describe("/srv/proc", "rw,hidepid=invisible");
    NodeTable nodes;
    nodes.persist_to(&state);
    const Entry& status = kernel_tree().pid.find("status");
    auto made = [&](NodeKind kind, std::string path, const Entry* e) {
        return [=] {
            auto n = std::make_shared<Node>();
            n->kind = kind;
            n->path = path;
            n->tgid = n->tid = 42;
            n->entry = e;
            n->entry_itself = e != nullptr;
            n->mode = 0100444;
            return n;
        };
    };
    auto always = [](const Node&) { return true; };
    auto dir = nodes.remember(FUSE_ROOT_ID, "42", always, made(NodeKind::pid_dir, "42", nullptr)).node;
    auto file_node = nodes.remember(dir->ino, "status", always, made(NodeKind::pid_entry, "42/status", &status)).node;
    nodes.remember(dir->ino, "status", always, made(NodeKind::pid_entry, "42/status", &status)); // nlookup 2
    auto gone = nodes.remember(dir->ino, "stat", always, made(NodeKind::pid_entry, "42/stat", &status)).node;
    nodes.forget(gone->ino, 1);
    nodes.forget(file_node->ino, 1); // nlookup 1 left

    MountState next(reopened(state.file()), kernel_tree());
    CHECK(std::string(next.header().mountpoint) == "/srv/proc");
    CHECK(std::string(next.header().options) == "rw,hidepid=invisible");
    auto saved = next.saved(2);
    REQUIRE(saved.nodes.size() == 2);
    const Node& d = *saved.nodes[0].node;
    const Node& f = *saved.nodes[1].node;
    CHECK(d.ino == dir->ino);
    CHECK(d.kind == NodeKind::pid_dir);
    CHECK(d.name == "42");
    CHECK(f.parent == dir->ino);
    CHECK(f.path == "42/status");
    CHECK(f.entry == &status);
    CHECK(f.entry_itself);
    CHECK(f.nlookup == 1);
    CHECK(f.mode == 0100444);
    // Ids go on above every id given, also the forgotten one's.
    CHECK(next.header().next_ino.load() == gone->ino + 1);
}

TEST_CASE("a resent write gets the outcome of the first; one that never finished is unknown", "[state]")
{
    auto file = StateFile::create("test-writes");
    REQUIRE(file.ok());
    MountState state(std::move(file.value), kernel_tree());
    CHECK_FALSE(state.write_outcome(7).has_value());
    Record* done = state.write_begins(7);
    state.write_done(done, 3);
    Record* failed = state.write_begins(8);
    state.write_done(failed, -EINVAL);
    state.write_begins(9); // the server died while applying it
    MountState next(reopened(state.file()), kernel_tree());
    (void)next.saved(2);
    CHECK(next.write_outcome(7) == 3);
    CHECK(next.write_outcome(8) == -EINVAL);
    CHECK(next.write_outcome(9) == -EINPROGRESS);
    // Kept while the server that found them serves (their resends come to it), dropped at the
    // restart after.
    (void)next.saved(3);
    CHECK_FALSE(next.write_outcome(7).has_value());
}

TEST_CASE("a state file that is not one is refused", "[state]")
{
    auto other = StateFile::create("test-empty");
    REQUIRE(other.ok());
    other.value.header().magic = 0;
    auto adopted = StateFile::adopt(UniqueFd(::dup(other.value.fd())));
    CHECK(adopted.error == -EINVAL);
}
