// SPDX-License-Identifier: MIT
// kernel/discovery/feature_cache.cpp - the per-boot discovery cache.
#include "kernel/discovery/feature_cache.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <cstdlib>

#include <nlohmann/json.hpp>

#include "base/unique_fd.h"

namespace extsys::kernel {
namespace {

constexpr const char* kFile = "/features.json";
constexpr size_t kMaxCacheBytes = 64 * 1024;  // ours are under 1 KiB

Result<std::string> readSmallFile(const std::string& path, struct stat* st) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW));
  if (!fd.valid())
    return Error::fromErrno(errno, "open " + path);
  if (fstat(fd.get(), st) != 0)
    return Error::fromErrno(errno, "fstat " + path);
  if (!S_ISREG(st->st_mode) || st->st_size > static_cast<off_t>(kMaxCacheBytes))
    return Error(EINVAL, path + " is not a small regular file");
  // Read to EOF (files in /proc report size 0), never past the cap.
  std::string text;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd.get(), buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return Error::fromErrno(errno, "read " + path);
    if (n == 0)
      break;
    text.append(buf, static_cast<size_t>(n));
    if (text.size() > kMaxCacheBytes)
      return Error(EFBIG, path + " is too large");
  }
  return text;
}

// A directory we may trust: ours (or root's), not writable by others.
bool trustedDir(const std::string& dir) {
  struct stat st {};
  if (lstat(dir.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return false;
  return (st.st_uid == geteuid() || st.st_uid == 0) && (st.st_mode & (S_IWGRP | S_IWOTH)) == 0;
}

// The cache holds the facts only, compactly: it is read on every start.
// Per syscall, by name: [present, disabled errno, struct size, [accepted
// bits per field], [accepted bits per checked argument]].
nlohmann::json compact(const KernelFeatures& f) {
  using nlohmann::json;
  json reports = json::array();
  for (const auto& r : f.reports) {
    json d = json::array();
    for (const auto& x : r.disagreements)
      d.push_back({x.field, x.table, x.probe});
    reports.push_back({static_cast<int>(r.source), r.note, r.unknownAccepted, d});
  }
  json sys = json::object();
  for (const auto& d : syscallTable()) {
    const SyscallFeatures& s = f.of(d.id);
    json fields = json::array(), args = json::array();
    for (size_t i = 0; i < d.fields.size(); ++i)
      fields.push_back(s.fields[i]);
    for (size_t i = 0; i < d.args.size(); ++i)
      args.push_back(s.args[i]);
    sys[std::string(d.name)] = {s.present, s.disabledErrno, s.structSize, fields, args};
  }
  const auto& n = f.notify;
  return {{"release", f.release},
          {"version", {f.version.major, f.version.minor, f.version.patch}},
          {"landlock_abi", f.landlockAbi},
          {"syscalls", sys},
          {"notify", {n.tested, n.listener, n.pollhup, n.addfd, n.addfdSend, n.waitKillableRecv,
                      n.syncWakeUp, n.note}},
          {"reports", reports}};
}

Result<KernelFeatures> uncompact(const nlohmann::json& j) {
  try {
    KernelFeatures f;
    f.release = j.at("release").get<std::string>();
    const auto& v = j.at("version");
    f.version = {v.at(0).get<int>(), v.at(1).get<int>(), v.at(2).get<int>()};
    f.landlockAbi = j.at("landlock_abi").get<int>();
    const auto& sys = j.at("syscalls");
    for (const auto& d : syscallTable()) {
      const auto& e = sys.at(std::string(d.name));
      SyscallFeatures& s = f.of(d.id);
      s.present = e.at(0).get<bool>();
      s.disabledErrno = e.at(1).get<int>();
      s.structSize = e.at(2).get<uint32_t>();
      const auto& fields = e.at(3);
      const auto& args = e.at(4);
      if (fields.size() != d.fields.size() || args.size() != d.args.size())
        return Error(EINVAL, std::string(d.name) + ": wrong number of fields or arguments");
      for (size_t i = 0; i < d.fields.size(); ++i)
        s.fields[i] = fields.at(i).get<uint64_t>();
      for (size_t i = 0; i < d.args.size(); ++i)
        s.args[i] = args.at(i).get<uint64_t>();
      if (s.disabledErrno < 0 || s.disabledErrno > 4095)
        return Error(EINVAL, std::string(d.name) + ": errno out of range");
      if (s.present && (s.structSize < d.ver0() || s.structSize > d.layoutSize()))
        return Error(EINVAL, std::string(d.name) + " struct size out of range");
    }
    const auto& n = j.at("notify");
    f.notify = {n.at(0).get<bool>(), n.at(7).get<std::string>(), n.at(1).get<bool>(),
                n.at(2).get<bool>(), n.at(3).get<bool>(), n.at(4).get<bool>(),
                n.at(5).get<bool>(), n.at(6).get<bool>()};
    const auto& reports = j.at("reports");
    if (reports.size() != f.reports.size())
      return Error(EINVAL, "wrong number of syscall reports");
    for (size_t i = 0; i < f.reports.size(); ++i) {
      const auto& r = reports.at(i);
      const int source = r.at(0).get<int>();
      if (source < 0 || source > static_cast<int>(FeatureSource::Table))
        return Error(EINVAL, "bad feature source");
      f.reports[i].source = static_cast<FeatureSource>(source);
      f.reports[i].note = r.at(1).get<std::string>();
      f.reports[i].unknownAccepted = r.at(2).get<uint64_t>();
      for (const auto& d : r.at(3))
        f.reports[i].disagreements.push_back(
            {d.at(0).get<std::string>(), d.at(1).get<uint64_t>(), d.at(2).get<uint64_t>()});
    }
    return f;
  } catch (const std::exception& e) {  // nlohmann's type errors: this adapter catches them
    return Error(EINVAL, std::string("malformed cache: ") + e.what());
  }
}

}  // namespace

Result<CacheKey> currentCacheKey(const std::string& extsysVersion, bool privileged) {
  CacheKey k;
  struct stat st {};
  auto boot = readSmallFile("/proc/sys/kernel/random/boot_id", &st);
  if (!boot)
    return std::move(boot).error();
  k.bootId = *boot;
  while (!k.bootId.empty() && (k.bootId.back() == '\n' || k.bootId.back() == ' '))
    k.bootId.pop_back();
  utsname u{};
  if (uname(&u) != 0)
    return Error::fromErrno(errno, "uname");
  k.release = u.release;
  k.extsysVersion = extsysVersion;
  k.privileged = privileged;
  return k;
}

std::string defaultCacheDir() {
  if (geteuid() == 0)
    return "/run/extsys";
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  if (xdg == nullptr || xdg[0] != '/')
    return "";
  return std::string(xdg) + "/extsys";
}

const char* cacheStateName(CacheState s) {
  switch (s) {
    case CacheState::Hit: return "hit";
    case CacheState::Miss: return "miss";
    case CacheState::Corrupt: return "corrupt";
    case CacheState::Foreign: return "foreign";
    case CacheState::Stale: return "stale";
    case CacheState::Disabled: return "disabled";
    case CacheState::Unavailable: return "unavailable";
    case CacheState::Filtered: return "filtered";
  }
  return "?";
}

int seccompFilterCount(const std::string& statusText) {
  const std::string status = "\n" + statusText;
  auto field = [&](const char* name) -> long {
    const std::string key = std::string("\n") + name + ":";
    const size_t at = status.find(key);
    if (at == std::string::npos)
      return -1;
    return std::strtol(status.c_str() + at + key.size(), nullptr, 10);
  };
  if (field("Seccomp") == 0 || field("Seccomp") < 0)
    return 0;
  const long filters = field("Seccomp_filters");
  return filters > 0 ? static_cast<int>(filters) : 1;
}

int currentSeccompFilterCount() {
  struct stat st {};
  auto status = readSmallFile("/proc/self/status", &st);
  return status ? seccompFilterCount(*status) : 0;
}

CacheLoad loadCache(const std::string& dir, const CacheKey& key) {
  CacheLoad out;
  if (dir.empty()) {
    out.state = CacheState::Unavailable;
    out.note = "no cache directory (not root and XDG_RUNTIME_DIR unset)";
    return out;
  }
  if (!trustedDir(dir)) {
    struct stat st {};
    out.state = lstat(dir.c_str(), &st) == 0 ? CacheState::Foreign : CacheState::Miss;
    out.note = out.state == CacheState::Foreign ? dir + " is not ours or is writable by others"
                                                : dir + " does not exist yet";
    return out;
  }
  const std::string path = dir + kFile;
  struct stat st {};
  auto text = readSmallFile(path, &st);
  if (!text) {
    out.state = text.error().err() == ENOENT ? CacheState::Miss : CacheState::Corrupt;
    out.note = text.error().message();
    return out;
  }
  if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    out.state = CacheState::Foreign;
    out.note = path + " is owned by uid " + std::to_string(st.st_uid) + " or writable by others";
    return out;
  }
  nlohmann::json j = nlohmann::json::parse(*text, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded() || !j.is_object() || !j.contains("cache_key")) {
    out.state = CacheState::Corrupt;
    out.note = path + " is not valid JSON";
    return out;
  }
  const nlohmann::json& k = j["cache_key"];
  CacheKey stored;
  if (k.is_object()) {
    stored.bootId = k.value("boot_id", "");
    stored.release = k.value("release", "");
    stored.extsysVersion = k.value("extsys_version", "");
    stored.privileged = k.value("privileged", false);
  }
  if (!(stored == key)) {
    out.state = CacheState::Stale;
    out.note = "made for another boot, kernel, extsys version or privilege";
    return out;
  }
  if (!j.contains("features"))
    return {CacheState::Corrupt, std::nullopt, path + " has no features"};
  auto f = uncompact(j["features"]);
  if (!f) {
    out.state = CacheState::Corrupt;
    out.note = f.error().message();
    return out;
  }
  out.state = CacheState::Hit;
  out.features = std::move(*f);
  return out;
}

