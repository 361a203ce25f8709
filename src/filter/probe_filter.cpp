// SPDX-License-Identifier: MIT
// filter/probe_filter.cpp - libseccomp program construction.
#include "filter/probe_filter.h"

#include <seccomp.h>
#include <sys/mman.h>
#include <unistd.h>

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

Result<Ctx> buildCtx(std::span<const kernel::SyscallDesc> syscalls) {
  Ctx ctx(seccomp_init(SCMP_ACT_ALLOW));
  if (!ctx)
    return Error(ENOMEM, "seccomp_init failed");
  // Foreign ABIs (i386, x32) are allowed: they cannot express CHECK_FIELDS.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_ACT_BADARCH, SCMP_ACT_ALLOW); rc < 0)
    return Error::fromErrno(-rc, "seccomp_attr_set(ACT_BADARCH)");
  // The launcher sets no_new_privs and loads the program itself.
  if (int rc = seccomp_attr_set(ctx.get(), SCMP_FLTATR_CTL_NNP, 0); rc < 0)
    return Error::fromErrno(-rc, "seccomp_attr_set(CTL_NNP)");
  for (const auto& d : syscalls) {
    int nr = nativeSyscallNr(d);
    if (nr < 0)
      return Error(ENOSYS, "libseccomp does not know syscall '" + std::string(d.name) + "'");
    // 64-bit masked compare: libseccomp tests the high word against 0x80000000
    // and skips the low word (mask 0).
    scmp_arg_cmp probe{d.sizeArg, SCMP_CMP_MASKED_EQ, uapi::kCheckFields, uapi::kCheckFields};
    if (int rc = seccomp_rule_add_exact_array(ctx.get(), SCMP_ACT_NOTIFY, nr, 1, &probe); rc < 0)
      return Error::fromErrno(-rc, "seccomp_rule_add(" + std::string(d.name) + ")");
  }
  return ctx;
}

Result<std::string> exportTo(std::span<const kernel::SyscallDesc> syscalls,
                             int (*exporter)(const scmp_filter_ctx, int)) {
  auto ctx = buildCtx(syscalls);
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

int nativeSyscallNr(const kernel::SyscallDesc& d) {
  int nr = seccomp_syscall_resolve_name_arch(SCMP_ARCH_NATIVE, std::string(d.name).c_str());
  return nr == __NR_SCMP_ERROR ? -1 : nr;
}

uint32_t nativeAuditArch() { return seccomp_arch_native(); }

Result<BpfProgram> buildProbeFilter(std::span<const kernel::SyscallDesc> syscalls) {
  auto bytes = exportTo(syscalls, seccomp_export_bpf);
  if (!bytes)
    return std::move(bytes).error();
  if (bytes->empty() || bytes->size() % sizeof(sock_filter) != 0)
    return Error(EINVAL, "libseccomp exported a malformed program");
  BpfProgram p;
  p.insns.resize(bytes->size() / sizeof(sock_filter));
  std::memcpy(p.insns.data(), bytes->data(), bytes->size());
  return p;
}

Result<std::string> probeFilterPfc(std::span<const kernel::SyscallDesc> syscalls) {
  return exportTo(syscalls, seccomp_export_pfc);
}

}  // namespace extsys::filter
