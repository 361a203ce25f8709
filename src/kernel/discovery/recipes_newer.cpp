// SPDX-License-Identifier: MIT
// kernel/discovery/recipes_newer.cpp - the recipes for the extensible-struct
// syscalls after the RFC: open_tree_attr, setxattrat, getxattrat,
// file_setattr, file_getattr and landlock_create_ruleset
// (src/kernel/discovery/RECIPES.md). Every call passes dfd -1 and an empty
// path (and an empty xattr name), and none passes AT_EMPTY_PATH together
// with a struct that could be applied: the kernel fails each one before it
// looks anything up.
#include <cerrno>

#include "base/errno_name.h"
#include "kernel/abi/uapi_flags.h"
#include "kernel/discovery/recipes.h"

namespace extsys::kernel::recipes {
namespace {

using namespace uapi;

void fallBack(Context& c, SyscallId id, const std::string& why) {
  auto& rep = c.f.report(id);
  rep.source = FeatureSource::Table;
  rep.note = why + ": values from the version table";
  c.f.of(id) = c.table.of(id);
  c.f.of(id).present = true;
}

// A struct one size larger than `size` with a non-zero byte at `size` must
// give E2BIG: the kernel knows no field there.
void checkNoLargerStruct(Context& c, SyscallId id, uint32_t size, uint32_t flags) {
  ProbeCall p = call(size + 8);
  p.flags = flags;
  p.buf[size] = 1;
  if (int err = c.kernel.call(id, p); err != E2BIG)
    appendNote(c.f.report(id), std::string(describe(id).name) + "'s struct seems larger than " +
                                   std::to_string(size) + " bytes (non-zero byte " +
                                   std::to_string(size) + " gave " + errnoName(err) +
                                   "); extsys answers with the layout it knows");
}

// An argument checked before the size: each bit with a NULL struct and a
// size above the page gives E2BIG when accepted, EINVAL when not.
uint64_t probeArgBeforeSize(Context& c, SyscallId id) {
  uint64_t bits = 0;
  for (int b = 0; b < 32; ++b) {
    ProbeCall p = call(kAbovePage);
    p.nullStruct = true;
    p.flags = 1U << b;
    if (c.kernel.call(id, p) == E2BIG)
      bits |= 1ULL << b;
  }
  return bits;
}

}  // namespace

// --- open_tree_attr ---------------------------------------------------------

// The flags argument, in this process: open_tree_attr(-1, "", flag,
// &zero, 32) fails at the path (ENOENT; EBADF with AT_EMPTY_PATH, for the
// dfd -1) or at the privilege check (EPERM) when the flag is accepted, with
// EINVAL when not. AT_RECURSIVE is only valid with OPEN_TREE_CLONE.
void startOpenTreeAttr(Context& c) {
  auto& rep = c.f.report(SyscallId::OpenTreeAttr);
  uint64_t flags = 0;
  for (int b = 0; b < 32; ++b) {
    const uint64_t bit = 1ULL << b;
    ProbeCall p = call(32);
    p.flags = static_cast<uint32_t>(bit == kAtRecursive ? bit | kOpenTreeClone : bit);
    const int err = c.kernel.call(SyscallId::OpenTreeAttr, p);
    if (err == ENOENT || err == EBADF || err == EPERM)
      flags |= bit;
    else if (err != EINVAL)
      appendNote(rep, "flag " + std::to_string(b) + " gave " + errnoName(err) + ", not counted");
  }
  c.f.of(SyscallId::OpenTreeAttr).args[0] = flags;
}

// The struct: open_tree_attr reads it only after opening the tree, so it is
// not probed itself; since 6.15 mount_setattr validates it with the same
// code, and its results (probe or table) are taken.
void finishOpenTreeAttr(Context& c, const ChildResult&) {
  const SyscallFeatures& m = c.f.of(SyscallId::MountSetattr);
  SyscallFeatures& o = c.f.of(SyscallId::OpenTreeAttr);
  o.fields = m.fields;
  o.structSize = describe(SyscallId::OpenTreeAttr).layoutSize();
  auto& rep = c.f.report(SyscallId::OpenTreeAttr);
  const auto& mrep = c.f.report(SyscallId::MountSetattr);
  rep.source = mrep.source;
  appendNote(rep, std::string("struct mount_attr from mount_setattr (") + sourceName(mrep.source) +
                      "; the same validation code since 6.15), flags probed");
}

// --- setxattrat, getxattrat -------------------------------------------------

// xattr_args.flags and the at_flags argument, in this process:
// *xattrat(-1, "", at_flags, "", &args, 16) fails importing the empty name
// (ERANGE) once the flags passed, with EINVAL when they did not.
namespace {
void startXattrat(Context& c, SyscallId id) {
  auto attempt = [&](uint32_t argsFlags, uint32_t atFlags) {
    ProbeCall p = call(16);
    p.put32(12, argsFlags);
    p.flags = atFlags;
    return c.kernel.call(id, p);
  };
  if (int err = attempt(0, 0); err != ERANGE) {
    fallBack(c, id, std::string("the control probe gave ") + errnoName(err) + ", not ERANGE");
    return;
  }
  uint64_t flags = 0, at = 0;
  for (int b = 0; b < 32; ++b) {
    if (attempt(1U << b, 0) == ERANGE)
      flags |= 1ULL << b;
    if (attempt(0, 1U << b) == ERANGE)
      at |= 1ULL << b;
  }
  c.f.setField(id, "flags", flags);
  c.f.of(id).args[0] = at;
  c.f.of(id).structSize = 16;
  checkNoLargerStruct(c, id, 16, 0);
}
}  // namespace

void startSetxattrat(Context& c) { startXattrat(c, SyscallId::Setxattrat); }
void startGetxattrat(Context& c) { startXattrat(c, SyscallId::Getxattrat); }

// --- file_setattr, file_getattr ---------------------------------------------

// fa_xflags: file_setattr(-1, "", &fa, 24, 0) fails at the empty path
// (ENOENT) once the flags passed, EINVAL when not. at_flags is 0 here:
// AT_EMPTY_PATH with an empty path would act on the directory of the dfd.
// at_flags itself is checked before the size (probeArgBeforeSize).
void startFileSetattr(Context& c) {
  const SyscallId id = SyscallId::FileSetattr;
  auto attempt = [&](uint64_t xflags) {
    ProbeCall p = call(24);
    p.put(0, xflags);
    return c.kernel.call(id, p);
  };
  if (int err = attempt(0); err != ENOENT) {
    fallBack(c, id, std::string("the control probe gave ") + errnoName(err) + ", not ENOENT");
    return;
  }
  uint64_t xflags = 0;
  for (int b = 0; b < 64; ++b)
    if (attempt(1ULL << b) == ENOENT)
      xflags |= 1ULL << b;
  c.f.setField(id, "fa_xflags", xflags);
  c.f.of(id).args[0] = probeArgBeforeSize(c, id);
  c.f.of(id).structSize = 24;
  checkNoLargerStruct(c, id, 24, 0);
}

// file_getattr never reads its struct: the flags it can report are
// FS_XFLAGS_MASK, which file_setattr validates against (taken from its
// probe). at_flags is probed on its own.
void startFileGetattr(Context& c) {
  const SyscallId id = SyscallId::FileGetattr;
  auto& rep = c.f.report(id);
  const auto& srep = c.f.report(SyscallId::FileSetattr);
  if (!c.f.of(SyscallId::FileSetattr).present) {
    fallBack(c, id, "file_setattr is missing");
  } else {
    c.f.of(id).fields = c.f.of(SyscallId::FileSetattr).fields;
    c.f.of(id).structSize = c.f.of(SyscallId::FileSetattr).structSize;
    rep.source = srep.source;
    appendNote(rep, std::string("fa_xflags from file_setattr (") + sourceName(srep.source) +
                        "; the same FS_XFLAGS_MASK), at_flags probed");
  }
  c.f.of(id).args[0] = probeArgBeforeSize(c, id);
}

// --- landlock_create_ruleset ------------------------------------------------

namespace {

constexpr SyscallId kLandlock = SyscallId::LandlockCreateRuleset;

ProbeCall landlockCall(uint64_t size, size_t offset, uint64_t bits) {
  ProbeCall p = call(size);
  p.put(offset, bits);
  return p;
}

}  // namespace

// The ABI version here (the documented way); the per-field bits in the
// probe child, with RLIMIT_NOFILE at 0: a ruleset that passed validation
// cannot get an fd (EMFILE) and is freed at once.
void startLandlock(Context& c) {
  auto& rep = c.f.report(kLandlock);
  SyscallFeatures& s = c.f.of(kLandlock);
  ProbeCall version = call(0);
  version.nullStruct = true;
  version.flags = static_cast<uint32_t>(kLandlockCreateRulesetVersion);
  const int err = c.kernel.call(kLandlock, version);
  if (err == EOPNOTSUPP) {
    s = {};
    s.present = true;
    s.disabledErrno = EOPNOTSUPP;
    c.f.landlockAbi = 0;
    rep.note = "Landlock is built in but not enabled (see lsm= on the kernel command line): "
               "probes are answered EOPNOTSUPP, as the kernel answers every call";
    return;
  }
  if (err != 0 || version.result <= 0) {
    fallBack(c, kLandlock, std::string("the ABI version query gave ") + errnoName(err));
    return;
  }
  c.f.landlockAbi = static_cast<int>(version.result);
  if (c.f.landlockAbi != c.table.landlockAbi)
    appendNote(rep, "Landlock ABI " + std::to_string(c.f.landlockAbi) + ", the version table says " +
                        std::to_string(c.table.landlockAbi));
  LandlockPlan& p = c.landlock;
  std::vector<ProbeCall>& calls = c.req.landlock;
  auto add = [&](const ProbeCall& pc) {
    calls.push_back(pc);
    return calls.size() - 1;
  };
  p.inChild = true;
  const auto& fields = describe(kLandlock).fields;
  calls.reserve(1 + fields.size() * 64 + 3);  // no regrowth (fresh heap pages fault)
  p.bits.reserve(fields.size() * 64);
  add(landlockCall(24, 0, kLandlockFsExecute));  // the guard: must be EMFILE
  for (size_t f = 0; f < fields.size(); ++f)
    for (int b = 0; b < 64; ++b)
      p.bits.push_back({f, b, add(landlockCall(24, fields[f].offset, 1ULL << b))});
  // The struct size: a non-zero byte where the next field would start.
  for (uint32_t size : {8u, 16u, 24u}) {
    ProbeCall big = landlockCall(size + 8, 0, kLandlockFsExecute);
    big.buf[size] = 1;
    p.sizeProbes.push_back({size, add(big)});
  }
}

void finishLandlock(Context& c, const ChildResult& res) {
  const LandlockPlan& p = c.landlock;
  if (!p.inChild)
    return;
  auto& rep = c.f.report(kLandlock);
  SyscallFeatures& s = c.f.of(kLandlock);
  const std::vector<int>& errs = res.landlock;
  const bool guardFailed = !errs.empty() && errs[0] != EMFILE;
  if (guardFailed || errs.size() != c.req.landlock.size()) {
    // The documented fallback: the masks of the ABI version's release.
    const auto release = releaseOfLandlockAbi(c.f.landlockAbi);
    const std::string why =
        guardFailed ? std::string("guard failed: a valid ruleset with RLIMIT_NOFILE=0 gave ") +
                          (errs[0] == 0 ? "an fd" : errnoName(errs[0])) + " instead of EMFILE"
                    : "probe child did not run (" +
                          (res.landlockNote.empty() ? res.error : res.landlockNote) + ")";
    if (release) {
      s = featuresForVersion(*release).of(kLandlock);
      rep.source = FeatureSource::Table;
      rep.note = why + ": masks of Landlock ABI " + std::to_string(c.f.landlockAbi) +
                 " (Linux " + std::to_string(release->major) + "." +
                 std::to_string(release->minor) + ")";
    } else {
      fallBack(c, kLandlock, why);
    }
    return;
  }
  s.fields = {};
  for (const auto& [field, bit, i] : p.bits)
    if (errs[i] == EMFILE)
      s.fields[field] |= 1ULL << bit;
  s.structSize = 24;
  for (const auto& [size, i] : p.sizeProbes) {
    if (errs[i] == E2BIG) {
      s.structSize = size;
      break;
    }
  }
  if (errs[p.sizeProbes.back().second] != E2BIG)
    appendNote(rep, "landlock_ruleset_attr seems larger than 24 bytes (non-zero byte 24 gave " +
                        std::string(errnoName(errs[p.sizeProbes.back().second])) + ")");
}

}  // namespace extsys::kernel::recipes
