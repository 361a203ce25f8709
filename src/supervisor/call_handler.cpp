// SPDX-License-Identifier: MIT
// supervisor/call_handler.cpp - cooperative restriction of real calls.
#include "supervisor/call_handler.h"

#include <cerrno>
#include <cstring>

#include "base/errno_name.h"
#include "base/log.h"
#include "kernel/abi/flag_names.h"
#include "remote/remote_memory.h"

namespace extsys::supervisor {

CallHandler::CallHandler(const policy::EffectivePolicy& p, uint64_t pageSize)
    : policy_(p), pageSize_(pageSize), buf_(pageSize) {}

Reply CallHandler::handle(const seccomp_notif& n, const kernel::SyscallDesc& d,
                          const kernel::NotifyFd& listener, Counters& counters) {
  const policy::EffectiveSyscall& limits = policy_.of(d.id);
  const uint64_t usize = n.data.args[d.sizeArg];
  // Sizes the kernel itself rejects before reading anything (EINVAL, E2BIG):
  // nothing here depends on memory, let the kernel answer.
  if (usize < d.ver0 || usize > pageSize_) {
    ++counters.allowed;
    return {Reply::Kind::Continue, 0, "allowed"};
  }
  if (n.pid == 0) {
    ++counters.denied;
    return {Reply::Kind::Send, EPERM, "denied"};  // cannot check: fail closed
  }
  remote::ProcessReader reader(static_cast<pid_t>(n.pid));
  const long got = reader.read(n.data.args[d.structArg], buf_.data(), usize);
  if (!listener.idValid(n.id)) {
    ++counters.gone;
    return {Reply::Kind::Drop, 0, "gone"};
  }
  if (got != static_cast<long>(usize)) {
    ++counters.denied;
    // The kernel's copy_struct_from_user() faults the same way.
    return {Reply::Kind::Send, got < 0 && errno == ESRCH ? ESRCH : EFAULT, "denied"};
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
    if (d.fields[f].offset + 8u > usize)
      break;
    uint64_t v;
    std::memcpy(&v, buf_.data() + d.fields[f].offset, sizeof v);
    const uint64_t extra = v & ~limits.allow[f];
    if (extra != 0) {
      ++counters.denied;
      if (log::supervisor().should_log(spdlog::level::info))
        log::supervisor().info("call {} pid {}: {} {} not allowed, answering {}", d.name, n.pid,
                               d.fields[f].name, kernel::describeBits(d.id, d.fields[f].name, extra),
                               errnoName(limits.denyErrno));
      return {Reply::Kind::Send, limits.denyErrno, "denied"};
    }
  }
  ++counters.allowed;
  return {Reply::Kind::Continue, 0, "allowed"};
}

}  // namespace extsys::supervisor
