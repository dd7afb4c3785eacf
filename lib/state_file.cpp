// SPDX-License-Identifier: GPL-2.0-or-later
#include "procfsd/state_file.hpp"

#include <sys/mman.h>
#include <sys/stat.h>

#include <cstring>

namespace procfsd {

namespace {

constexpr size_t header_size = 4096;
// The address space reserved for one file; pages exist only where slots are used. 2 million
// nodes and handles per mount, far above what a kernel keeps cached.
constexpr size_t reserved = size_t{1} << 30;
constexpr size_t max_slots = (reserved - header_size) / sizeof(Record);
constexpr size_t grow_by = 128; // slots per ftruncate

Record* slot_at(void* map, size_t i)
{
    return reinterpret_cast<Record*>(static_cast<char*>(map) + header_size) + i;
}

} // namespace

StateFile::StateFile(StateFile&& other) noexcept { *this = std::move(other); }

StateFile& StateFile::operator=(StateFile&& other) noexcept
{
    if (this != &other) {
        if (map_)
            ::munmap(map_, reserved);
        fd_ = std::move(other.fd_);
        map_ = std::exchange(other.map_, nullptr);
        slots_ = std::exchange(other.slots_, 0);
        free_ = std::move(other.free_);
    }
    return *this;
}

StateFile::~StateFile()
{
    if (map_)
        ::munmap(map_, reserved);
}

sys::Failure StateFile::map()
{
    void* p = ::mmap(nullptr, reserved, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd_.get(), 0);
    if (p == MAP_FAILED)
        return {-errno, "mmap"};
    map_ = p;
    return {};
}

sys::Result<StateFile> StateFile::create(const std::string& name)
{
    StateFile f;
    f.fd_.reset(::memfd_create(name.c_str(), MFD_CLOEXEC));
    if (!f.fd_)
        return {StateFile{}, -errno};
    if (::ftruncate(f.fd_.get(), header_size) != 0)
        return {StateFile{}, -errno};
    if (auto failed = f.map())
        return {StateFile{}, failed.error};
    auto& h = f.header();
    h.magic = StateHeader::magic_value;
    h.version = 1;
    h.next_ino = 2; // the first after FUSE_ROOT_ID
    h.next_fh = 1;
    return {std::move(f), 0};
}

sys::Result<StateFile> StateFile::adopt(UniqueFd fd)
{
    StateFile f;
    f.fd_ = std::move(fd);
    struct stat st{};
    if (::fstat(f.fd_.get(), &st) != 0)
        return {StateFile{}, -errno};
    if (static_cast<size_t>(st.st_size) < header_size || static_cast<size_t>(st.st_size) > reserved)
        return {StateFile{}, -EINVAL};
    if (auto failed = f.map())
        return {StateFile{}, failed.error};
    if (f.header().magic != StateHeader::magic_value || f.header().version != 1)
        return {StateFile{}, -EINVAL};
    f.slots_ = (static_cast<size_t>(st.st_size) - header_size) / sizeof(Record);
    for (size_t i = f.slots_; i-- > 0;)
        if (slot_at(f.map_, i)->kind.load(std::memory_order_acquire) == uint32_t(RecordKind::free))
            f.free_.push_back(static_cast<uint32_t>(i));
    return {std::move(f), 0};
}

Record* StateFile::allocate()
{
    std::lock_guard lock(mu_);
    if (free_.empty()) {
        size_t more = std::min(grow_by, max_slots - slots_);
        if (more == 0)
            return nullptr;
        // New pages of a memfd read as zeros: every new slot is free.
        if (::ftruncate(fd_.get(), static_cast<off_t>(header_size + (slots_ + more) * sizeof(Record))) != 0)
            return nullptr;
        for (size_t i = slots_ + more; i-- > slots_;)
            free_.push_back(static_cast<uint32_t>(i));
        slots_ += more;
    }
    uint32_t i = free_.back();
    free_.pop_back();
    return slot_at(map_, i);
}

void StateFile::release(Record* r) noexcept
{
    if (!r)
        return;
    r->kind.store(uint32_t(RecordKind::free), std::memory_order_release);
    auto i = static_cast<uint32_t>(r - slot_at(map_, 0));
    std::lock_guard lock(mu_);
    free_.push_back(i);
}

std::vector<Record*> StateFile::used() const
{
    std::lock_guard lock(mu_);
    std::vector<Record*> out;
    for (size_t i = 0; i < slots_; ++i)
        if (Record* r = slot_at(map_, i); r->kind.load(std::memory_order_acquire) != uint32_t(RecordKind::free))
            out.push_back(r);
    return out;
}

size_t StateFile::slots_in_use() const
{
    std::lock_guard lock(mu_);
    return slots_ - free_.size();
}

} // namespace procfsd
