// SPDX-License-Identifier: MIT
// filter/seccomp_filter.cpp - rule table -> libseccomp program.
#include "filter/seccomp_filter.h"

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cstring>
#include <memory>

#include "base/unique_fd.h"
#include "kernel/abi/arch.h"

namespace extsys::filter {
namespace {

struct CtxDeleter {
  void operator()(void* ctx) const { seccomp_release(ctx); }
};
using Ctx = std::unique_ptr<void, CtxDeleter>;

uint32_t seccompAction(const Action& a) {
  switch (a.kind) {
    case ActionKind::Allow: return SCMP_ACT_ALLOW;
    case ActionKind::Notify: return SCMP_ACT_NOTIFY;
    case ActionKind::Errno: return SCMP_ACT_ERRNO(static_cast<uint16_t>(a.err));
  }
  return SCMP_ACT_KILL_PROCESS;
}

scmp_compare seccompOp(CmpOp op) {
  switch (op) {
    case CmpOp::MaskedEq: return SCMP_CMP_MASKED_EQ;
    case CmpOp::Ne: return SCMP_CMP_NE;
  }
  return _SCMP_CMP_MIN;
}

Status addRule(Ctx& ctx, const Rule& r, const kernel::ArchDesc& arch) {
  int nr = kernel::syscallNr(arch, r.syscall);
  if (nr < 0)
    return Error(ENOSYS, "libseccomp does not know syscall '" + r.syscall + "' on " +
                             std::string(arch.name));
  if (arch.auditArch != seccomp_arch_native()) {
    // libseccomp reads a rule's number in the native numbering and
    // translates it by name for each architecture of the filter: another
    // architecture's program is given the native number, and a name the
    // native table does not know (a syscall newer than libseccomp) cannot
    // be rendered for another architecture.
    nr = seccomp_syscall_resolve_name(r.syscall.c_str());
    if (nr < 0)
      return Error(ENOSYS, "libseccomp cannot render syscall '" + r.syscall + "' for " +
                               std::string(arch.name) + " on this host (its table lacks it)");
  }
  // 64-bit compares: libseccomp tests the high and the low word, and skips
  // a word whose mask is 0 (a 32-bit equality tests the low word only).
  // SCMP_CMP_NE takes the value in datum_a.
  std::vector<scmp_arg_cmp> cmps;
  for (const auto& c : r.conditions) {
    if (c.op == CmpOp::Ne)
      cmps.push_back({c.arg, SCMP_CMP_NE, c.value, 0});
    else
      cmps.push_back({c.arg, seccompOp(c.op), c.mask, c.value});
  }
  int rc = seccomp_rule_add_exact_array(ctx.get(), seccompAction(r.action), nr,
                                        static_cast<unsigned>(cmps.size()),
                                        cmps.empty() ? nullptr : cmps.data());
  if (rc < 0)
    return Error::fromErrno(-rc, "seccomp_rule_add(" + r.syscall + ")");
  return okStatus();
}

Result<Ctx> buildCtx(const RuleSet& rules, const kernel::ArchDesc& arch) {
  Ctx ctx(seccomp_init(seccompAction(rules.defaultAction)));
  if (!ctx)
    return Error(ENOMEM, "seccomp_init failed");
  if (arch.auditArch != seccomp_arch_native()) {
    // Another architecture's program: its arch instead of the native one.
    if (int rc = seccomp_arch_add(ctx.get(), arch.auditArch); rc < 0)
      return Error::fromErrno(-rc, "seccomp_arch_add(" + std::string(arch.name) + ")");
    if (int rc = seccomp_arch_remove(ctx.get(), SCMP_ARCH_NATIVE); rc < 0)
      return Error::fromErrno(-rc, "seccomp_arch_remove(native)");
  }
  const uint32_t foreignAbi = seccompAction(rules.foreignAbi);
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, foreignAbi); rc < 0)
    return Error::fromErrno(-rc, "seccomp_attr_set(ACT_BADARCH)");
  // The launcher sets no_new_privs and loads the program itself.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0); rc < 0)
    return Error::fromErrno(-rc, "seccomp_attr_set(CTL_NNP)");
  for (const auto& r : rules.rules)
    if (auto st = addRule(ctx, r, arch); !st)
      return std::move(st).error();
  return ctx;
}

Result<std::string> exportTo(const RuleSet& rules, const kernel::ArchDesc& arch,
                             int (*exporter)(const scmp_filter_ctx, int)) {
  auto ctx = buildCtx(rules, arch);
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

Result<BpfProgram> buildFilter(const RuleSet& rules, const kernel::ArchDesc& arch) {
  auto bytes = exportTo(rules, arch, seccomp_export_bpf);
  if (!bytes)
    return std::move(bytes).error();
  if (bytes->empty() || bytes->size() % sizeof(sock_filter) != 0)
    return Error(EINVAL, "libseccomp exported a malformed program");
  // The kernel refuses longer programs (EINVAL), and sock_fprog.len is an
  // unsigned short: a longer one must never be cut to fit.
  const size_t count = bytes->size() / sizeof(sock_filter);
  if (count > BPF_MAXINSNS)
    return Error(E2BIG, "the seccomp program has " + std::to_string(count) +
                            " instructions, more than the kernel's limit of " +
                            std::to_string(BPF_MAXINSNS) + " (BPF_MAXINSNS); use fewer rules");
  BpfProgram prog;
  prog.insns.resize(count);
  std::memcpy(prog.insns.data(), bytes->data(), bytes->size());
  return prog;
}

Result<BpfProgram> buildFilter(const policy::EffectivePolicy& p, const kernel::ArchDesc& arch) {
  return buildFilter(buildRules(p, arch), arch);
}

Result<std::string> filterPfc(const RuleSet& rules, const kernel::ArchDesc& arch) {
  return exportTo(rules, arch, seccomp_export_pfc);
}

Result<std::string> filterPfc(const policy::EffectivePolicy& p, const kernel::ArchDesc& arch) {
  return filterPfc(buildRules(p, arch), arch);
}

}  // namespace extsys::filter
