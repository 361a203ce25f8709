// SPDX-License-Identifier: MIT
// app/main.cpp - the `extsys` command line.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <string_view>
#include <utility>

#include "app/agent_command.h"
#include "app/features_command.h"
#include "app/matrix_command.h"
#include "app/policy_command.h"
#include "app/run_command.h"
#include "app/usage.h"
#include "app/version_info.h"

int main(int argc, char** argv) {
  CLI::App app(
      "extsys - CHECK_FIELDS feature probes for openat2, clone3, mount_setattr and the other "
      "extensible-struct syscalls, on any kernel.",
      "extsys");
  app.footer(
      "Run `extsys help COMMAND` or `extsys COMMAND --help` for a command's options.\n\n"
      "Exit status: 0 on success; 2 for a usage error on any command (unknown command or\n"
      "option, bad value, invalid or unusable policy: nothing was started); 1 when a\n"
      "command other than run fails. run: PROGRAM's own status, else 125 (extsys failed),\n"
      "126 (PROGRAM cannot be executed), 127 (PROGRAM not found).");
  app.set_version_flag("-V,--version", extsys::app::versionText,
                       "Print the version, the git commit, libseccomp's version and the build's "
                       "features, and exit");

  // Each command's options are built only when argv[1] names that command
  // (or names none: help, a misspelt word, options only, where every
  // command is listed). CLI11 allocates every option it is given, ~90 KB of
  // heap in all: fresh pages `extsys run`'s start-up would fault in for
  // nothing (issue 22). A command built alone judges its own arguments the
  // same way; its siblings only appear in the top level's --help.
  extsys::app::RunOptions run;
  extsys::app::FeaturesOptions features;
  extsys::app::PolicyOptions policyOptions;
  extsys::app::AgentCommandOptions agent;
  extsys::app::OciProfileOptions ociProfile;
  extsys::app::MatrixOptions matrix;  // extsys matrix (issue 23)
  CLI::App *runCmd = nullptr, *featuresCmd = nullptr, *agentCmd = nullptr,
           *ociProfileCmd = nullptr, *matrixCmd = nullptr, *versionCmd = nullptr;
  extsys::app::PolicyCommands policyCmds{};
  const std::pair<std::string_view, std::function<CLI::App*()>> commands[] = {
      {"run", [&] { return runCmd = extsys::app::addRunCommand(app, run); }},
      {"features", [&] { return featuresCmd = extsys::app::addFeaturesCommand(app, features); }},
      {"policy",
       [&] {
         policyCmds = extsys::app::addPolicyCommand(app, policyOptions);
         return policyCmds.check->get_parent();
       }},
      {"agent", [&] { return agentCmd = extsys::app::addAgentCommand(app, agent); }},
      {"oci-profile",
       [&] { return ociProfileCmd = extsys::app::addOciProfileCommand(app, ociProfile); }},
      {"matrix", [&] { return matrixCmd = extsys::app::addMatrixCommand(app, matrix); }},
      {"version",
       [&] { return versionCmd = app.add_subcommand("version", "Print the same as --version."); }},
  };
  const std::string_view word = argc >= 2 ? argv[1] : "";
  const bool one = std::ranges::any_of(commands, [&](const auto& c) { return c.first == word; });
  for (const auto& [name, build] : commands)
    if ((!one || name == word) && build()->get_name() != name)
      return 70;  // EX_SOFTWARE: this table and the command's own name disagree
  extsys::app::addHelpCommand(app);
  std::vector<std::string> command = extsys::app::splitCommand(argc, argv);
  // Was this command built and chosen?
  auto chosen = [](const CLI::App* cmd) { return cmd != nullptr && cmd->parsed(); };

  if (int rc = extsys::app::checkCommandWords(app, argc, argv); rc >= 0)
    return rc;
  // `help run`: CLI11 would take "run" for the run command itself.
  if (argc >= 2 && std::string_view(argv[1]) == "help")
    return extsys::app::helpCommand(app, std::vector<std::string>(argv + 2, argv + argc));
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return extsys::app::reportParseError(app, e);
  }

  if (chosen(versionCmd)) {
    std::printf("%s\n", extsys::app::versionText().c_str());
    return 0;
  }
  if (chosen(policyCmds.check))
    return extsys::app::policyCheckCommand(policyOptions);
  if (chosen(policyCmds.list))
    return extsys::app::policyListCommand(policyOptions);
  if (chosen(agentCmd))
    return extsys::app::agentCommand(std::move(agent));
  if (chosen(ociProfileCmd))
    return extsys::app::ociProfileCommand(ociProfile);
  if (chosen(featuresCmd))
    return extsys::app::featuresCommand(features);
  // extsys matrix (issue 23): COMMAND after `--` as for run.
  if (chosen(matrixCmd)) {
    std::vector<std::string> rest = matrixCmd->remaining();
    if (!command.empty() && !rest.empty()) {
      std::fprintf(stderr, "extsys: matrix: %s '%s' before '--' (see extsys matrix --help)\n",
                   rest.front().starts_with("-") ? "unknown option" : "unexpected argument",
                   rest.front().c_str());
      return extsys::app::kExitUsage;
    }
    matrix.command = command.empty() ? rest : command;
    return extsys::app::matrixCommand(std::move(matrix));
  }
  if (chosen(runCmd)) {
    std::vector<std::string> rest = runCmd->remaining();
    if (!command.empty() && !rest.empty()) {
      std::fprintf(stderr, "extsys: run: %s '%s' before '--' (see extsys run --help)\n",
                   rest.front().starts_with("-") ? "unknown option" : "unexpected argument",
                   rest.front().c_str());
      return extsys::app::kExitUsage;
    }
    run.command = command.empty() ? rest : command;
    return extsys::app::runCommand(std::move(run));
  }
  return extsys::app::missingCommand(app, "");
}
