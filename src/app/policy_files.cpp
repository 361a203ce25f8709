// SPDX-License-Identifier: MIT
// app/policy_files.cpp - policy lookup.
#include "app/policy_files.h"

#include <unistd.h>

#include <cstdlib>
#include <filesystem>

#include "config.h"
#include "policy/toml_loader.h"

namespace extsys::app {

std::vector<std::string> policySearchDirs() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("EXTSYS_POLICY_DIR"); env && *env)
    dirs.emplace_back(env);
#if EXTSYS_BUILD_TREE_POLICIES
  std::error_code ec;
  const auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (!ec) {
    // Not installed: run from the build dir it was built in, it uses the
    // policies of the source tree it was built from.
    const std::string buildRoot = std::string(EXTSYS_BUILD_ROOT) + "/";
    if (exe.string().starts_with(buildRoot) &&
        std::filesystem::is_directory(EXTSYS_SOURCE_POLICIES, ec))
      dirs.emplace_back(EXTSYS_SOURCE_POLICIES);
    // <source>/build/src/app/extsys -> <source>/policies: the same tree,
    // also where the build dir was copied elsewhere with it (tools/oldkernel).
    const auto tree = exe.parent_path().parent_path().parent_path().parent_path() / "policies";
    if (std::filesystem::is_directory(tree, ec) && tree.string() != EXTSYS_SOURCE_POLICIES)
      dirs.push_back(tree.string());
  }
#endif
  dirs.push_back(std::string(EXTSYS_DATADIR) + "/policies");
  return dirs;
}

Result<policy::Policy> loadPolicyArg(const std::string& arg) {
  if (arg.empty() || arg == "default")
    return policy::defaultPolicy();
  if (arg.find('/') != std::string::npos || arg.ends_with(".toml"))
    return policy::loadPolicyFile(arg);
  std::string tried;
  for (const auto& dir : policySearchDirs()) {
    const std::string path = dir + "/" + arg + ".toml";
    if (access(path.c_str(), F_OK) == 0)
      return policy::loadPolicyFile(path);
    tried += (tried.empty() ? "" : ", ") + dir;
  }
  return Error(ENOENT, "policy '" + arg + "' not found (searched " + tried +
                           "; give a path to use a file elsewhere)");
}

}  // namespace extsys::app
