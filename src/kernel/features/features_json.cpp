// SPDX-License-Identifier: MIT
// kernel/features/features_json.cpp - JSON (nlohmann) conversions. The library
// throws on type errors; this adapter is the only place that catches them.
#include "kernel/features/features_json.h"

#include <cstdio>

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
  for (const auto& f : describe(a.id).fields) {
    if (f.offset + 8u > a.ksize)
      continue;
    const uint64_t v = a.field(f.name);
    if (flagNames(a.id, f.name).empty())
      fields[std::string(f.name)] = {{"value", hex64(v)}};
    else
      fields[std::string(f.name)] = bitsJson(a.id, f.name, v);
  }
  return {{"size", a.ksize}, {"fields", fields}};
}



}  // namespace

json featuresToJson(const KernelFeatures& f) {
  const ProbeAnswers answers = buildAnswers(f);
  auto answer = [&](SyscallId id) { return answerJson(answers[static_cast<size_t>(id)]); };
  json sys = json::object();
  {
    const auto& o = f.openat2;
    json j = reportJson(f.report(SyscallId::Openat2));
    j["present"] = o.present;
    j["struct_size"] = o.structSize;
    j["accepted"] = {{"flags", bitsJson(SyscallId::Openat2, "flags", o.flags)},
                     {"mode", bitsJson(SyscallId::Openat2, "mode", o.mode)},
                     {"resolve", bitsJson(SyscallId::Openat2, "resolve", o.resolve)}};
    j["answer"] = o.present ? answer(SyscallId::Openat2) : json(nullptr);
    sys["openat2"] = j;
  }
  {
    const auto& c = f.clone3;
    json j = reportJson(f.report(SyscallId::Clone3));
    j["present"] = c.present;
    j["struct_size"] = c.structSize;
    j["accepted"] = {{"clone3_only_flags", bitsJson(SyscallId::Clone3, "flags", c.extraFlags)}};
    j["answer"] = c.present ? answer(SyscallId::Clone3) : json(nullptr);
    sys["clone3"] = j;
  }
  {
    const auto& m = f.mountSetattr;
    json j = reportJson(f.report(SyscallId::MountSetattr));
    j["present"] = m.present;
    j["struct_size"] = m.structSize;
    j["accepted"] = {{"attr_set", bitsJson(SyscallId::MountSetattr, "attr_set", m.attrs)},
                     {"attr_clr", bitsJson(SyscallId::MountSetattr, "attr_clr", m.attrsClr)},
                     {"propagation", bitsJson(SyscallId::MountSetattr, "propagation", m.propagation)}};
    j["answer"] = m.present ? answer(SyscallId::MountSetattr) : json(nullptr);
    sys["mount_setattr"] = j;
  }
  const auto& n = f.notify;
  return {
      {"schema", kFeaturesSchemaId},
      {"kernel", {{"release", f.release}, {"version", f.version.str()}}},
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
