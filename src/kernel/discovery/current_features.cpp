// SPDX-License-Identifier: MIT
// kernel/discovery/current_features.cpp - cache first, then discovery.
#include "kernel/discovery/current_features.h"

#include <sys/utsname.h>
#include <time.h>

#include "kernel/discovery/discovery.h"
#include "kernel/discovery/live_backend.h"

namespace extsys::kernel {
namespace {

double nowMicros() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<double>(ts.tv_sec) * 1e6 + static_cast<double>(ts.tv_nsec) / 1e3;
}

}  // namespace

Result<FeatureLookup> currentKernelFeatures(CacheMode mode, const std::string& extsysVersion) {
  const double start = nowMicros();
  FeatureLookup out;
  const bool privileged = mayMount();
  auto key = currentCacheKey(extsysVersion, privileged);
  // Under a seccomp filter (extsys run --policy kernel-5.10 -- extsys ...,
  // a container), discovery sees what the filter answers: fine for this
  // process, a lie for everyone else. Such results never touch the cache.
  const int filters = currentSeccompFilterCount();
  if (mode == CacheMode::Use && filters > 0) {
    out.cache = CacheState::Filtered;
    out.cacheNote = "this process runs under " + std::to_string(filters) +
                    " seccomp filter(s), which may answer in the kernel's place: discovered "
                    "afresh, the cache neither read nor written";
  } else if (mode == CacheMode::Use && key) {
    out.cacheDir = defaultCacheDir();
    CacheLoad load = loadCache(out.cacheDir, *key);
    out.cache = load.state;
    out.cacheNote = load.note;
    if (load.features) {
      out.features = std::move(*load.features);
      out.micros = nowMicros() - start;
      return out;
    }
  } else if (mode == CacheMode::Use) {
    out.cache = CacheState::Unavailable;
    out.cacheNote = key.error().message();
  }

  utsname u{};
  if (uname(&u) != 0)
    return Error::fromErrno(errno, "uname");
  auto version = KernelVersion::parse(u.release);
  if (!version)
    return Error(EINVAL, std::string("cannot parse kernel release '") + u.release + "'");
  LiveBackend live;
  out.features = discover(live, *version, DiscoveryOptions{privileged});
  out.features.release = u.release;

  if (mode == CacheMode::Use && filters == 0 && key && !out.cacheDir.empty()) {
    if (auto st = storeCache(out.cacheDir, *key, out.features); !st)
      out.cacheNote += (out.cacheNote.empty() ? "" : "; ") + st.error().message();
  }
  out.micros = nowMicros() - start;
  return out;
}

}  // namespace extsys::kernel
