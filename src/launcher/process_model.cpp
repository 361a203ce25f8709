// SPDX-License-Identifier: MIT
// launcher/process_model.cpp - Yama, CAP_SYS_PTRACE and the choice of model.
#include "launcher/process_model.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>

namespace extsys::launcher {
namespace {

constexpr const char* kYamaFile = "/proc/sys/kernel/yama/ptrace_scope";

bool haveCapSysPtrace() {
  __user_cap_header_struct header{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3] = {};
  if (::syscall(SYS_capget, &header, data) != 0)
    return false;
  return (data[CAP_TO_INDEX(CAP_SYS_PTRACE)].effective & CAP_TO_MASK(CAP_SYS_PTRACE)) != 0;
}

std::string scopeText(int scope) { return "Yama ptrace_scope=" + std::to_string(scope); }

}  // namespace

const char* name(ProcessModel m) { return m == ProcessModel::InPlace ? "in-place" : "ancestor"; }

Result<ModelRequest> parseModelRequest(std::string_view text) {
  if (text == "auto")
    return ModelRequest::Auto;
  if (text == "in-place")
    return ModelRequest::InPlace;
  if (text == "ancestor")
    return ModelRequest::Ancestor;
  return Error(EINVAL, "unknown process model '" + std::string(text) +
                           "' (auto, in-place or ancestor)");
}

PtraceAccess currentPtraceAccess() {
  PtraceAccess a;
  a.capSysPtrace = haveCapSysPtrace();
  std::ifstream in(kYamaFile);
  if (!in) {
    // ENOENT: no Yama. Anything else (EACCES, EIO): Yama is there but we
    // cannot tell how strict it is.
    a.yamaUnreadable = errno != ENOENT && access(kYamaFile, F_OK) == 0;
    return a;
  }
  int scope = -1;
  if (in >> scope && scope >= 0)
    a.yamaScope = scope;
  else
    a.yamaUnreadable = true;
  return a;
}

ModelChoice chooseProcessModel(ModelRequest request, const PtraceAccess& a) {
  // Whether a supervisor that is not PROGRAM's ancestor may write into it,
  // and whether one that is may.
  bool outsiderMayWrite = false, ancestorMayWrite = false;
  std::string why;
  if (a.yamaUnreadable) {
    ancestorMayWrite = true;
    why = std::string("cannot read ") + kYamaFile + ": assuming ptrace_scope=1";
  } else if (!a.yamaScope) {
    outsiderMayWrite = ancestorMayWrite = true;
    why = "no Yama (no " + std::string(kYamaFile) + ")";
  } else if (*a.yamaScope == 0) {
    outsiderMayWrite = ancestorMayWrite = true;
    why = scopeText(0) + " (classic ptrace rules)";
  } else if (*a.yamaScope <= 2 && a.capSysPtrace) {
    outsiderMayWrite = ancestorMayWrite = true;
    why = scopeText(*a.yamaScope) + ", and this process has CAP_SYS_PTRACE";
  } else if (*a.yamaScope == 1) {
    ancestorMayWrite = true;
    why = scopeText(1) + " without CAP_SYS_PTRACE: only an ancestor may write into a process";
  } else if (*a.yamaScope == 2) {
    why = scopeText(2) + " lets only CAP_SYS_PTRACE holders write into another process";
  } else {
    why = scopeText(*a.yamaScope) + " forbids writing into another process, even for root";
  }

  ModelChoice c;
  const char* e2big = "every probe will be answered E2BIG (as by a kernel without CHECK_FIELDS): ";
  switch (request) {
  case ModelRequest::InPlace:
    c.model = ProcessModel::InPlace;
    c.reason = "forced by --process-model in-place; " + why;
    if (!outsiderMayWrite)
      c.warning = e2big + why + (ancestorMayWrite ? " (--process-model ancestor would work)" : "");
    return c;
  case ModelRequest::Ancestor:
    c.model = ProcessModel::Ancestor;
    c.reason = "forced by --process-model ancestor; " + why;
    if (!ancestorMayWrite)
      c.warning = e2big + why;
    return c;
  case ModelRequest::Auto:
    break;
  }
  if (outsiderMayWrite) {
    c.model = ProcessModel::InPlace;
    c.reason = why;
  } else if (ancestorMayWrite) {
    c.model = ProcessModel::Ancestor;
    c.reason = why;
  } else {
    const bool capHelps = a.yamaScope && *a.yamaScope == 2;
    c.reason = why + ", so every probe would be answered E2BIG; " +
               (capHelps ? "run as root (or with CAP_SYS_PTRACE), or force" : "force") +
               " a model with --process-model to run anyway";
  }
  return c;
}

}  // namespace extsys::launcher
