// SPDX-License-Identifier: MIT
// app/policy_files.cpp - policy lookup.
#include "app/policy_files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>

#include "base/files.h"
#include "config.h"
#include "policy/personas.h"
#include "policy/toml_loader.h"

namespace extsys::app {
namespace {

// $XDG_CONFIG_HOME/extsys/policies, else $HOME/.config/extsys/policies; ""
// when neither is set. Relative values are ignored, as the XDG Base
// Directory specification says. (No getpwuid(3) fallback: extsys is linked
// -static, where NSS lookups are unreliable.)
std::string userPolicyDir() {
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && xdg[0] == '/')
    return std::string(xdg) + "/extsys/policies";
  if (const char* home = std::getenv("HOME"); home && home[0] == '/')
    return std::string(home) + "/.config/extsys/policies";
  return "";
}

#if EXTSYS_BUILD_TREE_POLICIES
// Only a binary that is inside the build directory it was built in uses the
// source tree's policies: an installed or copied binary never looks there,
// and a -Dbuild_tree_policies=false build (packages) has no such paths.
bool inBuildTree() {
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  return !ec && exe.string().starts_with(std::string(EXTSYS_BUILD_ROOT) + "/");
}
#endif

}  // namespace

std::vector<PolicyDir> policySearchDirs() {
  std::vector<PolicyDir> dirs;
  if (const char* env = std::getenv("EXTSYS_POLICY_DIR"); env && *env)
    dirs.push_back({env, "$EXTSYS_POLICY_DIR"});
#if EXTSYS_BUILD_TREE_POLICIES
  if (inBuildTree())
    dirs.push_back({EXTSYS_SOURCE_POLICIES, "source tree of this build"});
#endif
  if (std::string user = userPolicyDir(); !user.empty())
    dirs.push_back({user, "your configuration"});
  dirs.push_back({"/etc/extsys/policies", "system configuration"});
  dirs.push_back({std::string(EXTSYS_DATADIR) + "/policies", "installed with extsys"});
  return dirs;
}

Result<policy::Policy> loadFoundPolicy(const std::string& dir, const std::string& path) {
  std::string why;
  struct stat st {};
  if (stat(dir.c_str(), &st) != 0)
    return Error(errno, dir + ": " + std::strerror(errno));
  if (!trustedOwnerAndMode(st, dir, &why))
    return Error(EPERM, why + "; refused: a policy directory must be owned by root or by you "
                              "and writable by no one else");
  // The checks are made on the file opened, so a swap in between gains nothing.
  auto text = readRegularFile(path, kMaxPolicyBytes, &st);
  if (!text)
    return std::move(text).error();
  if (!trustedOwnerAndMode(st, path, &why))
    return Error(EPERM, why + "; refused: a policy found by name must be owned by root or by "
                              "you and writable by no one else");
  return policy::parsePolicy(*text, path);
}

Result<policy::Policy> loadPolicyArg(const std::string& arg) {
  if (arg.empty() || arg == "default")
    return policy::defaultPolicy();
  if (arg.find('/') != std::string::npos || arg.ends_with(".toml"))
    return policy::loadPolicyFile(arg);
  // kernel-X.Y: a built-in persona, derived from the version table; no file
  // of that name is looked for (policy list marks one as not used).
  if (auto v = policy::parsePersonaName(arg))
    return policy::personaPolicy(*v);
  if (arg.starts_with("kernel-"))
    return Error(ENOENT, "policy '" + arg + "': not a kernel release extsys has a persona for "
                         "(kernel-X.Y for X.Y in " + policy::knownPersonaReleases() + ")");
  std::string tried;
  for (const auto& dir : policySearchDirs()) {
    const std::string path = dir.path + "/" + arg + ".toml";
    struct stat st {};
    if (lstat(path.c_str(), &st) != 0 && errno == ENOENT) {
      tried += (tried.empty() ? "" : ", ") + dir.path;
      continue;
    }
    // Found: this one or an error, never a quiet fall-through to the next.
    auto p = loadFoundPolicy(dir.path, path);
    if (!p && p.error().err() == EPERM)  // refused: say which NAME it was for
      return Error(EPERM, "policy '" + arg + "': " + p.error().message());
    return p;
  }
  return Error(ENOENT, "policy '" + arg + "' not found (searched " + tried +
                           "; give a path to use a file elsewhere)");
}

}  // namespace extsys::app
