#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# validate_features.py SCHEMA < features.json - validates `extsys features
# --json` against its documented schema and checks that each answer follows
# the RFC v3 formula from the accepted facts. Exit 0 valid, 1 not.
import json
import sys

import jsonschema

schema = json.load(open(sys.argv[1]))
doc = json.load(sys.stdin)
jsonschema.Draft202012Validator.check_schema(schema)
jsonschema.validate(doc, schema, cls=jsonschema.Draft202012Validator)

def value(node):
    return int(node["value"], 16)

errors = []
s = doc["syscalls"]
if s["openat2"]["present"]:
    a, acc = s["openat2"]["answer"]["fields"], s["openat2"]["accepted"]
    for f in ("flags", "mode", "resolve"):
        if value(a[f]) != value(acc[f]):
            errors.append(f"openat2.{f}: answer {a[f]['value']} != accepted {acc[f]['value']}")
if s["clone3"]["present"]:
    c = s["clone3"]
    a = c["answer"]["fields"]
    want = 0xFFFFFFFF | value(c["accepted"]["clone3_only_flags"])
    if value(a["flags"]) != want:
        errors.append(f"clone3.flags: answer {a['flags']['value']} != {want:#x}")
    if value(a["exit_signal"]) != 0xFF:
        errors.append("clone3.exit_signal != 0xff")
    if c["answer"]["size"] != c["struct_size"]:
        errors.append("clone3 answer size != struct size")
    for name, field in a.items():
        if name not in ("flags", "exit_signal") and value(field) != 2**64 - 1:
            errors.append(f"clone3.{name} is not all ones")
if s["mount_setattr"]["present"]:
    m = s["mount_setattr"]
    a = m["answer"]["fields"]
    attrs = value(m["accepted"]["attr_set"])
    if value(a["attr_set"]) != attrs or value(a["attr_clr"]) != attrs:
        errors.append("mount_setattr attr_set/attr_clr != accepted attr_set")
    if value(a["propagation"]) != value(m["accepted"]["propagation"]):
        errors.append("mount_setattr propagation mismatch")
    if value(a["userns_fd"]) != 2**64 - 1:
        errors.append("mount_setattr userns_fd is not all ones")
# The syscalls after the RFC: flag fields answer what is accepted (attr_clr:
# attr_set), every other field all ones of its width, the size the kernel's.
ONES32, ONES64 = 2**32 - 1, 2**64 - 1
newer = {
    "open_tree_attr": ({"attr_set": "attr_set", "attr_clr": "attr_set",
                        "propagation": "propagation"}, {"userns_fd": ONES64}),
    "setxattrat": ({"flags": "flags"}, {"value": ONES64, "size": ONES32}),
    "getxattrat": ({"flags": "flags"}, {"value": ONES64, "size": ONES32}),
    "file_getattr": ({"fa_xflags": "fa_xflags"}, {f: ONES32 for f in (
        "fa_extsize", "fa_nextents", "fa_projid", "fa_cowextsize")}),
    "file_setattr": ({"fa_xflags": "fa_xflags"}, {f: ONES32 for f in (
        "fa_extsize", "fa_nextents", "fa_projid", "fa_cowextsize")}),
    "landlock_create_ruleset": ({f: f for f in ("handled_access_fs", "handled_access_net",
                                                 "scoped")}, {}),
}
for name, (flags, ones) in newer.items():
    sc = s[name]
    if not sc["present"] or sc["disabled"]:
        continue
    ans = sc["answer"]
    if ans["size"] != sc["struct_size"]:
        errors.append(f"{name}: answer size {ans['size']} != struct size {sc['struct_size']}")
    for field, source in flags.items():
        if field in ans["fields"] and value(ans["fields"][field]) != value(sc["accepted"][source]):
            errors.append(f"{name}.{field}: answer != accepted {source}")
    for field, want in ones.items():
        if value(ans["fields"][field]) != want:
            errors.append(f"{name}.{field} is not all ones of its width")
    if set(ans["fields"]) != set(flags) | set(ones) and name != "landlock_create_ruleset":
        errors.append(f"{name}: answer fields {sorted(ans['fields'])}")
if (doc["kernel"]["landlock_abi"] > 0 and s["landlock_create_ruleset"]["present"]
        and s["landlock_create_ruleset"]["struct_size"] not in (8, 16, 24)):
    errors.append("landlock_create_ruleset struct size not 8, 16 or 24")
for e in errors:
    print(e)
sys.exit(1 if errors else 0)
