// SPDX-License-Identifier: MIT
// agent/container_state.h - the OCI "container process state" a runtime
// sends to `linux.seccomp.listenerPath`, and the agent's listenerMetadata
// grammar. Pure: no I/O, tested in-process.
//
// The message (runtime-spec config-linux.md, "The Container Process State"):
//   {"ociVersion", "fds": ["seccompFd"], "pid", "metadata",
//    "state": {"ociVersion", "id", "status", "pid", "bundle", "annotations"}}
// runc sends it compact, crun pretty-printed with a trailing newline; both
// keep the connection open afterwards, so the agent must recognise a complete
// document instead of waiting for EOF.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"

namespace extsys::agent {

// Finds the end of one JSON object fed in pieces: tracks brace/bracket depth
// outside strings (escapes included). O(bytes) over the whole message.
class JsonObjectScanner {
public:
  enum class State : uint8_t { NeedMore, Complete, Malformed };

  // Consumes `chunk`. Complete once the top-level object closed; bytes after
  // it (a trailing newline) are ignored. Malformed if the document does not
  // start with '{' or closes more than it opened.
  State feed(std::string_view chunk);
  State state() const { return state_; }
  // Bytes up to and including the closing brace (valid once Complete).
  size_t end() const { return offset_; }

private:
  State state_ = State::NeedMore;
  bool started_ = false;
  bool inString_ = false;
  bool escaped_ = false;
  size_t depth_ = 0;
  size_t offset_ = 0;
};

struct ContainerProcessState {
  std::string ociVersion;
  std::vector<std::string> fds;  // names; index = index in SCM_RIGHTS
  int64_t pid = 0;               // the process the listener belongs to (crun exec: 0)
  std::string metadata;          // linux.seccomp.listenerMetadata
  // state: the standard runtime state.
  std::string id;
  std::string status;  // "creating" (init) or "running" (exec)
  int64_t initPid = 0;
  std::string bundle;
};

// Parses and validates the message: required fields present with the right
// types, "seccompFd" named in fds. Errors say which field is wrong.
[[nodiscard]] Result<ContainerProcessState> parseContainerProcessState(std::string_view json);

// Index of "seccompFd" in fds (validated by the parser).
size_t seccompFdIndex(const ContainerProcessState& s);

// listenerMetadata as the agent reads it: empty, or `key=value` items
// separated by spaces, commas or semicolons. Known keys:
//   policy=NAME   the policy for this container (a NAME from the agent's
//                 policy directories; never a path)
// Unknown keys, duplicates and malformed items are errors.
struct AgentMetadata {
  std::string policy;  // empty: the agent's default
};
[[nodiscard]] Result<AgentMetadata> parseAgentMetadata(std::string_view metadata);

}  // namespace extsys::agent
