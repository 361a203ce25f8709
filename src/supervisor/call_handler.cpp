// SPDX-License-Identifier: MIT
// supervisor/call_handler.cpp - cooperative restriction of real calls.
#include "supervisor/call_handler.h"

#include <cerrno>
#include <cstring>

#include "base/errno_name.h"
#include "base/log.h"
#include "kernel/abi/flag_names.h"
#include "kernel/features/features_json.h"
#include "remote/remote_memory.h"

namespace extsys::supervisor {

CallHandler::CallHandler(const policy::EffectivePolicy& p, uint64_t pageSize)
    : policy_(p), pageSize_(pageSize), buf_(pageSize) {}

Reply CallHandler::handle(const seccomp_notif& n, const kernel::SyscallDesc& d,
                          const kernel::NotifyFd& listener, Counters& counters) {
  const policy::EffectiveSyscall& limits = policy_.of(d.id);
  // A persona's answer to the ABI version query (Landlock's
  // LANDLOCK_CREATE_RULESET_VERSION): the version of the persona's kernel,
  // so that what a program is told agrees with what it may use.
  if (d.abiQuery != 0 && limits.abiVersion > 0 && !d.args.empty() &&
      (n.data.args[d.args[0].argIndex] & 0xFFFFFFFFULL) == d.abiQuery &&
      n.data.args[d.structArg] == 0 && n.data.args[d.sizeArg] == 0) {
    ++counters.allowed;
    return {Reply::Kind::Send, 0, "emulated", limits.abiVersion};
  }
  // The checked arguments (flags in registers): decided without memory.
  for (size_t a = 0; a < d.args.size(); ++a) {
    uint64_t v = n.data.args[d.args[a].argIndex];
    if (d.args[a].low32Only)
      v &= 0xFFFFFFFFULL;
    if (const uint64_t extra = v & ~limits.argAllow[a]) {
      ++counters.denied;
      if (log::supervisor().should_log(spdlog::level::info))
        log::supervisor().info("call {} pid {}: {} {} not allowed, answering {}", d.name, n.pid,
                               d.args[a].name, kernel::hex64(extra), errnoName(limits.denyErrno));
      return {Reply::Kind::Send, limits.denyErrno, "denied"};
    }
  }
  const uint64_t usize = n.data.args[d.sizeArg];
  // Sizes the kernel itself rejects before reading anything (EINVAL, E2BIG),
  // and structs the kernel only writes: nothing here depends on memory, let
  // the kernel answer.
  if (usize < d.ver0() || usize > pageSize_ || !d.readsStruct) {
    ++counters.allowed;
    return {Reply::Kind::Continue, 0, "allowed"};
  }
  if (n.pid == 0) {
    ++counters.denied;
    return {Reply::Kind::Send, EPERM, "denied"};  // cannot check: fail closed
  }
  remote::ProcessReader reader(static_cast<pid_t>(n.pid));
  const long got = reader.read(n.data.args[d.structArg], buf_.data(), usize);
  const int readErr = errno;
  if (!listener.idValid(n.id)) {
    ++counters.gone;
    return {Reply::Kind::Drop, 0, "gone"};
  }
  if (got < 0 && (readErr == EPERM || readErr == EACCES)) {
    // Not the program's fault: the kernel will not let us read it (not
    // dumpable, Yama, an LSM). The call was not checked, so it does not
    // run; EFAULT would tell the program its pointer is bad.
    ++counters.denied;
    log::supervisor().warn(
        "call {} pid {}: cannot read its struct ({}: the process is not dumpable, or Yama or an "
        "LSM forbids reading it); not checked, so answering EPERM",
        d.name, n.pid, errnoName(readErr));
    return {Reply::Kind::Send, EPERM, "unchecked"};
  }
  if (got != static_cast<long>(usize)) {
    ++counters.denied;
    // The kernel's copy_struct_from_user() faults the same way.
    return {Reply::Kind::Send, got < 0 && readErr == ESRCH ? ESRCH : EFAULT, "denied"};
  }
  // A persona's smaller struct: non-zero bytes past it are E2BIG there.
  if (limits.maxStructSize != 0 && usize > limits.maxStructSize) {
    for (uint64_t i = limits.maxStructSize; i < usize; ++i)
      if (buf_[i] != 0) {
        ++counters.denied;
        return {Reply::Kind::Send, E2BIG, "denied"};
      }
  }
  for (size_t f = 0; f < d.fields.size(); ++f) {
    const kernel::FieldDesc& fd = d.fields[f];
    if (fd.offset + fd.width > usize)
      break;
    uint64_t v;
    if (fd.width == 8) {
      std::memcpy(&v, buf_.data() + fd.offset, 8);
    } else {
      uint32_t w;
      std::memcpy(&w, buf_.data() + fd.offset, 4);
      v = w;
    }
    const uint64_t extra = v & ~limits.allow[f];
    if (extra != 0) {
      ++counters.denied;
      if (log::supervisor().should_log(spdlog::level::info))
        log::supervisor().info("call {} pid {}: {} {} not allowed, answering {}", d.name, n.pid,
                               fd.name, kernel::describeBits(d.id, fd.name, extra),
                               errnoName(limits.denyErrno));
      return {Reply::Kind::Send, limits.denyErrno, "denied"};
    }
  }
  ++counters.allowed;
  return {Reply::Kind::Continue, 0, "allowed"};
}

}  // namespace extsys::supervisor
