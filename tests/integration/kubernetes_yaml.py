#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# kubernetes_yaml.py SOURCE_ROOT - the manifests in tools/kubernetes/ hold
# together (no cluster here, so their structure): the DaemonSet runs the
# agent as root in the host pid namespace on the socket that the profile it
# installs names as listenerPath, the socket directory and the kubelet's
# seccomp directory are hostPaths, and the example pod's localhostProfile is
# the file the init container writes. Exit 0, or 1 with one line per problem.
import re
import sys

import yaml

root = sys.argv[1]
errors = []


def check(cond, what):
    if not cond:
        errors.append(what)


with open(f"{root}/tools/kubernetes/extsys-agent.yaml") as f:
    docs = [d for d in yaml.safe_load_all(f) if d]
kinds = {d["kind"]: d for d in docs}
check(set(kinds) == {"Namespace", "DaemonSet"}, f"unexpected kinds {sorted(kinds)}")
ds = kinds.get("DaemonSet", {})
check(ds.get("apiVersion") == "apps/v1", "DaemonSet apiVersion is not apps/v1")
spec = ds.get("spec", {})
tmpl = spec.get("template", {})
check(spec.get("selector", {}).get("matchLabels", {}).items() <= tmpl.get("metadata", {}).get("labels", {}).items(),
      "the selector does not match the template's labels")
check(ds.get("metadata", {}).get("namespace") == kinds.get("Namespace", {}).get("metadata", {}).get("name"),
      "the DaemonSet is not in the Namespace the file creates")
pod = tmpl.get("spec", {})
check(pod.get("hostPID") is True, "hostPID is not true")
volumes = {v["name"]: v for v in pod.get("volumes", [])}
agent = next((c for c in pod.get("containers", []) if c.get("name") == "agent"), {})
cmd = agent.get("command", [])
check(cmd[:2] == ["extsys", "agent"], f"the agent container does not run `extsys agent`: {cmd}")
sock = cmd[cmd.index("--socket") + 1] if "--socket" in cmd else ""
sc = agent.get("securityContext", {})
check(sc.get("runAsUser") == 0 and sc.get("privileged") is True, "the agent is not root/privileged")


def host_path_of(container, path):
    # The hostPath a container path lies under, or None.
    for m in container.get("volumeMounts", []):
        if path == m["mountPath"] or path.startswith(m["mountPath"].rstrip("/") + "/"):
            hp = volumes.get(m["name"], {}).get("hostPath", {}).get("path")
            return hp + path[len(m["mountPath"]):] if hp else None
    return None


check(host_path_of(agent, sock) == sock,
      f"the agent's socket {sock} is not at the same path on the host (hostPath)")
init = next((c for c in pod.get("initContainers", []) if c.get("name") == "install-profile"), {})
script = " ".join(init.get("command", []))
m = re.search(r"--socket (\S+)", script)
check(m and m.group(1) == sock, "the installed profile's listenerPath is not the agent's socket")
m = re.search(r"mv \S+ (\S+)$", script.strip())
target = host_path_of(init, m.group(1)) if m else None
check(target is not None and target.startswith("/var/lib/kubelet/seccomp/"),
      f"the profile does not land under /var/lib/kubelet/seccomp: {target}")
check("--check" in script, "the init container does not check the profile")
for v in volumes.values():
    check("hostPath" in v and v["hostPath"].get("type") == "DirectoryOrCreate",
          f"volume {v['name']} is not a DirectoryOrCreate hostPath")

with open(f"{root}/tools/kubernetes/example-pod.yaml") as f:
    example = yaml.safe_load(f)
prof = example["spec"]["securityContext"]["seccompProfile"]
check(prof.get("type") == "Localhost", "the example pod's profile is not Localhost")
check(target == "/var/lib/kubelet/seccomp/" + prof.get("localhostProfile", ""),
      f"the example's localhostProfile {prof.get('localhostProfile')} is not {target}")

for e in errors:
    print("kubernetes_yaml:", e)
sys.exit(1 if errors else 0)
