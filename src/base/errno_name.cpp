// SPDX-License-Identifier: MIT
// base/errno_name.cpp - symbolic errno names.
#include "base/errno_name.h"

#include <array>
#include <cstdio>
#include <cstring>

#include "base/result.h"

namespace extsys {

const char* errnoName(int err) {
  if (const char* name = strerrorname_np(err))
    return name;
  // Numbers without a glibc name: a fixed table of "E<n>" strings for the small
  // range the kernel uses, so the hot path never formats.
  static const auto table = [] {
    std::array<std::array<char, 8>, 4096> t{};
    for (size_t i = 0; i < t.size(); ++i)
      std::snprintf(t[i].data(), t[i].size(), "E%zu", i);
    return t;
  }();
  if (err >= 0 && static_cast<size_t>(err) < table.size())
    return table[static_cast<size_t>(err)].data();
  return "E?";
}

std::string errnoDescribe(int err) {
  return std::string(errnoName(err)) + " (" + std::strerror(err) + ")";
}

Error Error::fromErrno(int err, const std::string& what) {
  return Error(err, what + ": " + errnoDescribe(err));
}

}  // namespace extsys
