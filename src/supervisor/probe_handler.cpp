// SPDX-License-Identifier: MIT
// supervisor/probe_handler.cpp - one probe, answered.
#include "supervisor/probe_handler.h"

#include <cerrno>

#include "base/errno_name.h"
#include "base/log.h"
#include "remote/copy_struct.h"
#include "remote/remote_memory.h"

namespace extsys::supervisor {

ProbeHandler::ProbeHandler(const kernel::ProbeAnswers& answers, ProbeConfig config)
    : answers_(answers), config_(config) {}

Reply ProbeHandler::handle(const seccomp_notif& n, const kernel::SyscallDesc& desc,
                           const kernel::NotifyFd& listener, Counters& counters) const {
  const kernel::SyscallDesc* d = &desc;
  const auto& answer = answers_[static_cast<size_t>(d->id)];
  if (!answer.present) {
    ++counters.rejected;
    return {Reply::Kind::Send, ENOSYS, "rejected"};
  }
  uint64_t args[6];
  for (int i = 0; i < 6; ++i)
    args[i] = n.data.args[i];
  const kernel::ProbeVerdict v = kernel::checkProbe(*d, answer, args, config_.pageSize);
  if (v.err != 0) {
    ++counters.rejected;
    if (log::supervisor().should_log(spdlog::level::debug))
      log::supervisor().debug("probe {} pid {} size {:#x}: {}", d->name, n.pid,
                              args[d->sizeArg], errnoName(v.err));
    return {Reply::Kind::Send, v.err, "rejected"};
  }

  // The target waits in the syscall until we answer, so its tid cannot be
  // reused while the notification is valid: check right before writing.
  if (!listener.idValid(n.id)) {
    ++counters.gone;
    return {Reply::Kind::Drop, 0, "gone"};
  }
  if (n.pid == 0) {
    // Not visible in our pid namespace: we cannot write, so answer what this
    // kernel answers natively (no CHECK_FIELDS: E2BIG).
    ++counters.unwritable;
    return {Reply::Kind::Send, E2BIG, "unwritable"};
  }
  remote::ProcessWriter writer(static_cast<pid_t>(n.pid));
  const int err = remote::copyStructToUser(
      writer, args[d->structArg], v.usize,
      std::span<const uint8_t>(answer.image.data(), answer.ksize), remote::zeroPage());
  int replyErr = config_.probeErrno;
  const char* decision = "answered";
  switch (err) {
    case 0:
      ++counters.answered;
      break;
    case EFAULT:
      ++counters.faulted;
      replyErr = EFAULT;
      decision = "faulted";
      break;
    case ESRCH:
      ++counters.gone;
      return {Reply::Kind::Drop, 0, "gone"};
    default:
      // EPERM and the like: the target is out of our reach (setuid, Yama,
      // another user namespace). Never claim success without the bytes:
      // answer as this kernel does without CHECK_FIELDS.
      ++counters.unwritable;
      log::supervisor().warn("Failed to write probe answer for pid {}: {}, answering E2BIG",
                             n.pid, errnoDescribe(err));
      replyErr = E2BIG;
      decision = "unwritable";
      break;
  }
  if (log::supervisor().should_log(spdlog::level::debug))
    log::supervisor().debug("probe {} pid {} ptr {:#x} size {}: wrote {} bytes, {}", d->name,
                            n.pid, args[d->structArg], v.usize,
                            err == 0 ? v.usize : 0, errnoName(replyErr));
  return {Reply::Kind::Send, replyErr, decision};
}

}  // namespace extsys::supervisor
