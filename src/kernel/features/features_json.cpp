// SPDX-License-Identifier: MIT
// kernel/features/features_json.cpp - JSON (nlohmann) conversions. The library
// throws on type errors; this adapter is the only place that catches them.
#include "kernel/features/features_json.h"

#include <cstdio>

#include "base/errno_name.h"
#include "kernel/abi/answers.h"
#include "kernel/abi/flag_names.h"

namespace extsys::kernel {

using nlohmann::json;

std::string hex64(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "%#llx", static_cast<unsigned long long>(v));
  return b;
}

namespace {

json bitsJson(SyscallId id, std::string_view field, uint64_t v) {
  return {{"value", hex64(v)}, {"bits", bitNames(id, field, v)}};
}

json reportJson(const SyscallReport& r) {
  json d = json::array();
  for (const auto& x : r.disagreements)
    d.push_back({{"field", x.field}, {"table", hex64(x.table)}, {"probe", hex64(x.probe)}});
  return {{"source", sourceName(r.source)},
          {"note", r.note},
          {"disagreements", d},
          {"unknown_accepted", hex64(r.unknownAccepted)}};
}

json answerJson(const ProbeAnswer& a) {
  json fields = json::object();
  const auto& d = describe(a.id);
  for (size_t i = 0; i < d.fields.size(); ++i) {
    const FieldDesc& f = d.fields[i];
    if (f.offset + f.width > a.ksize)
      continue;
    const uint64_t v = a.field(i);
    if (f.isFlags())
      fields[std::string(f.name)] = bitsJson(a.id, f.name, v);
    else
      fields[std::string(f.name)] = {{"value", hex64(v)}};
  }
  return {{"size", a.ksize}, {"fields", fields}};
}

}  // namespace

json featuresToJson(const KernelFeatures& f) {
  const ProbeAnswers answers = buildAnswers(f);
  json sys = json::object();
  for (const auto& d : syscallTable()) {
    const SyscallFeatures& s = f.of(d.id);
    json j = reportJson(f.report(d.id));
    j["present"] = s.present;
    j["disabled"] = s.disabledErrno ? json(errnoName(s.disabledErrno)) : json(nullptr);
    j["struct_size"] = s.structSize;
    json accepted = json::object();
    for (size_t i = 0; i < d.fields.size(); ++i)
      if (d.fields[i].isFlags())
        accepted[std::string(d.fields[i].key())] = bitsJson(d.id, d.fields[i].name, s.fields[i]);
    j["accepted"] = accepted;
    json arguments = json::object();
    for (size_t i = 0; i < d.args.size(); ++i) {
      const ArgCheck& c = d.args[i];
      const uint64_t v = c.fixedMask.value_or(s.args[i]);
      arguments[std::string(c.name)] = {{"value", hex64(v)},
                                        {"bits", argBitNames(d.id, c.name, v)},
                                        {"index", c.argIndex},
                                        {"checked_before_size", c.beforeSize}};
    }
    j["arguments"] = arguments;
    j["answer"] = s.present ? answerJson(answers[static_cast<size_t>(d.id)]) : json(nullptr);
    sys[std::string(d.name)] = j;
  }
  const auto& n = f.notify;
  return {
      {"schema", kFeaturesSchemaId},
      {"kernel",
       {{"release", f.release}, {"version", f.version.str()}, {"landlock_abi", f.landlockAbi}}},
      {"syscalls", sys},
      {"notify",
       {{"tested", n.tested},
        {"note", n.note},
        {"listener", n.listener},
        {"pollhup", n.pollhup},
        {"addfd", n.addfd},
        {"addfd_send", n.addfdSend},
        {"wait_killable_recv", n.waitKillableRecv},
        {"sync_wake_up", n.syncWakeUp}}},
  };
}

}  // namespace extsys::kernel
