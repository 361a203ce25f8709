// SPDX-License-Identifier: MIT
// kernel/listener/notify.cpp - seccomp listener ioctls.
#include "kernel/listener/notify.h"

#include <sys/ioctl.h>

#include <algorithm>
#include <cerrno>
#include <cstddef>
#include <cstdlib>
#include <cstring>

#include "base/sys.h"
#include "kernel/abi/uapi_compat.h"

namespace extsys::kernel {

// The layout assumptions the supervisor relies on.
static_assert(offsetof(seccomp_notif, id) == 0);
static_assert(offsetof(seccomp_notif, pid) == 8);
static_assert(offsetof(seccomp_notif, data) == 16);
static_assert(offsetof(seccomp_data, nr) == 0 && offsetof(seccomp_data, arch) == 4);
static_assert(offsetof(seccomp_data, args) == 16);
static_assert(offsetof(seccomp_notif_resp, error) == 16);

void NotifyChannel::FreeDeleter::operator()(void* p) const { std::free(p); }

Result<NotifSizes> notifSizes() {
  seccomp_notif_sizes s{};
  if (sys::seccomp(SECCOMP_GET_NOTIF_SIZES, 0, &s) != 0)
    return Error::fromErrno(errno, "seccomp(SECCOMP_GET_NOTIF_SIZES)");
  return NotifSizes{s.seccomp_notif, s.seccomp_notif_resp, s.seccomp_data};
}

Result<NotifyFd> NotifyFd::create(UniqueFd listener) {
  auto sizes = notifSizes();
  if (!sizes)
    return std::move(sizes).error();
  // Never smaller than the structs we read and write ourselves.
  sizes->notif = std::max<uint16_t>(sizes->notif, sizeof(seccomp_notif));
  sizes->resp = std::max<uint16_t>(sizes->resp, sizeof(seccomp_notif_resp));
  return NotifyFd(std::move(listener), *sizes);
}

bool NotifyFd::idValid(uint64_t id) const {
  for (;;) {
    if (ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_ID_VALID, &id) == 0)
      return true;
    if (errno != EINTR)
      return false;
  }
}

int NotifyFd::enableSyncWakeUp() const {
  if (ioctl(fd_.get(), SECCOMP_IOCTL_NOTIF_SET_FLAGS, SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP) != 0)
    return errno;
  return 0;
}

Result<NotifyChannel> NotifyChannel::open(const NotifyFd& listener) {
  Buffer req(static_cast<uint8_t*>(std::calloc(1, listener.sizes().notif)));
  Buffer resp(static_cast<uint8_t*>(std::calloc(1, listener.sizes().resp)));
  if (!req || !resp)
    return Error(ENOMEM, "allocating notification buffers");
  return NotifyChannel(listener, std::move(req), std::move(resp));
}

int NotifyChannel::recv() {
  std::memset(req_.get(), 0, listener_->sizes().notif);  // RECV wants a zeroed buffer
  if (ioctl(listener_->fd(), SECCOMP_IOCTL_NOTIF_RECV, req_.get()) != 0)
    return errno;
  return 0;
}

int NotifyChannel::sendError(uint64_t id, int err) { return send(id, -err, 0, 0); }

int NotifyChannel::sendValue(uint64_t id, int64_t val) { return send(id, 0, 0, val); }

int NotifyChannel::sendContinue(uint64_t id) {
  return send(id, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE, 0);
}

int NotifyChannel::send(uint64_t id, int error, uint32_t flags, int64_t val) {
  std::memset(resp_.get(), 0, listener_->sizes().resp);
  auto* r = reinterpret_cast<seccomp_notif_resp*>(resp_.get());
  r->id = id;
  r->error = error;
  r->val = val;
  r->flags = flags;
  for (;;) {
    if (ioctl(listener_->fd(), SECCOMP_IOCTL_NOTIF_SEND, r) == 0)
      return 0;
    if (errno != EINTR)
      return errno;
  }
}

}  // namespace extsys::kernel
