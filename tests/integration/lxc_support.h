// SPDX-License-Identifier: MIT
// integration/lxc_support.h - what the LXC tests (lxc_proxy_test.cpp,
// lxc_execute_test.cpp) share: a temporary directory, a command run, and a
// fake LXC monitor that forwards a child's notifications to the agent the
// way LXC 5.0's seccomp_notify_handler does (issue 21).
#pragma once

#include <linux/seccomp.h>
#include <sys/types.h>

#include <cstdint>
#include <string>
#include <vector>

#include "agent/lxc_proxy.h"
#include "kernel/listener/notify.h"
#include "subprocess.h"

namespace extsys::test {

// A new directory under the temporary directory, NAME-XXXXXX.
std::string makeDir(const char* name);

// argv with the default time limit and no extra environment.
RunResult runCmd(std::vector<std::string> argv, int timeoutSec = 60);

// A connected SOCK_SEQPACKET socket (10 s receive timeout), or -1.
int connectSeqpacket(const std::string& path);

// sendmsg of `bytes` with `fds` in SCM_RIGHTS (none if empty).
ssize_t sendWithFds(int s, const std::vector<uint8_t>& bytes, const std::vector<int>& fds);

// A message as LXC builds it: header, notif, resp template (id), cookie.
std::vector<uint8_t> lxcMessage(const agent::lxc::ProxyHeader& h, const seccomp_notif& n,
                                const std::string& cookie, size_t notifSize, size_t respSize);

// SECCOMP_GET_NOTIF_SIZES of this kernel.
kernel::NotifSizes kernelSizes();

struct MonitorResult {
  int childStatus = -1;
  int forwarded = 0;
  std::string error;  // the fake monitor's own failure
};

// Forks `argv` under extsys's default filter and plays LXC's monitor for it:
// every notification is forwarded to the agent at `socket` with `cookie`,
// the reply checked (size, header, notification unchanged, id) and sent to
// the kernel. `monitorPid` 0: our own pid, as LXC sends it.
MonitorResult fakeMonitor(const std::string& socket, const std::string& cookie,
                          const std::vector<std::string>& argv,
                          const std::vector<std::string>& env = {}, pid_t monitorPid = 0);

std::string statusText(const MonitorResult& r);

}  // namespace extsys::test
