// SPDX-License-Identifier: MIT
// kernel/discovery/recipes.h - what the per-syscall discovery recipes share
// (internal to discovery/). discovery.cpp runs the generic part for every
// syscall of the descriptor table (does it exist, does the kernel answer
// CHECK_FIELDS itself, known bits, comparison with the table); a recipe
// finds the accepted bits of one syscall. Each recipe and why it is safe:
// src/kernel/discovery/RECIPES.md.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "kernel/discovery/discovery.h"

namespace extsys::kernel::recipes {

// Larger than any page (4K-64K): the size check fails with E2BIG after the
// checks on other arguments, before anything is read or looked up.
inline constexpr uint64_t kAbovePage = 1ULL << 20;

// Where a recipe's calls went to the probe child, what each one tests.
struct MountPlan {
  bool inChild = false;  // the calls go to the probe child
  std::vector<ProbeCall> calls;
  std::vector<std::pair<uint64_t, size_t>> set, clr, prop;
  size_t noatime = 0, strict = 0, clrAtime = 0, bigStruct = 0;
};

struct Clone3Plan {
  bool inChild = false;
  std::vector<std::pair<uint64_t, size_t>> flags;  // a clone3-only flag bit, its call
  size_t setTid = 0, cgroup = 0, newField = 0;
};

struct LandlockPlan {
  bool inChild = false;
  struct Bit {
    size_t field;
    int bit;
    size_t call;
  };
  std::vector<Bit> bits;
  std::vector<std::pair<uint32_t, size_t>> sizeProbes;  // size, its call (ascending)
};

// One discovery run: the backend, the table and the features being filled,
// and the requests for the one probe child.
struct Context {
  ProbeBackend& kernel;
  DiscoveryOptions options;
  const KernelFeatures& table;
  KernelFeatures& f;
  ChildRequest req;
  MountPlan mount;
  Clone3Plan clone3;
  LandlockPlan landlock;
};

// A recipe: `start` makes the in-process probes and may ask the probe child
// for more; `finish` reads the child's results. Both write the accepted
// bits as the kernel reported them: discovery.cpp intersects them with the
// known bits afterwards. A recipe sets the report's source (Probe, or Table
// with the reason).
struct Recipe {
  SyscallId id;
  void (*start)(Context& c);
  void (*finish)(Context& c, const ChildResult& res);  // may be null
};

ProbeCall call(uint64_t size);
void appendNote(SyscallReport& r, const std::string& note);

// recipes_classic.cpp: openat2, clone3, mount_setattr.
void startOpenat2(Context& c);
void startClone3(Context& c);
void finishClone3(Context& c, const ChildResult& res);
void startMountSetattr(Context& c);
void finishMountSetattr(Context& c, const ChildResult& res);

// recipes_newer.cpp: open_tree_attr, setxattrat, getxattrat, file_setattr,
// file_getattr, landlock_create_ruleset.
void startOpenTreeAttr(Context& c);
void finishOpenTreeAttr(Context& c, const ChildResult& res);
void startSetxattrat(Context& c);
void startGetxattrat(Context& c);
void startFileSetattr(Context& c);
void startFileGetattr(Context& c);
void startLandlock(Context& c);
void finishLandlock(Context& c, const ChildResult& res);

}  // namespace extsys::kernel::recipes
