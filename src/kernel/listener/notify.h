// SPDX-License-Identifier: MIT
// kernel/listener/notify.h - the seccomp user-notification listener: raw
// ioctls, because libseccomp 2.5 lacks WAIT_KILLABLE_RECV, SET_FLAGS and
// ADDFD_FLAG_SEND.
#pragma once

#include <linux/seccomp.h>

#include <cstdint>
#include <memory>

#include "base/result.h"
#include "base/unique_fd.h"

namespace extsys::kernel {

struct NotifSizes {
  uint16_t notif = 0;
  uint16_t resp = 0;
  uint16_t data = 0;
};

// SECCOMP_GET_NOTIF_SIZES: the kernel's struct sizes, which may be larger than
// the ones our headers know.
[[nodiscard]] Result<NotifSizes> notifSizes();

class NotifyChannel;

// A listener, shared by the threads that serve it. Its own calls (ID_VALID,
// SET_FLAGS) are thread-safe; receiving and answering go through a
// NotifyChannel per thread, which owns the buffers.
class NotifyFd {
public:
  [[nodiscard]] static Result<NotifyFd> create(UniqueFd listener);

  int fd() const { return fd_.get(); }
  const NotifSizes& sizes() const { return sizes_; }

  // SECCOMP_IOCTL_NOTIF_ID_VALID: true while the target still waits for us.
  bool idValid(uint64_t id) const;

  // SECCOMP_IOCTL_NOTIF_SET_FLAGS(SYNC_WAKE_UP), 6.6+. Returns 0 or an errno.
  int enableSyncWakeUp() const;

private:
  NotifyFd(UniqueFd fd, NotifSizes sizes) : fd_(std::move(fd)), sizes_(sizes) {}

  UniqueFd fd_;
  NotifSizes sizes_;
};

// One thread's view of a listener: receive and response buffers sized for
// the running kernel. Not thread-safe; several channels on one listener are
// (the kernel hands each notification to exactly one RECV).
class NotifyChannel {
public:
  // Buffers are allocated here; fails only on ENOMEM.
  [[nodiscard]] static Result<NotifyChannel> open(const NotifyFd& listener);

  const NotifyFd& listener() const { return *listener_; }

  // SECCOMP_IOCTL_NOTIF_RECV into a zeroed buffer. Returns 0 or an errno
  // (EINTR, ENOENT: the target went away before we received it).
  int recv();
  const seccomp_notif& notif() const { return *reinterpret_cast<const seccomp_notif*>(req_.get()); }

  // SECCOMP_IOCTL_NOTIF_SEND of {id, val 0, error -err}. Retries EINTR;
  // returns 0 or an errno (ENOENT: the target is gone or was interrupted).
  int sendError(uint64_t id, int err);

  // SEND of {id, val, error 0}: the call returns `val` without running.
  int sendValue(uint64_t id, int64_t val);

  // SEND with SECCOMP_USER_NOTIF_FLAG_CONTINUE: the kernel runs the call.
  // Never for a decision that read target memory in strict mode.
  int sendContinue(uint64_t id);

private:
  struct FreeDeleter {
    void operator()(void* p) const;
  };
  using Buffer = std::unique_ptr<uint8_t[], FreeDeleter>;
  NotifyChannel(const NotifyFd& listener, Buffer req, Buffer resp)
      : listener_(&listener), req_(std::move(req)), resp_(std::move(resp)) {}
  int send(uint64_t id, int error, uint32_t flags, int64_t val);

  const NotifyFd* listener_;
  Buffer req_;
  Buffer resp_;
};

}  // namespace extsys::kernel
