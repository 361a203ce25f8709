// SPDX-License-Identifier: MIT
// supervisor/audit.h - `--audit FILE`: one JSON line per decision the
// supervisor makes (decisions made in BPF - allow, hide, strict register
// rules - never reach it and are not logged).
#pragma once

#include <linux/seccomp.h>

#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace extsys::supervisor {

struct AuditEvent {
  const seccomp_notif* notif = nullptr;
  const char* syscall = "";
  const char* kind = "";      // "probe" or "call"
  uint64_t size = 0;          // size argument without CHECK_FIELDS
  const char* decision = "";  // answered, rejected, faulted, allowed, denied, unchecked, gone,
                              // unwritable
  int err = 0;                // errno returned (0: none / the call continued)
};

class AuditLog {
public:
  AuditLog() = default;
  // Appends to PATH, opened with openAppendFile (base/files.h): never through
  // a symbolic link, only a regular file of our own, created mode 0600.
  [[nodiscard]] static Result<AuditLog> open(const std::string& path);
  bool enabled() const { return fd_.valid(); }
  // One line, one write(2) with O_APPEND: lines never interleave.
  void write(const AuditEvent& e) const;

private:
  explicit AuditLog(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace extsys::supervisor
