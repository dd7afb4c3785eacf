// SPDX-License-Identifier: GPL-2.0-or-later
#include "fuse/link_target.hpp"

#include <sys/stat.h>

#include <algorithm>

#include "fuse/lookup.hpp"
#include "fuse/source.hpp"
#include "procfsd/entry.hpp"

namespace procfsd::fuse_op {

namespace {

std::string_view dir_of(const std::string& path)
{
    auto slash = path.rfind('/');
    return slash == std::string::npos ? std::string_view{} : std::string_view(path).substr(0, slash);
}

// A link of `dir` named `name`, as its row serves it (ptrace-gated below fd/ and ns/).
void make_link(Node& link, const Node& dir, std::string_view name)
{
    link.name = std::string(name);
    link.kind = NodeKind::pid_entry;
    link.path = child_path(dir, name);
    link.task = dir.task;
    link.tgid = dir.tgid;
    link.tid = dir.tid;
    link.entry = dir.entry;
    link.restricted = true;
    link.lifetime = Lifetime::volatile_;
}

// What the object behind the link shows itself as, or -ENOENT where FUSE cannot stand for it:
// a regular file (nsfs) or a socket, whose opens the kernel or the daemon refuse as on /proc
// (ENXIO for a socket). A pipe is left out: a FUSE FIFO inode would make an open wait for a
// writer of that inode instead of reopening the pipe; devices would open the device without
// procfs's checks; anonymous inodes have no file type, which FUSE requires.
int shown(const struct stat& st)
{
    return S_ISREG(st.st_mode) || S_ISSOCK(st.st_mode) ? 0 : -ENOENT;
}

int object(const Request& r, const Node& dir, std::string_view text, std::string_view hint,
           std::string& name, struct stat* st)
{
    Node any;
    make_link(any, dir, hint.empty() ? text : hint);
    Plan plan = decide(r.mount.options(), any, r.caller, Intent::readlink);
    if (plan.refuse < 0)
        return plan.refuse;
    if (int rv = source::object_behind(r, plan, dir, text, hint, name, st); rv < 0)
        return rv;
    return shown(*st);
}

} // namespace

bool is_link_text(std::string_view name) noexcept
{
    auto open = name.find(":[");
    if (open == 0 || open == std::string_view::npos || name.size() < open + 4 || name.back() != ']')
        return false;
    std::string_view digits = name.substr(open + 2, name.size() - open - 3);
    return std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; });
}

int lookup_behind_link(const Request& r, fuse_ino_t parent, const Node& dir, std::string_view text,
                       fuse_entry_param& e)
{
    std::string name;
    struct stat st{};
    if (int rv = object(r, dir, text, r.mount.link_hints().find(dir.path, text), name, &st); rv < 0)
        return rv;
    Node proto;
    make_link(proto, dir, name);
    proto.mode = st.st_mode;
    proto.behind_link = true;
    auto remembered = r.mount.nodes().remember(
        parent, text,
        [&](const Node& existing) {
            return existing.behind_link && existing.path == proto.path && existing.mode == st.st_mode &&
                   existing.task == proto.task;
        },
        [&] { return made_like(proto); });
    const Node& node = *remembered.node;
    fill_entry(r, node, st, e);
    return 0;
}

int attributes_behind_link(const Request& r, const Node& node, struct stat* st)
{
    Node dir; // the link's directory, as far as its links are served from it
    dir.path = std::string(dir_of(node.path));
    dir.task = node.task;
    dir.tgid = node.tgid;
    dir.tid = node.tid;
    dir.entry = node.entry;
    std::string link = node.path.substr(dir.path.size() + 1), name;
    if (int rv = object(r, dir, node.name, link, name, st); rv < 0)
        return rv;
    // The link shows another text now, or another link shows this one: this node is gone.
    if (name != link || (st->st_mode & S_IFMT) != (node.mode & S_IFMT))
        return -ENOENT;
    return 0;
}

void note_link_text(const Request& r, const Node& link, const std::string& text)
{
    if (link.entry && !link.entry_itself && link.entry->has(resolves_link_texts) && is_link_text(text))
        r.mount.link_hints().note(dir_of(link.path), text, link.name);
}

} // namespace procfsd::fuse_op
