// SPDX-License-Identifier: MIT
// supervisor/audit.cpp - JSON lines of decisions.
#include "supervisor/audit.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <cstring>

#include "base/errno_name.h"

namespace extsys::supervisor {
namespace {

// A small /proc file, or "" (the target may be gone).
std::string procFile(uint32_t tid, const char* name) {
  char path[64];
  std::snprintf(path, sizeof path, "/proc/%u/%s", tid, name);
  int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    return "";
  char buf[2048];
  ssize_t n = ::read(fd, buf, sizeof buf - 1);
  ::close(fd);
  return n > 0 ? std::string(buf, static_cast<size_t>(n)) : "";
}

// comm is chosen by the target: escape it for JSON.
std::string jsonString(const std::string& s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7F) {
      out += fmt::format("\\u{:04x}", c);
    } else {
      out += static_cast<char>(c);
    }
  }
  return out + "\"";
}

}  // namespace

Result<AuditLog> AuditLog::open(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640));
  if (!fd.valid())
    return Error::fromErrno(errno, "cannot open audit file '" + path + "'");
  return AuditLog(std::move(fd));
}

void AuditLog::write(const AuditEvent& e) const {
  if (!fd_.valid())
    return;
  const uint32_t tid = e.notif->pid;
  std::string comm = tid ? procFile(tid, "comm") : "";
  if (!comm.empty() && comm.back() == '\n')
    comm.pop_back();
  long tgid = 0;
  const std::string status = tid ? procFile(tid, "status") : "";
  if (auto pos = status.find("\nTgid:"); pos != std::string::npos)
    tgid = std::strtol(status.c_str() + pos + 6, nullptr, 10);
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc{};
  gmtime_r(&ts.tv_sec, &utc);
  char when[40];
  std::strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &utc);
  const std::string line = fmt::format(
      "{{\"time\":\"{}.{:06d}Z\",\"pid\":{},\"tid\":{},\"comm\":{},\"syscall\":\"{}\","
      "\"kind\":\"{}\",\"size\":{},\"decision\":\"{}\",\"errno\":{},\"errno_name\":{}}}\n",
      when, ts.tv_nsec / 1000, tgid, tid, jsonString(comm), e.syscall, e.kind, e.size, e.decision,
      e.err, e.err ? jsonString(errnoName(e.err)) : "null");
  if (::write(fd_.get(), line.data(), line.size()) < 0) {
    // The audit file is best effort; the answer to the target matters more.
  }
}

}  // namespace extsys::supervisor
