// SPDX-License-Identifier: MIT
// app/supervisor_flags.cpp - --sync-wakeup and --threads.
#include "app/supervisor_flags.h"

#include <CLI/CLI.hpp>
#include <unistd.h>

namespace extsys::app {

void addSupervisorFlags(CLI::App* cmd, SupervisorFlags& flags, const std::string& perWhat) {
  cmd->add_option("--sync-wakeup", flags.syncWakeUp,
                  "SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (Linux 6.6+): auto|on|off")
      ->check(CLI::IsMember({"auto", "on", "off"}));
  cmd->add_option("--threads", flags.threads,
                  "most supervisor threads answering " + perWhat +
                      "; a second one starts only when probes queue up (default: one per two "
                      "CPUs, at least 1, at most 8)")
      ->check(CLI::Range(1, 64));
}

supervisor::SupervisorOptions supervisorOptions(const SupervisorFlags& flags,
                                                bool kernelHasSyncWakeUp) {
  supervisor::SupervisorOptions so;
  so.pageSize = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  so.syncWakeUp = flags.syncWakeUp == "on"    ? supervisor::SyncWakeUp::On
                  : flags.syncWakeUp == "off" ? supervisor::SyncWakeUp::Off
                  : kernelHasSyncWakeUp       ? supervisor::SyncWakeUp::Auto
                                              : supervisor::SyncWakeUp::Off;
  so.maxWorkers = flags.threads != 0 ? flags.threads : supervisor::defaultWorkers();
  return so;
}

}  // namespace extsys::app
