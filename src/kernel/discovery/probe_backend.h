// SPDX-License-Identifier: MIT
// kernel/discovery/probe_backend.h - the seam between feature discovery and the
// raw probe syscalls. LiveBackend talks to the running kernel; tests substitute
// simulated kernels. Every call returns the errno the kernel gave (0 when the
// call succeeded).
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "kernel/features/feature_set.h"

namespace extsys::kernel {

// A struct buffer and the size argument to pass with it.
struct ProbeCall {
  std::array<uint8_t, 128> buf{};
  uint64_t size = 0;
  uint32_t flags = 0;  // mount_setattr's flags argument

  void put(size_t offset, uint64_t v);
  uint64_t get(size_t offset) const;
};

// What the throw-away probe child should do. It is the only process
// discovery creates.
struct ChildRequest {
  bool notify = true;  // test seccomp notification features
  // mount_setattr calls to make inside a new user + mount namespace (used
  // when the caller lacks CAP_SYS_ADMIN); empty: none.
  std::vector<ProbeCall> mountInUserns;
  // clone3 calls made with RLIMIT_NPROC = 0 and no capabilities, so that a
  // call that passes validation fails with EAGAIN before creating anything.
  // The first call is the guard (a plain clone3 that must give EAGAIN).
  std::vector<ProbeCall> clone3;
};

struct ChildResult {
  std::string error;  // the child could not run at all
  NotifyFeatures notify;
  std::string mountNote;  // why mountInUserns could not run
  std::vector<int> mountInUserns;
  std::string cloneNote;  // why the clone3 calls could not run
  std::vector<int> clone3;
};

class ProbeBackend {
public:
  virtual ~ProbeBackend() = default;
  // openat2(AT_FDCWD, NULL, buf, size): the path is never read before the
  // flags are validated, so nothing is opened.
  virtual int openat2(const ProbeCall& c) = 0;
  // openat2 returning the buffer as the kernel left it (CHECK_FIELDS).
  virtual int openat2Out(ProbeCall& c) = 0;
  // mount_setattr(-1, NULL, flags, buf, size): no mount is looked up.
  virtual int mountSetattr(ProbeCall& c) = 0;
  // clone3(buf, size) in this process: only for calls that cannot create a
  // process (size 0, CHECK_FIELDS sizes).
  virtual int clone3(ProbeCall& c) = 0;
  virtual ChildResult runChild(const ChildRequest& r) = 0;
};

}  // namespace extsys::kernel
