// SPDX-License-Identifier: GPL-2.0-or-later
#include <catch2/catch_test_macros.hpp>

#include <cerrno>

#include "procfsd/transport.hpp"

using namespace procfsd;
using R = MountOptions::IoUring;

TEST_CASE("the transport plan follows io_uring= and what the build and the kernel allow", "[unit][transport]")
{
    const UringSupport none{false, false}, build_only{true, false}, kernel_only{false, true}, both{true, true};
    for (auto s : {none, build_only, kernel_only, both}) {
        INFO("built " << s.built << ", kernel " << s.kernel);
        // off never asks; auto asks exactly when both allow it, and never refuses.
        CHECK_FALSE(plan_transport(R::off, s).ask_uring);
        CHECK(plan_transport(R::off, s).refuse == 0);
        CHECK(plan_transport(R::automatic, s).ask_uring == (s.built && s.kernel));
        CHECK(plan_transport(R::automatic, s).refuse == 0);
        // on asks, or refuses with the reason.
        auto on = plan_transport(R::on, s);
        CHECK(on.ask_uring == (s.built && s.kernel));
        CHECK(on.refuse == (s.built && s.kernel ? 0 : EOPNOTSUPP));
    }
    CHECK(plan_transport(R::on, build_only).why.find("enable_uring") != std::string::npos);
    CHECK(plan_transport(R::on, kernel_only).why.find("libfuse") != std::string::npos);
    CHECK(transport_name(Transport::io_uring) == "io_uring");
    CHECK(transport_name(Transport::dev_fuse) == "dev_fuse");
}
