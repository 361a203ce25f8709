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

// A struct buffer, the size argument to pass with it and the value of the
// syscall's checked argument (SyscallDesc::args; mount_setattr's flags).
struct ProbeCall {
  std::array<uint8_t, 128> buf{};
  uint64_t size = 0;
  uint32_t flags = 0;
  bool nullStruct = false;  // pass NULL instead of buf
  int64_t result = 0;       // what a successful call returned (Landlock's ABI version)

  void put(size_t offset, uint64_t v);
  void put32(size_t offset, uint32_t v);
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
  // The first call is the guard (a plain clone3 that must give EAGAIN);
  // when it gives anything else, no further call is made. They are made
  // before the mount probes' user namespace, as nobody when we are root.
  std::vector<ProbeCall> clone3;
  // landlock_create_ruleset calls made with RLIMIT_NOFILE = 0, so that a
  // ruleset that passes validation gets no fd (EMFILE) and is freed. The
  // first call is the guard (a valid ruleset that must give EMFILE).
  std::vector<ProbeCall> landlock;
};

struct ChildResult {
  std::string error;  // the child could not run at all
  NotifyFeatures notify;
  std::string mountNote;  // why mountInUserns could not run
  std::vector<int> mountInUserns;
  std::string cloneNote;  // why the clone3 calls could not run
  std::vector<int> clone3;
  std::string landlockNote;  // why the landlock calls could not run
  std::vector<int> landlock;
};

class ProbeBackend {
public:
  virtual ~ProbeBackend() = default;
  // One raw call in this process, with arguments that make the kernel fail
  // before it acts (src/kernel/discovery/RECIPES.md); `c.buf` comes back as
  // the kernel left it. Per syscall:
  //   openat2(AT_FDCWD, NULL, buf, size): the path is read after every check;
  //   clone3(buf, size): only sizes that cannot create a process (0,
  //     CHECK_FIELDS);
  //   mount_setattr(-1, NULL, flags, buf, size): no mount is looked up;
  //   open_tree_attr(-1, NULL, flags, buf, size): the NULL path fails first;
  //   setxattrat/getxattrat(-1, NULL, flags, NULL, buf, size): the NULL name
  //     faults before any lookup;
  //   file_getattr/file_setattr(-1, NULL, buf, size, flags): dfd -1, so even
  //     AT_EMPTY_PATH finds no file;
  //   landlock_create_ruleset(buf, size, flags): only calls that cannot
  //     create a ruleset (NULL struct, the ABI query, CHECK_FIELDS sizes).
  virtual int call(SyscallId id, ProbeCall& c) = 0;
  virtual ChildResult runChild(const ChildRequest& r) = 0;
};

}  // namespace extsys::kernel
