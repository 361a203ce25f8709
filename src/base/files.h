// SPDX-License-Identifier: MIT
// base/files.h - the files a user names on the command line, opened so that
// neither a careless argument nor another user's trap can hurt: policies are
// read only from small regular files, logs and audit lines are appended only
// to regular files of our own, never through a symbolic link.
//
// Every error message starts with the path and reads like the shell's:
// "/nonexistent-dir/log: No such file or directory".
#pragma once

#include <sys/stat.h>

#include <cstddef>
#include <string>

#include "base/result.h"
#include "base/unique_fd.h"

namespace extsys {

// The largest file readRegularFile accepts by default: a policy is a few KiB.
inline constexpr size_t kMaxPolicyBytes = 1 << 20;

// Reads PATH whole. Symbolic links are followed (a link to a regular file is
// fine); the file opened (O_NONBLOCK, so a FIFO cannot hang us) must be a
// regular file of at most maxBytes, checked with fstat and again while
// reading (files that grow, /proc files that report size 0). `st` receives
// the opened file's stat.
[[nodiscard]] Result<std::string> readRegularFile(const std::string& path, size_t maxBytes,
                                                  struct stat* st = nullptr);

// Opens PATH for appending (--log-file, --audit): O_WRONLY | O_APPEND |
// O_CREAT | O_NOFOLLOW | O_CLOEXEC, mode 0600 when it is created. Refuses a
// symbolic link, anything but a regular file, a file owned by another user
// (root writing into a file someone pre-created in /tmp) and a file with
// other hard links.
[[nodiscard]] Result<UniqueFd> openAppendFile(const std::string& path);

// Whether a directory or file may be trusted to hold what root or this user
// runs with: owned by root or by us, and not writable by group or others.
// `why` (when not trusted) says which of these failed, naming the path.
[[nodiscard]] bool trustedOwnerAndMode(const struct stat& st, const std::string& path,
                                       std::string* why);

}  // namespace extsys
