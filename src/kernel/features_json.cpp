// SPDX-License-Identifier: MIT
// kernel/features_json.cpp - JSON (nlohmann) conversions. The library throws
// on type errors; this adapter is the only place that catches them.
#include "kernel/features_json.h"

#include <cstdio>

#include "kernel/answers.h"
#include "kernel/flag_names.h"

namespace extsys::kernel {

using nlohmann::json;

std::string hex64(uint64_t v) {
  char b[24];
  std::snprintf(b, sizeof b, "%#llx", static_cast<unsigned long long>(v));
  return b;
}

namespace {

uint64_t parseHex(const json& j) {
  const std::string s = j.get<std::string>();
  size_t used = 0;
  const unsigned long long v = std::stoull(s, &used, 0);
  if (used != s.size())
    throw std::invalid_argument("not a number: " + s);
  return v;
}

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

FeatureSource parseSource(const std::string& s) {
  if (s == "native") return FeatureSource::Native;
  if (s == "probe") return FeatureSource::Probe;
  if (s == "table") return FeatureSource::Table;
  throw std::invalid_argument("unknown source " + s);
}

void readReport(const json& j, SyscallReport& r) {
  r.source = parseSource(j.at("source").get<std::string>());
  r.note = j.at("note").get<std::string>();
  r.unknownAccepted = parseHex(j.at("unknown_accepted"));
  for (const auto& d : j.at("disagreements"))
    r.disagreements.push_back({d.at("field").get<std::string>(), parseHex(d.at("table")),
                               parseHex(d.at("probe"))});
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

Result<KernelFeatures> featuresFromJson(const json& j) {
  try {
    if (j.at("schema").get<std::string>() != kFeaturesSchemaId)
      return Error(EINVAL, "unknown schema");
    KernelFeatures f;
    f.release = j.at("kernel").at("release").get<std::string>();
    auto v = KernelVersion::parse(j.at("kernel").at("version").get<std::string>());
    if (!v)
      return Error(EINVAL, "bad kernel version");
    f.version = *v;
    const json& s = j.at("syscalls");
    {
      const json& o = s.at("openat2");
      readReport(o, f.report(SyscallId::Openat2));
      f.openat2.present = o.at("present").get<bool>();
      f.openat2.structSize = o.at("struct_size").get<uint32_t>();
      f.openat2.flags = parseHex(o.at("accepted").at("flags").at("value"));
      f.openat2.mode = parseHex(o.at("accepted").at("mode").at("value"));
      f.openat2.resolve = parseHex(o.at("accepted").at("resolve").at("value"));
    }
    {
      const json& c = s.at("clone3");
      readReport(c, f.report(SyscallId::Clone3));
      f.clone3.present = c.at("present").get<bool>();
      f.clone3.structSize = c.at("struct_size").get<uint32_t>();
      f.clone3.extraFlags = parseHex(c.at("accepted").at("clone3_only_flags").at("value"));
    }
    {
      const json& m = s.at("mount_setattr");
      readReport(m, f.report(SyscallId::MountSetattr));
      f.mountSetattr.present = m.at("present").get<bool>();
      f.mountSetattr.structSize = m.at("struct_size").get<uint32_t>();
      f.mountSetattr.attrs = parseHex(m.at("accepted").at("attr_set").at("value"));
      f.mountSetattr.attrsClr = parseHex(m.at("accepted").at("attr_clr").at("value"));
      f.mountSetattr.propagation = parseHex(m.at("accepted").at("propagation").at("value"));
    }
    if (f.clone3.present && (f.clone3.structSize < 64 || f.clone3.structSize > kMaxImageSize))
      return Error(EINVAL, "clone3 struct size out of range");
    const json& n = j.at("notify");
    f.notify.tested = n.at("tested").get<bool>();
    f.notify.note = n.at("note").get<std::string>();
    f.notify.listener = n.at("listener").get<bool>();
    f.notify.pollhup = n.at("pollhup").get<bool>();
    f.notify.addfd = n.at("addfd").get<bool>();
    f.notify.addfdSend = n.at("addfd_send").get<bool>();
    f.notify.waitKillableRecv = n.at("wait_killable_recv").get<bool>();
    f.notify.syncWakeUp = n.at("sync_wake_up").get<bool>();
    return f;
  } catch (const std::exception& e) {
    return Error(EINVAL, std::string("malformed features: ") + e.what());
  }
}

}  // namespace extsys::kernel
