// SPDX-License-Identifier: MIT
// app/cli_fwd.h - CLI11's classes by name, for the app's headers.
//
// Only the files that build or parse a command line include <CLI/CLI.hpp>.
// Every file that does constructs CLI11's eight global validators again at
// start-up (they are `const` objects in a header: one copy per file, each
// with heap-allocated strings), and parses ~15 000 lines more.
#pragma once

namespace CLI {
class App;
class ParseError;
class Validator;
}  // namespace CLI
