// SPDX-License-Identifier: MIT
// app/version_info.cpp - what `extsys --version` and `extsys version` print.
#include "app/version_info.h"

#include <fmt/format.h>
#include <seccomp.h>

#include "app/version.h"
#include "config.h"

namespace extsys::app {

std::string versionText() {
  constexpr const char* kCommit = EXTSYS_GIT_DESCRIBE;
  // seccomp_version() is the library actually running: the same as the
  // headers' in a static binary, possibly newer in a dynamic one.
  const scmp_version* running = seccomp_version();
#ifdef NDEBUG
  constexpr const char* kAssertions = "";
#else
  constexpr const char* kAssertions = ", assertions";
#endif
  return fmt::format(
      "extsys {}\n"
      "commit:     {}\n"
      "libseccomp: {}.{}.{} (built with {}.{}.{})\n"
      "build:      {}{}",
      EXTSYS_VERSION, kCommit[0] != '\0' ? kCommit : "unknown (not built from a git checkout)",
      running->major, running->minor, running->micro, SCMP_VER_MAJOR, SCMP_VER_MINOR,
      SCMP_VER_MICRO, EXTSYS_BUILD_FEATURES, kAssertions);
}

}  // namespace extsys::app
