// SPDX-License-Identifier: MIT
// base/errno_name.h - symbolic errno names ("EINVAL"), the form every message uses.
#pragma once

#include <string>

namespace extsys {

// "EINVAL"; "E134" for numbers glibc has no name for (EEXTSYS_NOOP is not in
// glibc 2.36). Never allocates for known names.
const char* errnoName(int err);

// "EINVAL (Invalid argument)".
std::string errnoDescribe(int err);

}  // namespace extsys
