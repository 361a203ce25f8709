// SPDX-License-Identifier: MIT
// agent/container_state.cpp - container process state and metadata parsing.
#include "agent/container_state.h"

#include <algorithm>
#include <nlohmann/json.hpp>

namespace extsys::agent {
namespace {

using nlohmann::json;

// nlohmann throws on type mismatches; every access below checks the type
// first, so no exception can escape.
Result<std::string> stringField(const json& o, const char* key, bool required) {
  auto it = o.find(key);
  if (it == o.end()) {
    if (required)
      return Error(EINVAL, std::string("missing \"") + key + "\"");
    return std::string();
  }
  if (!it->is_string())
    return Error(EINVAL, std::string("\"") + key + "\" is not a string");
  return it->get<std::string>();
}

Result<int64_t> pidField(const json& o, const char* key) {
  auto it = o.find(key);
  if (it == o.end())
    return Error(EINVAL, std::string("missing \"") + key + "\"");
  if (!it->is_number_integer() || it->get<int64_t>() < 0 || it->get<int64_t>() > INT32_MAX)
    return Error(EINVAL, std::string("\"") + key + "\" is not a process id");
  return it->get<int64_t>();
}

bool validPolicyName(std::string_view n) {
  if (n.empty() || n.size() > 200 || n.front() == '.' || n.front() == '-')
    return false;
  if (n.size() >= 5 && n.substr(n.size() - 5) == ".toml")
    return false;  // would be read as a file path
  return std::all_of(n.begin(), n.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '_' || c == '.';
  });
}

}  // namespace

JsonObjectScanner::State JsonObjectScanner::feed(std::string_view chunk) {
  for (char c : chunk) {
    if (state_ != State::NeedMore)
      return state_;
    ++offset_;
    if (!started_) {
      if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
        continue;
      if (c != '{')
        return state_ = State::Malformed;
      started_ = true;
      depth_ = 1;
      continue;
    }
    if (inString_) {
      if (escaped_)
        escaped_ = false;
      else if (c == '\\')
        escaped_ = true;
      else if (c == '"')
        inString_ = false;
      continue;
    }
    switch (c) {
      case '"':
        inString_ = true;
        break;
      case '{':
      case '[':
        ++depth_;
        break;
      case '}':
      case ']':
        if (--depth_ == 0)
          state_ = State::Complete;
        break;
      default:
        break;
    }
  }
  return state_;
}

Result<ContainerProcessState> parseContainerProcessState(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded())
    return Error(EINVAL, "the container process state is not valid JSON");
  if (!j.is_object())
    return Error(EINVAL, "the container process state is not a JSON object");
  auto fail = [](Error e) { return std::move(e).wrap("container process state"); };

  ContainerProcessState s;
  auto v = stringField(j, "ociVersion", true);
  if (!v)
    return fail(std::move(v).error());
  s.ociVersion = *v;
  auto pid = pidField(j, "pid");
  if (!pid)
    return fail(std::move(pid).error());
  s.pid = *pid;
  auto md = stringField(j, "metadata", false);
  if (!md)
    return fail(std::move(md).error());
  s.metadata = *md;

  auto fds = j.find("fds");
  if (fds == j.end() || !fds->is_array())
    return fail(Error(EINVAL, "missing \"fds\" (the names of the file descriptors sent)"));
  for (const auto& f : *fds) {
    if (!f.is_string())
      return fail(Error(EINVAL, "\"fds\" holds a value that is not a string"));
    s.fds.push_back(f.get<std::string>());
  }
  if (std::count(s.fds.begin(), s.fds.end(), "seccompFd") != 1)
    return fail(Error(EINVAL, "\"fds\" must name \"seccompFd\" exactly once"));

  auto st = j.find("state");
  if (st == j.end() || !st->is_object())
    return fail(Error(EINVAL, "missing \"state\""));
  auto id = stringField(*st, "id", true);
  if (!id)
    return fail(std::move(id).error().wrap("state"));
  s.id = *id;
  auto status = stringField(*st, "status", false);
  if (!status)
    return fail(std::move(status).error().wrap("state"));
  s.status = *status;
  auto bundle = stringField(*st, "bundle", false);
  if (!bundle)
    return fail(std::move(bundle).error().wrap("state"));
  s.bundle = *bundle;
  if (st->contains("pid")) {
    auto ipid = pidField(*st, "pid");
    if (!ipid)
      return fail(std::move(ipid).error().wrap("state"));
    s.initPid = *ipid;
  }
  return s;
}

size_t seccompFdIndex(const ContainerProcessState& s) {
  return static_cast<size_t>(std::find(s.fds.begin(), s.fds.end(), "seccompFd") - s.fds.begin());
}

Result<AgentMetadata> parseAgentMetadata(std::string_view md) {
  AgentMetadata out;
  bool havePolicy = false;
  size_t i = 0;
  auto isSep = [](char c) { return c == ' ' || c == ',' || c == ';' || c == '\t' || c == '\n'; };
  while (i < md.size()) {
    while (i < md.size() && isSep(md[i]))
      ++i;
    size_t j = i;
    while (j < md.size() && !isSep(md[j]))
      ++j;
    if (j == i)
      break;
    std::string_view item = md.substr(i, j - i);
    i = j;
    size_t eq = item.find('=');
    if (eq == std::string_view::npos)
      return Error(EINVAL, "listenerMetadata item '" + std::string(item) +
                               "' is not KEY=VALUE (known key: policy)");
    std::string_view key = item.substr(0, eq), value = item.substr(eq + 1);
    if (key != "policy")
      return Error(EINVAL,
                   "listenerMetadata: unknown key '" + std::string(key) + "' (known key: policy)");
    if (havePolicy)
      return Error(EINVAL, "listenerMetadata: 'policy' given twice");
    if (!validPolicyName(value))
      return Error(EINVAL, "listenerMetadata: policy '" + std::string(value) +
                               "' is not a policy NAME (letters, digits, '.', '-', '_'; "
                               "no paths: put the file in the agent's policy directory)");
    havePolicy = true;
    out.policy = std::string(value);
  }
  return out;
}

}  // namespace extsys::agent
