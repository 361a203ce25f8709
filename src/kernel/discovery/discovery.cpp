// SPDX-License-Identifier: MIT
// kernel/discovery/discovery.cpp - the generic part of discovery, the same
// for every syscall of the descriptor table: existence, a native
// CHECK_FIELDS answer, the recipes (recipes_*.cpp) with the one probe child,
// then known bits and the comparison with the version table. Each recipe
// and why it is safe: src/kernel/discovery/RECIPES.md.
#include "kernel/discovery/discovery.h"

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "base/errno_name.h"
#include "kernel/abi/uapi_compat.h"
#include "kernel/discovery/recipes.h"

namespace extsys::kernel {

void ProbeCall::put(size_t offset, uint64_t v) { std::memcpy(buf.data() + offset, &v, sizeof v); }
void ProbeCall::put32(size_t offset, uint32_t v) {
  std::memcpy(buf.data() + offset, &v, sizeof v);
}
uint64_t ProbeCall::get(size_t offset) const {
  uint64_t v;
  std::memcpy(&v, buf.data() + offset, sizeof v);
  return v;
}

namespace recipes {

ProbeCall call(uint64_t size) {
  ProbeCall c;
  c.size = size;
  return c;
}

void appendNote(SyscallReport& r, const std::string& note) {
  r.note += (r.note.empty() ? "" : "; ") + note;
}

}  // namespace recipes

namespace {

using recipes::Context;
using recipes::Recipe;

// The recipes, in the order they run (a recipe may use the results of one
// before it).
constexpr Recipe kRecipes[] = {
    {SyscallId::Openat2, recipes::startOpenat2, nullptr},
    {SyscallId::MountSetattr, recipes::startMountSetattr, recipes::finishMountSetattr},
    {SyscallId::OpenTreeAttr, recipes::startOpenTreeAttr, recipes::finishOpenTreeAttr},
    {SyscallId::Clone3, recipes::startClone3, recipes::finishClone3},
    {SyscallId::Setxattrat, recipes::startSetxattrat, nullptr},
    {SyscallId::Getxattrat, recipes::startGetxattrat, nullptr},
    {SyscallId::FileSetattr, recipes::startFileSetattr, nullptr},
    {SyscallId::FileGetattr, recipes::startFileGetattr, nullptr},
    {SyscallId::LandlockCreateRuleset, recipes::startLandlock, recipes::finishLandlock},
};
static_assert(std::size(kRecipes) == kSyscallCount, "a recipe for every syscall");

// The call that tells whether a syscall exists: a NULL struct and size 1,
// below every VER0. Each kernel fails it at its first check (EINVAL; EFAULT
// for Landlock's NULL struct; EOPNOTSUPP where Landlock is off) before it
// reads or looks up anything; only a missing syscall gives ENOSYS.
bool exists(ProbeBackend& kernel, SyscallId id) {
  ProbeCall c = recipes::call(1);
  c.nullStruct = true;
  return kernel.call(id, c) != ENOSYS;
}

// The kernel answered CHECK_FIELDS itself: any errno but the ones a kernel
// without it gives, with the buffer written.
bool nativeAnswer(int err, const ProbeCall& c) {
  if (err == E2BIG || err == EFAULT || err == EINVAL || err == ENOSYS || err == EPERM ||
      err == ENOENT || err == 0)
    return false;
  for (uint8_t b : c.buf)
    if (b != 0)
      return true;
  return false;
}

uint64_t load(const ProbeCall& c, const FieldDesc& f) {
  const uint64_t v = c.get(f.offset);
  return f.width == 8 ? v : v & f.allOnes();
}

// The running kernel's own CHECK_FIELDS answer, if it gives one: the
// features are read back from the image (the struct size is where the last
// non-zero field ends).
bool takeNativeAnswer(ProbeBackend& kernel, const SyscallDesc& d, KernelFeatures& f) {
  ProbeCall answer = recipes::call(uapi::kCheckFields | 128);
  const int err = kernel.call(d.id, answer);
  if (!nativeAnswer(err, answer))
    return false;
  SyscallFeatures& s = f.of(d.id);
  s.present = true;
  s.structSize = d.ver0();
  for (size_t i = 0; i < d.fields.size(); ++i) {
    const FieldDesc& fd = d.fields[i];
    const uint64_t v = load(answer, fd);
    if (fd.isFlags())
      s.fields[i] = v & ~fd.value;
    if (v != 0 && d.sizes.size() > 1)
      s.structSize = std::max<uint32_t>(s.structSize, fd.offset + fd.width);
  }
  if (d.sizes.size() == 1)
    s.structSize = d.layoutSize();
  auto& rep = f.report(d.id);
  rep.source = FeatureSource::Native;
  rep.note = std::string("the kernel answers CHECK_FIELDS itself (") + errnoName(err) + ")";
  return true;
}

void markAbsent(KernelFeatures& f, const SyscallDesc& d) {
  f.of(d.id) = {};
  auto& rep = f.report(d.id);
  rep.source = FeatureSource::Probe;
  rep.note = std::string(d.name) + " is not in this kernel (ENOSYS)";
}

void compare(SyscallReport& r, std::string field, uint64_t table, uint64_t probe) {
  if (table != probe)
    r.disagreements.push_back({std::move(field), table, probe});
}

// What every probed syscall gets: bits extsys knows only, the rest
// reported; then the comparison with the version table.
void finalize(const SyscallDesc& d, const KnownBits& known, const KernelFeatures& table,
              KernelFeatures& f) {
  SyscallFeatures& s = f.of(d.id);
  const SyscallFeatures& k = known.syscalls[static_cast<size_t>(d.id)];
  SyscallReport& rep = f.report(d.id);
  if (!s.present || rep.source == FeatureSource::Native)
    return;
  const bool probed = rep.source == FeatureSource::Probe;
  for (size_t i = 0; i < d.fields.size(); ++i) {
    const FieldDesc& fd = d.fields[i];
    if (!fd.isFlags())
      continue;
    uint64_t knownBits = k.fields[i];
    if (fd.role == FieldRole::CopyOf)
      knownBits |= k.fields[fd.value];
    if (fd.role == FieldRole::Mask && probed)
      rep.unknownAccepted |= s.fields[i] & ~knownBits;
    s.fields[i] &= knownBits;
  }
  for (size_t i = 0; i < d.args.size(); ++i) {
    if (probed)
      rep.unknownAccepted |= s.args[i] & ~k.args[i];
    s.args[i] &= k.args[i];
  }
  const SyscallFeatures& t = table.of(d.id);
  if (!probed || !t.present || s.disabledErrno != 0)
    return;
  for (size_t i = 0; i < d.fields.size(); ++i)
    if (d.fields[i].isFlags())
      compare(rep, std::string(d.fields[i].name), t.fields[i], s.fields[i]);
  for (size_t i = 0; i < d.args.size(); ++i)
    if (!d.args[i].fixedMask)
      compare(rep, std::string(d.args[i].name) + " (argument)", t.args[i], s.args[i]);
  if (d.sizes.size() > 1)
    compare(rep, "struct_size", t.structSize, s.structSize);
}

void finishNotify(const ChildResult& res, KernelFeatures& f) {
  if (res.notify.tested)
    f.notify = res.notify;
  else
    f.notify.note = "not tested (" + (res.error.empty() ? res.notify.note : res.error) +
                    "); from the version table";
}

}  // namespace

KernelFeatures discover(ProbeBackend& kernel, KernelVersion version, DiscoveryOptions options) {
  const KernelFeatures table = featuresForVersion(version);
  const KnownBits known = knownBits(version);
  KernelFeatures f = table;
  Context ctx{kernel, options, table, f, {}, {}, {}, {}};

  // Existence and native answers, then the recipes' own probes. What cannot
  // be probed here goes to the one throw-away probe child.
  std::array<bool, kSyscallCount> run{};
  for (const Recipe& r : kRecipes) {
    const SyscallDesc& d = describe(r.id);
    if (!exists(kernel, r.id)) {
      markAbsent(f, d);
      continue;
    }
    f.of(r.id).present = true;
    if (takeNativeAnswer(kernel, d, f))
      continue;
    f.report(r.id).source = FeatureSource::Probe;
    r.start(ctx);
    run[static_cast<size_t>(r.id)] = true;
  }
  const ChildResult res = kernel.runChild(ctx.req);
  finishNotify(res, f);
  for (const Recipe& r : kRecipes)
    if (run[static_cast<size_t>(r.id)] && r.finish != nullptr)
      r.finish(ctx, res);
  for (const auto& d : syscallTable())
    finalize(d, known, table, f);
  return f;
}

}  // namespace extsys::kernel
