// SPDX-License-Identifier: GPL-2.0-or-later
#pragma once

#include <fuse_lowlevel.h>

namespace procfsd::floorfs {

// lookup, getattr, readdir(plus), open, read, release, readlink, plus opendir, releasedir,
// access and forget: what procfsd answers.
const fuse_lowlevel_ops& operations();

} // namespace procfsd::floorfs
