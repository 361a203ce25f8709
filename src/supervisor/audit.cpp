// SPDX-License-Identifier: MIT
// supervisor/audit.cpp - JSON lines of decisions.
#include "supervisor/audit.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <cstring>

#include "base/errno_name.h"
#include "base/files.h"

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

}  // namespace

Result<AuditLog> AuditLog::open(const std::string& path) {
  auto fd = openAppendFile(path);
  if (!fd)
    return std::move(fd).error();
  return AuditLog(std::move(*fd));
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
  // Keys in this order. comm is chosen by the target: bytes that are not
  // UTF-8 become U+FFFD, and the line stays ASCII.
  nlohmann::ordered_json j;
  j["time"] = fmt::format("{}.{:06d}Z", when, ts.tv_nsec / 1000);
  j["pid"] = tgid;
  j["tid"] = tid;
  j["comm"] = comm;
  j["syscall"] = e.syscall;
  j["kind"] = e.kind;
  j["size"] = e.size;
  j["decision"] = e.decision;
  j["errno"] = e.err;
  j["errno_name"] = e.err ? nlohmann::ordered_json(errnoName(e.err)) : nullptr;
  const std::string line =
      j.dump(-1, ' ', true, nlohmann::ordered_json::error_handler_t::replace) + "\n";
  if (::write(fd_.get(), line.data(), line.size()) < 0) {
    // The audit file is best effort; the answer to the target matters more.
  }
}

}  // namespace extsys::supervisor
