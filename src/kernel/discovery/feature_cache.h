// SPDX-License-Identifier: MIT
// kernel/discovery/feature_cache.h - discovery results cached per boot, so a
// second `extsys run` pays nothing for discovery. Key: boot id + kernel release
// + extsys version + whether discovery could mount. A corrupt, foreign-owned,
// group/world-writable or stale file is ignored and rewritten.
#pragma once

#include <optional>
#include <string>

#include "base/result.h"
#include "kernel/features/feature_set.h"

namespace extsys::kernel {

struct CacheKey {
  std::string bootId;
  std::string release;
  std::string extsysVersion;
  bool privileged = false;

  bool operator==(const CacheKey&) const = default;
};

[[nodiscard]] Result<CacheKey> currentCacheKey(const std::string& extsysVersion, bool privileged);

// root: /run/extsys; others: $XDG_RUNTIME_DIR/extsys; "" when there is none.
std::string defaultCacheDir();

enum class CacheState : uint8_t { Hit, Miss, Corrupt, Foreign, Stale, Disabled, Unavailable };
const char* cacheStateName(CacheState s);

struct CacheLoad {
  CacheState state = CacheState::Miss;
  std::optional<KernelFeatures> features;
  std::string note;
};

// Reads DIR/features.json. Never fails: every problem is a state + note.
CacheLoad loadCache(const std::string& dir, const CacheKey& key);

// Writes DIR/features.json atomically (temp file + rename), mode 0644,
// creating DIR (0755 for root, 0700 otherwise) when missing.
[[nodiscard]] Status storeCache(const std::string& dir, const CacheKey& key, const KernelFeatures& f);

}  // namespace extsys::kernel
