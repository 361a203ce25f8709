// SPDX-License-Identifier: MIT
// filter/seccomp_filter.cpp - libseccomp program construction.
#include "filter/seccomp_filter.h"

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <memory>

#include "base/unique_fd.h"
#include "kernel/uapi_compat.h"

namespace extsys::filter {
namespace {

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

constexpr uint64_t kCF = uapi::kCheckFields;

Status addRule(Ctx& ctx, uint32_t action, int nr, std::vector<scmp_arg_cmp> cmps,
               const std::string& what) {
  int rc = seccomp_rule_add_exact_array(ctx.get(), action, nr, static_cast<unsigned>(cmps.size()),
                                        cmps.empty() ? nullptr : cmps.data());
  if (rc < 0)
    return Error::fromErrno(-rc, "seccomp_rule_add(" + what + ")");
  return okStatus();
}

Result<Ctx> buildCtx(const policy::EffectivePolicy& p) {
  using policy::CallMode;
  using policy::ProbeMode;
  Ctx ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx)
    return Error(ENOMEM, "seccomp_init failed");
  // Foreign ABIs (i386, x32) cannot express CHECK_FIELDS: allowed, unless a
  // strict policy closes them.
  const uint32_t badArch = p.foreignAbisEnosys ? SCMP_ACT_ERRNO(ENOSYS) : SCMP_ACT_ALLOW;
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, badArch); rc < 0)
    return Error::fromErrno(-rc, "seccomp_attr_set(ACT_BADARCH)");
  // The launcher sets no_new_privs and loads the program itself.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0); rc < 0)
    return Error::fromErrno(-rc, "seccomp_attr_set(CTL_NNP)");

  for (const auto& d : kernel::syscallTable()) {
    const int nr = nativeSyscallNr(d);
    if (nr < 0)
      return Error(ENOSYS, "libseccomp does not know syscall '" + std::string(d.name) + "'");
    const auto& es = p.of(d.id);
    const std::string name(d.name);
    Status st = okStatus();
    // 64-bit masked compares: libseccomp tests the high word and skips the
    // low word (mask 0).
    const scmp_arg_cmp probe{d.sizeArg, SCMP_CMP_MASKED_EQ, kCF, kCF};
    const scmp_arg_cmp call{d.sizeArg, SCMP_CMP_MASKED_EQ, kCF, 0};
    const bool notifyProbes = es.probe == ProbeMode::Emulate;
    const bool notifyCalls = es.call == CallMode::Restrict;
    if (es.call == CallMode::Hide)
      st = addRule(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, {}, name);
    else if (notifyProbes && notifyCalls)
      st = addRule(ctx, SCMP_ACT_NOTIFY, nr, {}, name);
    else if (notifyProbes)
      st = addRule(ctx, SCMP_ACT_NOTIFY, nr, {probe}, name);
    else if (notifyCalls)
      st = addRule(ctx, SCMP_ACT_NOTIFY, nr, {call}, name);
    if (!st)
      return std::move(st).error();
  }

  std::vector<std::string> unconditional = p.enosys;
  for (const auto& name : p.enosys) {
    const int nr = kernel::nativeSyscallNr(name);
    if (nr < 0)
      return Error(ENOSYS, "unknown syscall '" + name + "'");
    if (auto st = addRule(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, {}, name); !st)
      return std::move(st).error();
  }
  for (const auto& r : p.argRules)
    if (r.forbidden == 0)
      unconditional.push_back(r.syscall);
  for (const auto& r : p.argRules) {
    const int nr = kernel::nativeSyscallNr(r.syscall);
    if (nr < 0)
      return Error(ENOSYS, "unknown syscall '" + r.syscall + "'");
    const bool always = std::find(unconditional.begin(), unconditional.end(), r.syscall) !=
                        unconditional.end();
    if (r.forbidden == 0) {
      if (std::count(p.enosys.begin(), p.enosys.end(), r.syscall) == 0)
        if (auto st = addRule(ctx, SCMP_ACT_ERRNO(static_cast<uint16_t>(r.err)), nr, {}, r.syscall); !st)
          return std::move(st).error();
      continue;
    }
    if (always)
      continue;  // already denied whatever its arguments
    // One rule per forbidden bit: "(arg & bit) == bit" -> ERRNO.
    for (int b = 0; b < 64; ++b) {
      const uint64_t bit = 1ULL << b;
      if (!(r.forbidden & bit))
        continue;
      const scmp_arg_cmp c{r.arg, SCMP_CMP_MASKED_EQ, bit, bit};
      if (auto st = addRule(ctx, SCMP_ACT_ERRNO(static_cast<uint16_t>(r.err)), nr, {c}, r.syscall); !st)
        return std::move(st).error();
    }
  }
  return ctx;
}

Result<std::string> exportTo(const policy::EffectivePolicy& p,
                             int (*exporter)(const scmp_filter_ctx, int)) {
  auto ctx = buildCtx(p);
  if (!ctx)
    return std::move(ctx).error();
  UniqueFd mem(memfd_create("extsys-filter", MFD_CLOEXEC));
  if (!mem.valid())
    return Error::fromErrno(errno, "memfd_create");
  if (int rc = exporter(ctx->get(), mem.get()); rc < 0)
    return Error::fromErrno(-rc, "exporting the seccomp program");
  std::string out;
  char buf[4096];
  for (off_t off = 0;;) {
    ssize_t n = pread(mem.get(), buf, sizeof buf, off);
    if (n < 0)
      return Error::fromErrno(errno, "reading the exported program");
    if (n == 0)
      break;
    out.append(buf, static_cast<size_t>(n));
    off += n;
  }
  return out;
}

}  // namespace

int nativeSyscallNr(const kernel::SyscallDesc& d) { return kernel::nativeSyscallNr(d.name); }

uint32_t nativeAuditArch() { return seccomp_arch_native(); }

Result<BpfProgram> buildFilter(const policy::EffectivePolicy& p) {
  auto bytes = exportTo(p, seccomp_export_bpf);
  if (!bytes)
    return std::move(bytes).error();
  if (bytes->empty() || bytes->size() % sizeof(sock_filter) != 0)
    return Error(EINVAL, "libseccomp exported a malformed program");
  BpfProgram prog;
  prog.insns.resize(bytes->size() / sizeof(sock_filter));
  std::memcpy(prog.insns.data(), bytes->data(), bytes->size());
  return prog;
}

Result<std::string> filterPfc(const policy::EffectivePolicy& p) {
  return exportTo(p, seccomp_export_pfc);
}

}  // namespace extsys::filter
