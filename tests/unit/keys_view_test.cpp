// SPDX-License-Identifier: GPL-2.0-or-later
#include <catch2/catch_test_macros.hpp>

#include "procfsd/keys_view.hpp"

using procfsd::keys_visible_without_possession;

namespace {
// Lines as proc_keys_show prints them.
constexpr const char* possessor_only = "13519729 I--Q---     2 perm 1f000000     0     0 keyring   _uid.0: empty\n";
constexpr const char* user_view = "2a1b3c4d I------     1 perm 3f010000  1000  1000 user      mine: 5\n";
constexpr const char* group_view = "2a1b3c4e I------     1 perm 3f000100     0   100 user      team: 5\n";
constexpr const char* other_view = "2a1b3c4f I------     1 perm 3f000001     0     0 keyring   .shared: empty\n";
constexpr const char* user_denies = "2a1b3c50 I------     1 perm 3f000001  1000  1000 user      owner-hidden: 5\n";
} // namespace

TEST_CASE("keys the caller views only by possession are dropped", "[keys]")
{
    CHECK(keys_visible_without_possession(possessor_only, 1000, 1000, {}) == "");
    CHECK(keys_visible_without_possession(possessor_only, 0, 0, {}) == "");
}

TEST_CASE("user, group and other permissions are applied as key_task_permission does", "[keys]")
{
    std::string all = std::string(possessor_only) + user_view + group_view + other_view + user_denies;
    // The owner uses the user byte only, even where other may view (user_denies).
    CHECK(keys_visible_without_possession(all, 1000, 1000, {}) == std::string(user_view) + other_view);
    // Group by fsgid or by a supplementary group.
    CHECK(keys_visible_without_possession(all, 2000, 100, {}) ==
          std::string(group_view) + other_view + user_denies);
    CHECK(keys_visible_without_possession(all, 2000, 2000, {7, 100}) ==
          std::string(group_view) + other_view + user_denies);
    CHECK(keys_visible_without_possession(all, 2000, 2000, {}) == std::string(other_view) + user_denies);
}

TEST_CASE("malformed lines and a missing final newline are handled", "[keys]")
{
    CHECK(keys_visible_without_possession("garbage\n\n   \n", 0, 0, {}) == "");
    std::string last(other_view);
    last.pop_back();
    CHECK(keys_visible_without_possession(last, 5, 5, {}) == last);
}

TEST_CASE("a group match without group permission bits falls back to other", "[keys]")
{
    // key_task_permission uses the group byte only when it grants something (KEY_GRP_ALL).
    const std::string no_group_bits =
        "2a1b3c51 I------     1 perm 3f000001     0   100 user      grp-none: 5\n";
    const std::string neither = "2a1b3c52 I------     1 perm 3f000000     0   100 user      closed: 5\n";
    CHECK(keys_visible_without_possession(no_group_bits, 2000, 100, {}) == no_group_bits);
    CHECK(keys_visible_without_possession(neither, 2000, 100, {}) == "");
}

TEST_CASE("a description continued over lines stays with its record", "[keys]")
{
    // A description with newlines: its continuation lines share the record's fate, even one
    // shaped like a record, which cannot follow in serial order.
    const std::string hidden_multi =
        "2a1b3c60 I------     1 perm 3f000000     0     0 user      first\n"
        "second part\n"
        "2a1b3c10 I------     1 perm 3f000001     0     0 user      forged: 1\n";
    const std::string shown_multi =
        "2a1b3c70 I------     1 perm 3f000001     0     0 user      one\n"
        "two: 7\n";
    CHECK(keys_visible_without_possession(hidden_multi, 5, 5, {}) == "");
    CHECK(keys_visible_without_possession(shown_multi, 5, 5, {}) == shown_multi);
    CHECK(keys_visible_without_possession(hidden_multi + shown_multi, 5, 5, {}) == shown_multi);
    // Text before the first record belongs to none and is dropped.
    CHECK(keys_visible_without_possession("orphan\n" + shown_multi, 5, 5, {}) == shown_multi);
    // Uppercase hex is not how the kernel prints a serial.
    CHECK(keys_visible_without_possession(
              "2A1B3C70 I------     1 perm 3f000001     0     0 user      x: 1\n", 5, 5, {}) == "");
}
