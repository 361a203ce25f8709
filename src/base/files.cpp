// SPDX-License-Identifier: MIT
// base/files.cpp - careful opens of user-named files.
#include "base/files.h"

#include <fcntl.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>

namespace extsys {
namespace {

// "PATH: No such file or directory", as the shell and coreutils say it.
Error pathError(int err, const std::string& path) {
  return Error(err, path + ": " + std::strerror(err));
}

const char* kindOf(mode_t mode) {
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISCHR(mode))
    return "a character device";
  if (S_ISBLK(mode))
    return "a block device";
  if (S_ISSOCK(mode))
    return "a socket";
  if (S_ISLNK(mode))
    return "a symbolic link";
  return "not a regular file";
}

std::string fmtMode(mode_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", static_cast<unsigned>(mode & 07777));
  return buf;
}

std::string sizeText(size_t bytes) {
  if (bytes >= (1 << 20) && bytes % (1 << 20) == 0)
    return std::to_string(bytes >> 20) + " MiB";
  if (bytes >= 1024 && bytes % 1024 == 0)
    return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

}  // namespace

Result<std::string> readRegularFile(const std::string& path, size_t maxBytes, struct stat* st) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY));
  if (!fd.valid())
    return pathError(errno, path);
  struct stat s {};
  if (fstat(fd.get(), &s) != 0)
    return pathError(errno, path);
  if (S_ISDIR(s.st_mode))
    return pathError(EISDIR, path);
  if (!S_ISREG(s.st_mode))
    return Error(EINVAL, path + ": " + kindOf(s.st_mode) + ", not a regular file");
  if (s.st_size < 0 || static_cast<size_t>(s.st_size) > maxBytes)
    return Error(EFBIG, path + ": larger than " + sizeText(maxBytes));
  std::string text;
  char buf[16384];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return pathError(errno, path);
    if (n == 0)
      break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > maxBytes)
      return Error(EFBIG, path + ": larger than " + sizeText(maxBytes));
  }
  if (st != nullptr)
    *st = s;
  return text;
}

bool trustedOwnerAndMode(const struct stat& st, const std::string& path, std::string* why) {
  const uid_t me = geteuid();
  if (st.st_uid != 0 && st.st_uid != me) {
    if (why != nullptr)
      *why = path + ": owned by uid " + std::to_string(st.st_uid) + ", neither root nor us (uid " +
             std::to_string(me) + ")";
    return false;
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    if (why != nullptr)
      *why = path + ": writable by " +
             ((st.st_mode & S_IWOTH) != 0 ? std::string("everyone") : std::string("its group")) +
             " (mode " + fmtMode(st.st_mode) + ")";
    return false;
  }
  return true;
}

Result<UniqueFd> openAppendFile(const std::string& path) {
  const uid_t me = geteuid();
  // First a look without opening, for the clearest message; the checks that
  // count are made on what open() returns.
  struct stat pre {};
  if (lstat(path.c_str(), &pre) == 0) {
    if (S_ISLNK(pre.st_mode))
      return Error(ELOOP, path + ": a symbolic link; refused (name the file itself)");
    if (S_ISREG(pre.st_mode) && pre.st_uid != me)
      return Error(EPERM, path + ": owned by uid " + std::to_string(pre.st_uid) +
                              ", not by us (uid " + std::to_string(me) + "); refused");
  }
  UniqueFd fd(open(path.c_str(),
                   O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK,
                   0600));
  if (!fd.valid()) {
    const int err = errno;
    if (err == ELOOP)
      return Error(ELOOP, path + ": a symbolic link; refused (name the file itself)");
    return pathError(err, path);
  }
  struct stat st {};
  if (fstat(fd.get(), &st) != 0)
    return pathError(errno, path);
  if (!S_ISREG(st.st_mode))
    return Error(EINVAL, path + ": " + kindOf(st.st_mode) + ", not a regular file; refused");
  if (st.st_uid != me)
    return Error(EPERM, path + ": owned by uid " + std::to_string(st.st_uid) + ", not by us (uid " +
                            std::to_string(me) + "); refused");
  if (st.st_nlink > 1)
    return Error(EPERM, path + ": has " + std::to_string(st.st_nlink) +
                            " hard links; refused (another name could be a file we must not "
                            "touch)");
  // O_NONBLOCK only mattered for open(): appends to a regular file block
  // anyway, and a FIFO was refused above.
  fcntl(fd.get(), F_SETFL, O_APPEND);
  return fd;
}

}  // namespace extsys
