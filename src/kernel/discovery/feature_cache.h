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

// Filtered: this process runs under a seccomp filter, so what discovery sees
// may be the filter's answers, not the kernel's: the cache is neither read
// nor written (a lie must never outlive the filter that told it).
enum class CacheState : uint8_t {
  Hit,
  Miss,
  Corrupt,
  Foreign,
  Stale,
  Disabled,
  Unavailable,
  Filtered
};
const char* cacheStateName(CacheState s);

struct CacheLoad {
  CacheState state = CacheState::Miss;
  std::optional<KernelFeatures> features;
  std::string note;
};

// The seccomp filters this process runs under, from /proc/self/status
// ("Seccomp:" mode 2 and "Seccomp_filters:"): 0 when none. A mode 2 without
// a count (kernels before 5.9) counts as 1; an unreadable status as none.
int seccompFilterCount(const std::string& statusText);
int currentSeccompFilterCount();

// Reads DIR/features.json. Never fails: every problem is a state + note.
CacheLoad loadCache(const std::string& dir, const CacheKey& key);

// Writes DIR/features.json atomically (temp file + rename), mode 0644,
// creating DIR (0755 for root, 0700 otherwise) when missing.
[[nodiscard]] Status storeCache(const std::string& dir, const CacheKey& key, const KernelFeatures& f);

}  // namespace extsys::kernel
