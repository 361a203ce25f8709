// SPDX-License-Identifier: MIT
// kernel/abi/uapi_landlock.h - the Landlock UAPI (include/uapi/linux/
// landlock.h) that launcher/containment.cpp uses. Debian 12's linux-libc-dev
// is 6.1 (Landlock ABI 2): it has no `scoped` member and no scope flags, so
// the values are spelled out here. The syscall numbers are the same on every
// architecture (the unified table from 424 on).
#pragma once

#include <cstddef>
#include <cstdint>

namespace extsys::uapi {

inline constexpr long kNrLandlockCreateRuleset = 444;
inline constexpr long kNrLandlockAddRule = 445;
inline constexpr long kNrLandlockRestrictSelf = 446;
inline constexpr unsigned kLandlockCreateRulesetVersion = 1U << 0;
inline constexpr int kLandlockRulePathBeneath = 1;
inline constexpr uint64_t kLandlockAccessFsMakeBlock = 1ULL << 11;  // ABI 1
inline constexpr uint64_t kLandlockAccessFsRefer = 1ULL << 13;      // ABI 2
inline constexpr uint64_t kLandlockScopeAbstractUnixSocket = 1ULL << 0;  // ABI 6
inline constexpr uint64_t kLandlockScopeSignal = 1ULL << 1;              // ABI 6
inline constexpr int kLandlockFirstScopedAbi = 6;

struct LandlockRulesetAttr {  // struct landlock_ruleset_attr, ABI 6 layout
  uint64_t handledAccessFs;
  uint64_t handledAccessNet;  // ABI 4
  uint64_t scoped;            // ABI 6
};
static_assert(sizeof(LandlockRulesetAttr) == 24);
inline constexpr size_t kLandlockRulesetAttrSizeAbi1 = 8;  // handled_access_fs only

struct __attribute__((packed)) LandlockPathBeneathAttr {
  uint64_t allowedAccess;
  int32_t parentFd;
};
static_assert(sizeof(LandlockPathBeneathAttr) == 12);

}  // namespace extsys::uapi
