// SPDX-License-Identifier: MIT
// integration/escape_rows.cpp - the escape suite's rows (escape_rows.h).
#include "escape_rows.h"

#include <algorithm>

namespace extsys::test {
namespace {

constexpr const char* kSupervised = "strict-supervised";

// fchmodat2 is Linux 6.6: an older kernel answers ENOSYS, and the claim holds.
std::string setidErrno(const std::string& kind) {
  return kind.rfind("fchmodat2", 0) == 0 ? "EPERM|ENOSYS" : "EPERM";
}

std::string rowName(std::string n) {
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
}

// Every way to reach a process outside the sandboxed tree, against `who`.
void processRows(std::vector<Row>& rows, const std::string& who, const std::string& tag,
                 const std::string& policy, const std::string& model, As as, bool all) {
  auto add = [&](const std::string& name, std::vector<std::string> args, const char* expect,
                 Claim claim) {
    rows.push_back({name + "_" + tag, std::move(args), expect, as, claim, policy, model});
  };
  add("ptrace_inject", {"ptrace-inject", who}, "EPERM", Claim::Ptrace);
  if (all)
    add("process_vm_readv", {"vm-read", who}, "EPERM", Claim::Ptrace);
  add("process_vm_writev", {"vm-write", who}, "EPERM", Claim::Ptrace);
  add("proc_pid_mem_rdwr", {"proc-mem", who}, "EACCES", Claim::Ptrace);
  add("pidfd_getfd", {"pidfd-getfd", who}, "EPERM", Claim::Ptrace);
  for (const char* route : {"kill", "tkill", "tgkill", "sigqueue", "pidfd"}) {
    if (all || route == std::string("kill"))
      add(std::string("sigstop_") + route, {"signal", who, route}, "EPERM", Claim::Scoped);
  }
  // F_SETOWN: the fcntl and the write succeed; the kernel drops the signal.
  if (all)
    add("sigstop_sigio", {"signal", who, "sigio"}, "0", Claim::Scoped);
  // prlimit64 has no Landlock hook: a BPF rule refuses setting another
  // process's limits (RLIMIT_CPU would kill it).
  add("prlimit", {"prlimit", who}, "EPERM", Claim::Rule);
}

void setidRows(std::vector<Row>& rows, As as) {
  for (const char* kind : {"chmod", "fchmod", "fchmodat", "fchmodat2", "fchmodat2-empty",
                           "chmod-procfd", "mknod", "mknodat", "open", "openat", "creat", "tmpfile"})
    rows.push_back({rowName(std::string("setuid_") + kind), {"setid", kind, "{DIR}", "suid"},
                    setidErrno(kind), as});
  if (as == As::Nobody)
    for (const char* kind : {"chmod", "fchmod", "fchmodat2", "mknodat", "openat"})
      rows.push_back({std::string("setgid_") + kind, {"setid", kind, "{DIR}", "sgid"},
                      setidErrno(kind), as});
}

void usernsRows(std::vector<Row>& rows, As as) {
  rows.push_back({"setns_userns_fd_nstype0", {"userns-setns", "{USERNS_FD}", "0"}, "EPERM", as});
  rows.push_back({"setns_userns_fd_newuser", {"userns-setns", "{USERNS_FD}", "user"}, "EPERM", as});
  // nstype is an int: 1<<32 is 0 to the kernel.
  rows.push_back(
      {"setns_userns_fd_nstype_high_bits", {"userns-setns", "{USERNS_FD}", "high"}, "EPERM", as});
  if (as == As::Nobody) {
    // Opening /proc/PID/ns/user of a process outside is itself ptrace-class.
    rows.push_back({"setns_userns_proc_path", {"userns-setns-path", "{USERNS_PID}", "0"}, "EACCES",
                    as, Claim::Ptrace});
    rows.push_back({"setns_userns_pidfd", {"userns-setns-pidfd", "{USERNS_PID}"}, "EPERM", as});
    rows.push_back({"setns_userns_nsfs_handle", {"userns-setns-handle", "{USERNS_FD}"}, "EPERM", as});
  }
  rows.push_back({"clone_newuser", {"userns-clone"}, "EPERM", as});
  rows.push_back({"unshare_newuser", {"userns-unshare"}, "EPERM", as});
  rows.push_back({"clone3_newuser", {"userns-clone3"}, "ENOSYS", as});
}

void sideDoorRows(std::vector<Row>& rows, As as) {
  rows.push_back({"io_uring_setup", {"io-uring"}, "ENOSYS", as});
  rows.push_back({"int80_getpid", {"int80-getpid"}, "ENOSYS", as});
  if (as == As::Nobody)
    rows.push_back({"int80_chmod_setuid", {"int80-chmod", "{DIR}"}, "ENOSYS", as});
}

}  // namespace

std::vector<Row> nobodyRows() {
  std::vector<Row> rows;
  // No supervisor under sandbox-strict (its filter notifies nothing), in
  // either process model: no process of extsys to attack.
  rows.push_back({"no_supervisor", {"find", "{SUPER}"}, "ESRCH"});
  rows.push_back({"no_supervisor_ancestor", {"find", "{SUPER}"}, "ESRCH", As::Nobody, Claim::Rule,
                  "sandbox-strict", "ancestor"});
  rows.push_back({"no_front_ancestor", {"find", "{FRONT}"}, "ESRCH", As::Nobody, Claim::Rule,
                  "sandbox-strict", "ancestor"});
  // Containment: processes outside the sandboxed tree. A supervisor where a
  // strict policy keeps one (both process models), the ancestor model's
  // front, and a same-uid process of the user.
  processRows(rows, "{SUPER}", "supervisor", kSupervised, "", As::Nobody, true);
  processRows(rows, "{SUPER}", "supervisor_ancestor", kSupervised, "ancestor", As::Nobody, false);
  processRows(rows, "{FRONT}", "front_ancestor", kSupervised, "ancestor", As::Nobody, false);
  processRows(rows, "{SLEEP}", "outside_process", "sandbox-strict", "", As::Nobody, true);
  rows.push_back({"abstract_unix_connect_outside", {"abstract-connect", "{ABSTRACT}"}, "EPERM",
                  As::Nobody, Claim::Scoped});
  rows.push_back({"abstract_unix_sendto_outside", {"abstract-sendto", "{ABSTRACT_DGRAM}"}, "EPERM",
                  As::Nobody, Claim::Scoped});
  // Exec in place keeps the terminal: TIOCSTI would type commands into the
  // user's shell for after PROGRAM exits.
  rows.push_back({"tiocsti_controlling_terminal", {"tiocsti"}, "EPERM"});
  setidRows(rows, As::Nobody);
  usernsRows(rows, As::Nobody);
  sideDoorRows(rows, As::Nobody);
  return rows;
}

std::vector<Row> rootRows() {
  std::vector<Row> rows;
  // Landlock's scoping has no capability override: it holds for root too.
  rows.push_back({"ptrace_inject_outside_process", {"ptrace-inject", "{SLEEP}"}, "EPERM", As::Root,
                  Claim::Ptrace});
  rows.push_back({"process_vm_writev_supervisor", {"vm-write", "{SUPER}"}, "EPERM", As::Root,
                  Claim::Ptrace, kSupervised});
  rows.push_back({"sigstop_kill_outside_process", {"signal", "{SLEEP}", "kill"}, "EPERM", As::Root,
                  Claim::Scoped});
  // Root's own supervisor: the same uid, so only the rule refuses (another
  // user's process would need CAP_SYS_RESOURCE, which a test host may lack).
  rows.push_back({"prlimit_supervisor", {"prlimit", "{SUPER}"}, "EPERM", As::Root, Claim::Rule,
                  kSupervised});
  // Mount attributes, on a ro,nosuid,nodev,noexec tmpfs in a private mount namespace.
  rows.push_back({"mount_remount_bind", {"mount-remount-bind", "{MNT}"}, "EPERM", As::Root});
  rows.push_back({"mount_remount", {"mount-remount", "{MNT}"}, "EPERM", As::Root});
  rows.push_back({"mount_setattr_clear", {"mount-setattr", "{MNT}"}, "ENOSYS", As::Root});
  rows.push_back({"fsopen_fsmount_move_mount", {"mount-fsmount", "{MNT}"}, "ENOSYS", As::Root});
  rows.push_back({"fspick_reconfigure_rw", {"mount-fspick", "{MNT}"}, "ENOSYS", As::Root});
  rows.push_back({"open_tree_attr_clear", {"mount-open-tree-attr", "{MNT}"}, "ENOSYS", As::Root});
  setidRows(rows, As::Root);
  // Documented as not covered: root has CAP_SETFCAP, and the attribute's
  // name is in memory. The suite proves the documentation right.
  rows.push_back({"setxattr_security_capability", {"setid", "setxattr-caps", "{DIR}", "caps"},
                  "EPERM", As::Root, Claim::NotForRoot});
  usernsRows(rows, As::Root);
  sideDoorRows(rows, As::Root);
  return rows;
}

}  // namespace extsys::test
