// SPDX-License-Identifier: MIT
// app/version_info.h - what `extsys --version` and `extsys version` print.
#pragma once

#include <string>

namespace extsys::app {

// "extsys VERSION" and, one per line, the git commit it was built from, the
// libseccomp it was built with and runs with, and the build's features
// (static-pie or dynamic, build type, compiler, sanitizer...). No trailing
// newline.
std::string versionText();

}  // namespace extsys::app