Status storeCache(const std::string& dir, const CacheKey& key, const KernelFeatures& f) {
  if (dir.empty())
    return Error(ENOENT, "no cache directory");
  if (mkdir(dir.c_str(), geteuid() == 0 ? 0755 : 0700) != 0 && errno != EEXIST)
    return Error::fromErrno(errno, "mkdir " + dir);
  if (!trustedDir(dir))
    return Error(EPERM, dir + " is not ours or is writable by others");
  nlohmann::json j;
  j["features"] = compact(f);
  j["cache_key"] = {{"boot_id", key.bootId},
                    {"release", key.release},
                    {"extsys_version", key.extsysVersion},
                    {"privileged", key.privileged}};
  // A release string is not always UTF-8: replaced, never an exception.
  const std::string text = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  const std::string path = dir + kFile;
  const std::string tmp = path + ".tmp." + std::to_string(getpid());
  UniqueFd fd(open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0644));
  if (!fd.valid())
    return Error::fromErrno(errno, "create " + tmp);
  fchmod(fd.get(), 0644);  // whatever the umask
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = write(fd.get(), text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      unlink(tmp.c_str());
      return Error::fromErrno(errno, "write " + tmp);
    }
    done += static_cast<size_t>(n);
  }
  fd.reset();
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    int err = errno;
    unlink(tmp.c_str());
    return Error::fromErrno(err, "rename " + tmp);
  }
  return okStatus();
}

}  // namespace extsys::kernel
