// SPDX-License-Identifier: MIT
// launcher/launcher.cpp - what both process models share: the checks before
// anything is forked, and the PATH search.
#include "launcher/launcher.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "launcher/ancestor.h"
#include "launcher/program.h"
#include "launcher/supervisor_process.h"

namespace extsys::launcher {

Result<std::string> findProgram(const std::string& name) {
  auto check = [](const std::string& path) -> int {
    struct stat st {};
    if (stat(path.c_str(), &st) != 0)
      return errno == ENOTDIR || errno == ENAMETOOLONG || errno == ELOOP ? ENOENT : errno;
    if (S_ISDIR(st.st_mode))
      return EISDIR;
    if (access(path.c_str(), X_OK) != 0)
      return EACCES;
    return 0;
  };
  if (name.empty())
    return Error(ENOENT, "empty program name");
  if (name.find('/') != std::string::npos) {
    if (int err = check(name))
      return Error(err, name);
    return name;
  }
  const char* env = std::getenv("PATH");
  std::string path = env ? env : "/bin:/usr/bin";
  int found = ENOENT;
  size_t start = 0;
  for (;;) {
    size_t colon = path.find(':', start);
    std::string dir = path.substr(start, colon == std::string::npos ? std::string::npos
                                                                    : colon - start);
    std::string candidate = (dir.empty() ? std::string(".") : dir) + "/" + name;
    int err = check(candidate);
    if (err == 0)
      return candidate;
    if (err == EACCES || err == EISDIR)
      found = EACCES;
    if (colon == std::string::npos)
      break;
    start = colon + 1;
  }
  return Error(found, name);
}

int launch(const LaunchSpec& spec, const SupervisorMain& supervisorMain) {
  if (spec.argv.empty()) {
    detail::message("no program given");
    return kExitLauncherFailed;
  }
  if (auto found = findProgram(spec.argv.front()); !found)
    return detail::reportNotStartable(spec.argv.front(), found.error());
  // `extsys run -- prog <&-`: whatever extsys opens from here on (sockets,
  // the listener) must not take fd 0, 1 or 2, which PROGRAM finds closed.
  detail::occupyClosedStdio();
  if (!spec.supervised)
    return detail::runUnsupervised(spec);
  if (spec.model == ProcessModel::Ancestor)
    return detail::runAncestor(spec, supervisorMain);
  return detail::runInPlace(spec, supervisorMain);
}

}  // namespace extsys::launcher
