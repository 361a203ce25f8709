// SPDX-License-Identifier: MIT
// app/usage.h - what the command line says when it is not understood: one
// line starting with "extsys:", naming what was not understood, and exit
// status 2 on every subcommand (README, "Exit status"). Also `extsys help
// [COMMAND]`.
#pragma once

#include <string>
#include <vector>

#include "app/cli_fwd.h"

namespace extsys::app {

// Usage errors on every subcommand (`run` included: also an invalid or
// unusable policy), as most GNU tools do. Nothing was started.
inline constexpr int kExitUsage = 2;

// Prints "extsys: MESSAGE" for a policy that cannot be used (not found,
// not a regular file, refused, invalid: "extsys: FILE:LINE:COL: ...") and
// returns kExitUsage.
int policyError(const std::string& message);

// Rejects an empty value: `--policy "$UNSET"` must not quietly mean the
// default, nor `--audit ""` no audit.
const CLI::Validator& nonEmpty();

// Checks the command words before CLI11 parses: an unknown command (at the
// top or under `policy`) or a missing one is reported here. Returns -1 when
// the words are fine, else the exit status (after printing the message).
int checkCommandWords(CLI::App& app, int argc, char** argv);

// "extsys: CHAIN: a command is required (commands: ...)", status 2: for
// `extsys` alone, `extsys policy`.
int missingCommand(CLI::App& parent, const std::string& chain);

// Prints a CLI11 parse error as "extsys: COMMAND: what (see extsys COMMAND
// --help)", or help and version as CLI11 does; returns the exit status.
int reportParseError(CLI::App& app, const CLI::ParseError& e);

// `extsys help [COMMAND...]`: registered so that help lists it; its words
// are handed to helpCommand before CLI11 parses (which would take `run` in
// `help run` for the run command).
void addHelpCommand(CLI::App& app);
int helpCommand(CLI::App& app, const std::vector<std::string>& topic);

}  // namespace extsys::app
