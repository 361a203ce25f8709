// SPDX-License-Identifier: MIT
// kernel/discovery/current_features.h - the running kernel's features: from the
// cache when it is valid, else discovered (and cached).
#pragma once

#include <string>

#include "base/result.h"
#include "kernel/discovery/feature_cache.h"
#include "kernel/features/feature_set.h"

namespace extsys::kernel {

enum class CacheMode : uint8_t { Use, Bypass };

struct FeatureLookup {
  KernelFeatures features;
  CacheState cache = CacheState::Disabled;
  std::string cacheDir;
  std::string cacheNote;  // why the cache was not used, or could not be written
  double micros = 0;      // time taken, cache read or discovery included
};

[[nodiscard]] Result<FeatureLookup> currentKernelFeatures(CacheMode mode,
                                                         const std::string& extsysVersion);

}  // namespace extsys::kernel
