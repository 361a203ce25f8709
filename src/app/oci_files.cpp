// SPDX-License-Identifier: MIT
// app/oci_files.cpp - oci-profile's --base, --into and --check.
#include "app/oci_files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "agent/json_text.h"
#include "app/usage.h"
#include "base/log.h"

namespace extsys::app {
namespace {

using agent::ordered_json;

Result<std::string> readText(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Error(errno, path + ": " + std::strerror(errno));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::vector<std::string> boundingCaps(const ordered_json& config) {
  std::vector<std::string> caps;
  const auto p = config.value("process", ordered_json::object());
  const auto c = p.value("capabilities", ordered_json::object());
  for (const auto& v : c.value("bounding", ordered_json::array()))
    if (v.is_string())
      caps.push_back(v.get<std::string>());
  return caps;
}

}  // namespace

Result<ordered_json> readJsonFile(const std::string& path) {
  auto text = readText(path);
  if (!text)
    return std::move(text).error();
  auto j = ordered_json::parse(*text, nullptr, false);
  if (j.is_discarded())
    return Error(EINVAL, path + ": not valid JSON");
  return j;
}

Result<ordered_json> seccompSection(const filter::RuleSet& rules, const std::string& policyName,
                                    const agent::ProfileOptions& o, const std::string& basePath,
                                    const ordered_json* forConfig) {
  std::vector<std::string> warnings;
  ordered_json out;
  if (basePath.empty()) {
    auto profile = agent::makeOciProfile(rules, policyName, o);
    if (!profile)
      return std::move(profile).error();
    warnings = profile->warnings;
    out = ordered_json::parse(profile->seccomp.dump());
  } else {
    auto base = readJsonFile(basePath);
    if (!base)
      return std::move(base).error().wrap("--base");
    if (forConfig != nullptr) {
      auto resolved = agent::resolveForContainer(*base, boundingCaps(*forConfig));
      if (!resolved)
        return std::move(resolved).error().wrap("--base " + basePath);
      base = std::move(*resolved);
    }
    auto composed = agent::composeWithBase(*base, rules, o, warnings);
    if (!composed)
      return std::move(composed).error().wrap("--base " + basePath);
    out = std::move(*composed);
  }
  for (const auto& w : warnings)
    log::app().warn("{}", w);
  return out;
}

Status mergeIntoConfig(const std::string& configPath, const ordered_json& seccomp) {
  std::error_code ec;
  const std::string path = std::filesystem::canonical(configPath, ec).string();
  if (ec)
    return Error(ec.value(), configPath + ": " + ec.message());
  auto text = readText(path);
  if (!text)
    return std::move(text).error();
  auto merged = agent::replaceLinuxSeccomp(*text, seccomp.dump(2));
  if (!merged)
    return std::move(merged).error().wrap(configPath);
  // What we wrote must read back as the old config with the new section.
  auto before = ordered_json::parse(*text, nullptr, false);
  auto after = ordered_json::parse(*merged, nullptr, false);
  if (before.is_discarded() || after.is_discarded())
    return Error(EINVAL, configPath + ": not valid JSON");
  before["linux"]["seccomp"] = seccomp;
  // Compared without key order: a new member goes first in its object.
  if (nlohmann::json::parse(before.dump()) != nlohmann::json::parse(after.dump()))
    return Error(EINVAL, configPath + ": the merge did not give the expected document (not "
                                      "changed)");
  struct stat st {};
  if (stat(path.c_str(), &st) != 0)
    return Error(errno, path + ": " + std::strerror(errno));
  const std::string dir = std::filesystem::path(path).parent_path().string();
  std::string tmp = dir + "/.config.json.extsys-XXXXXX";
  const int fd = mkstemp(tmp.data());
  if (fd < 0)
    return Error(errno, dir + ": cannot create a temporary file: " + std::strerror(errno));
  auto fail = [&](const std::string& what) {
    const int e = errno;
    close(fd);
    unlink(tmp.c_str());
    return Error(e, tmp + ": " + what + ": " + std::strerror(e));
  };
  size_t done = 0;
  while (done < merged->size()) {
    const ssize_t n = write(fd, merged->data() + done, merged->size() - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return fail("write");
    done += static_cast<size_t>(n);
  }
  if (fchown(fd, st.st_uid, st.st_gid) != 0 && errno != EPERM)
    return fail("fchown");
  if (fchmod(fd, st.st_mode & 07777) != 0)
    return fail("fchmod");
  if (fsync(fd) != 0)
    return fail("fsync");
  close(fd);
  if (rename(tmp.c_str(), path.c_str()) != 0) {
    const int e = errno;
    unlink(tmp.c_str());
    return Error(e, path + ": rename: " + std::strerror(e));
  }
  return Unit{};
}

int checkCommand(const std::string& path, const std::string& basePath) {
  auto doc = readJsonFile(path);
  if (!doc) {
    std::fprintf(stderr, "extsys: oci-profile --check: %s\n", doc.error().message().c_str());
    return kExitUsage;
  }
  ordered_json base;
  if (!basePath.empty()) {
    auto b = readJsonFile(basePath);
    if (!b) {
      std::fprintf(stderr, "extsys: oci-profile --check: --base: %s\n",
                   b.error().message().c_str());
      return kExitUsage;
    }
    base = std::move(*b);
  }
  // A config.json (ociVersion, linux...) or a bare profile.
  const bool isConfig = doc->is_object() && (doc->contains("ociVersion") || doc->contains("linux"));
  const ordered_json seccomp =
      isConfig ? doc->value("linux", ordered_json::object()).value("seccomp", ordered_json())
               : *doc;
  const auto findings = agent::checkProfile(seccomp, basePath.empty() ? nullptr : &base);
  const std::string prefix = isConfig ? "linux.seccomp." : "";
  for (const auto& f : findings)
    std::printf("%s: %s%s: %s\n", path.c_str(), prefix.c_str(), f.where.c_str(), f.what.c_str());
  if (findings.empty())
    std::printf("%s: ok\n", path.c_str());
  return findings.empty() ? 0 : 1;
}

}  // namespace extsys::app
