#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tools/oldkernel/oldkernel.py - the host-side helpers of run-kernel-tests.
#
#   oldkernel.py targets BUILD_DIR SUITES
#       Prints the ninja targets (paths relative to BUILD_DIR) the tests of
#       SUITES (comma-separated) need: their programs and what they depend
#       on, so that only those are built ("TEST<TAB>target" for a test's own
#       program, a bare target for the rest).
#   oldkernel.py plan BUILD_DIR SUITES MULT CAP YAMA TESTS_SH FILES_LIST [VAR=VALUE|/PATH...]
#       Reads `meson introspect --tests` and writes the guest's test list
#       (run_test lines for guest-init.sh) and the files the guest needs: each
#       test's program and every absolute path to an existing file or
#       directory in its command line or environment (EXTSYS, PROBE_CASES,
#       TEST_POLICIES, ...), to be copied to the same path;
#       FILES_LIST.interpreters: "INTERPRETER<TAB>SCRIPT" for each "#!" script.
#       A test whose program is missing, or is named in $OLDKERNEL_UNBUILT (a
#       file, one program path a line: it failed to build), is left out and
#       named in FILES_LIST.unbuilt.
#       YAMA=1: after the suite, the Yama passes (see yama_passes()).
#   oldkernel.py pyruntime PYTHON SCRIPT|- ROOTFS [USERLAND]
#       Copies PYTHON's stdlib and the packages SCRIPT imports (modulefinder,
#       whole top-level packages with their data) into ROOTFS at their own
#       paths; prints the ELF extension modules, whose libraries ldd finds.
#       With USERLAND (a foreign guest arch: the guest's Debian packages
#       unpacked there), the stdlib's extension modules come from USERLAND
#       and no host ELF file is copied; pure-Python files are the host's (the
#       same Debian release, so the same sources and valid .pyc files).
#   oldkernel.py collect DATA_LOG RESULTS_DIR LABEL COUNTS_FILE
#       Decodes what the guest sent over ttyS1 into RESULTS_DIR, counts the
#       gtest XML, prints the kernel's result line and every failing test with
#       its failure text, and writes "passed failed skipped" to COUNTS_FILE.
#       Exit status 0 only if the end marker came, every test binary reported
#       XML and exited 0, and nothing failed.
import base64
import gzip
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path


def in_suites(test, suites):
    return any(s == want or s.endswith(":" + want) for s in test.get("suite", []) for want in suites)


def introspect(build_dir, what):
    out = subprocess.run(["meson", "introspect", build_dir, what], check=True,
                         capture_output=True, text=True).stdout
    return json.loads(out)


def targets(build_dir, suites):
    """The ninja targets the tests of SUITES need (relative to BUILD_DIR)."""
    suites = [x for x in suites.split(",") if x]
    tests = [t for t in introspect(build_dir, "--tests") if in_suites(t, suites)]
    if not tests:
        sys.exit(f"oldkernel: no test in suite(s) '{','.join(suites)}' in {build_dir}")
    by_id = {t["id"]: t["filename"] for t in introspect(build_dir, "--targets")}
    root = os.path.realpath(build_dir) + "/"
    outputs = {os.path.realpath(f) for fs in by_id.values() for f in fs}
    seen = set()
    for t in tests:
        wanted = [("TEST\t", t["cmd"][0])]
        wanted += [("", f) for d in t.get("depends", []) for f in by_id.get(d, [])]
        # Build outputs named in the command line or env (EXTSYS=..., ...).
        wanted += [("", w) for w in list(t["cmd"][1:]) + list((t.get("env") or {}).values())]
        for tag, path in wanted:
            real = os.path.realpath(path) if path.startswith("/") else ""
            if real not in outputs or not real.startswith(root) or (tag, real) in seen:
                continue
            seen.add((tag, real))
            print(f"{tag}{real[len(root):]}")


# The Yama passes (issue 14): the probe acceptance suite and the run contract
# as uid 65534 under ptrace_scope=1 (where only the ancestor model can answer
# probes), then the refusal under ptrace_scope=2 (as root: the test checks
# nobody's refusal and root's CAP_SYS_PTRACE). Their tests are left out of
# the root pass. Each entry: (scope, uid, test name, gtest filter, name suffix).
YAMA_PASSES = [
    (1, 65534, "probe_semantics", "-InPlace/*:Native/*:Batch/*in_place*", "nobody-yama1"),
    (1, 65534, "run_contract", "-InPlace/*:Yama.Scope2*:Yama.Without*", "nobody-yama1"),
    (2, 0, "run_contract", "Yama.Scope2*", "root-yama2"),
]
YAMA_ONLY = ["Ancestor/*", "Batch/*ancestor*", "Yama.*"]  # not in the root pass when the Yama passes run


def combine_filter(positive_or_negative, global_filter):
    """A pass's own filter, with the run's --gtest-filter exclusions added.
    A positive run filter (the user picked tests) is used as it is."""
    if global_filter and not global_filter.startswith("-"):
        return global_filter
    extra = global_filter[1:] if global_filter else ""
    if positive_or_negative.startswith("-"):
        return positive_or_negative + (":" + extra if extra else "")
    return positive_or_negative + ("-" + extra if extra else "")


def plan(build_dir, suite, mult, cap, yama, tests_sh, files_list, extras):
    """extras: VAR=VALUE (exported in the guest) or /absolute/path (a file
    or directory copied in, from guest-files.list)."""
    extra_files = [e for e in extras if e.startswith("/")]
    extra_env = [e for e in extras if not e.startswith("/")]
    suites = [x for x in suite.split(",") if x]
    picked = [t for t in introspect(build_dir, "--tests") if in_suites(t, suites)]
    if not picked:
        sys.exit(f"oldkernel: no test in suite(s) '{suite}' in {build_dir} (meson introspect --tests)")
    unbuilt_list = os.environ.get("OLDKERNEL_UNBUILT")
    failed_build = set()
    if unbuilt_list and os.path.exists(unbuilt_list):
        failed_build = {os.path.realpath(l) for l in Path(unbuilt_list).read_text().split("\n") if l}
    unbuilt = [t["name"] for t in picked
               if os.path.realpath(t["cmd"][0]) in failed_build or not os.path.isfile(t["cmd"][0])]
    picked = [t for t in picked if t["name"] not in unbuilt]
    Path(files_list + ".unbuilt").write_text("".join(n + "\n" for n in unbuilt))
    files = {f for f in extra_files if os.path.exists(f)}
    lines = ["# generated by tools/oldkernel/run-kernel-tests from meson introspect --tests"]
    global_filter = next((e.partition("=")[2] for e in extra_env if e.startswith("GTEST_FILTER=")), "")
    names = {t["name"] for t in picked}
    yama_passes = [p for p in YAMA_PASSES if yama and p[2] in names]
    if yama_passes and (not global_filter or global_filter.startswith("-")):
        # The root pass leaves the Yama passes' tests to them.
        extra_env = [e for e in extra_env if not e.startswith("GTEST_FILTER=")]
        extra_env.append("GTEST_FILTER=" + combine_filter("-" + ":".join(YAMA_ONLY), global_filter))
    for e in extra_env:
        name, _, value = e.partition("=")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            sys.exit(f"oldkernel: not VAR=VALUE: {e}")
        lines.append(f"export {name}={shlex.quote(value)}")
    for t in picked:
        if t.get("protocol") != "gtest":
            sys.exit(f"oldkernel: test {t['name']} is not a gtest binary (protocol {t.get('protocol')})")
        cmd = t["cmd"]
        env = t.get("env") or {}
        for word in list(cmd) + list(env.values()):
            if word.startswith("/") and (os.path.isfile(word) or os.path.isdir(word)):
                files.add(word)
        limit = min(int(float(t.get("timeout") or 30) * mult), cap)
        wd = t.get("workdir") or build_dir
        words = ["run_test", t["name"], str(limit), wd]
        words += [f"{k}={v}" for k, v in sorted(env.items())]
        words += ["--"] + cmd
        lines.append(" ".join(shlex.quote(w) for w in words))
        t["_limit"], t["_wd"] = limit, wd
    scope = None
    for want_scope, uid, name, own_filter, suffix in yama_passes:
        t = next(t for t in picked if t["name"] == name)
        if want_scope != scope:
            lines.append(f"yama_scope {want_scope}")
            scope = want_scope
        env = dict(t.get("env") or {})
        env["GTEST_FILTER"] = combine_filter(own_filter, global_filter)
        words = ["run_test_as", str(uid), f"{name}-{suffix}", str(t["_limit"]), t["_wd"]]
        words += [f"{k}={v}" for k, v in sorted(env.items())]
        words += ["--"] + t["cmd"]
        lines.append(" ".join(shlex.quote(w) for w in words))
    if scope is not None:
        lines.append("yama_scope_restore")
    # For the record (not counted): what extsys discovers on this kernel.
    extsys = next((t["env"]["EXTSYS"] for t in picked if (t.get("env") or {}).get("EXTSYS")), None)
    if extsys:
        lines.append(" ".join(shlex.quote(w) for w in ["run_diag", "extsys-features.txt", extsys, "features", "--no-cache"]))
        lines.append(" ".join(shlex.quote(w) for w in
                              ["run_diag", "extsys-features.json", extsys, "features", "--json", "--no-cache"]))
    Path(tests_sh).write_text("\n".join(lines) + "\n")
    # Scripts among the files bring their interpreter: "#!" lines, resolved
    # like the kernel does (env NAME -> the first NAME on PATH).
    extra = set()
    for f in sorted(files):
        if not os.path.isfile(f):
            continue
        with open(f, "rb") as fh:
            head = fh.read(256)
        if not head.startswith(b"#!"):
            continue
        words = head[2:].split(b"\n")[0].decode(errors="replace").split()
        if not words:
            continue
        interp = words[0]
        if os.path.basename(interp) == "env" and len(words) > 1:
            interp = shutil.which(words[1], path="/usr/local/bin:/usr/bin:/bin") or words[1]
        extra.add(f"{interp}\t{f}")
    Path(files_list).write_text("".join(f + "\n" for f in sorted(files)))
    Path(files_list + ".interpreters").write_text("".join(e + "\n" for e in sorted(extra)))


# Run by the target interpreter: its stdlib and every module file the script imports.
_FINDER = r"""
import modulefinder, sys, sysconfig
p = sysconfig.get_paths()
print(p["stdlib"]); print(p["platstdlib"])
f = modulefinder.ModuleFinder()
f.run_script(sys.argv[1])
for name, m in sorted(f.modules.items()):
    if m.__file__ and name != "__main__":
        print(name + "\t" + m.__file__)
"""
_STDLIB_SKIP = {"test", "tests", "idlelib", "tkinter", "turtledemo", "lib2to3", "ensurepip",
                "pydoc_data", "__phello__", "site-packages", "dist-packages"}


def is_elf(path):
    try:
        with open(path, "rb") as fh:
            return fh.read(4) == b"\x7fELF"
    except OSError:
        return False


def pyruntime(interp, script, rootfs, userland=None):
    """Copies a Python interpreter's stdlib and the packages SCRIPT imports
    into ROOTFS at their own paths; prints the ELF files (for their libraries).
    userland: the guest's unpacked Debian packages when its arch is not the
    host's; the host interpreter (the same Debian release) finds the modules."""
    if script == "-":  # the stdlib alone
        out = subprocess.run([interp, "-c", _FINDER.split("f = modulefinder")[0]], check=True,
                             capture_output=True, text=True).stdout.splitlines()
    else:
        out = subprocess.run([interp, "-c", _FINDER, script], check=True, capture_output=True,
                             text=True).stdout.splitlines()
    stdlibs = {os.path.realpath(out[0]), os.path.realpath(out[1])}
    root = Path(rootfs)
    elves = []

    def put(src, dest_path=None):
        src = Path(src)
        dest = root / str(dest_path or src).lstrip("/")
        if src.is_dir():
            for dirpath, dirnames, filenames in os.walk(src):
                rel = Path(dirpath).relative_to(src)
                dirnames[:] = [d for d in dirnames
                               if not (d in _STDLIB_SKIP or d.startswith("config-"))]
                for fn in filenames:
                    if fn.endswith(".pyc") and ".opt-" in fn:
                        continue
                    s = Path(dirpath) / fn
                    if not s.exists():  # dangling symlink
                        continue
                    so = fn.endswith(".so") or ".so." in fn
                    guests = bool(userland) and str(s).startswith(userland + "/")
                    if so and userland and not guests:
                        continue  # a host-arch extension module: useless in the guest
                    d = dest / rel / fn
                    if guests and not so and d.exists():
                        continue  # keep the host's source: its .pyc files match it
                    d.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(s, d)  # keeps mtimes: the .pyc files stay valid
                    if so:
                        elves.append(str(s))
        elif src.exists():
            if userland and is_elf(src) and not str(src).startswith(userland + "/"):
                return
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest)
            if src.name.endswith(".so"):
                elves.append(str(src))

    for lib in sorted(stdlibs):
        put(lib)
        # A foreign guest: the host's pure-Python stdlib (with its .pyc, valid
        # for those sources), then the guest's extension modules and whatever
        # else the host lacks.
        if userland and Path(userland + lib).is_dir():
            put(userland + lib, lib)
    for line in out[2:]:
        name, path = line.split("\t", 1)
        real = os.path.realpath(path)
        if any(real.startswith(lib + "/") for lib in stdlibs):
            continue
        # The sys.path entry holding it, then its top-level package or module.
        depth = name.count(".") + (1 if os.path.basename(path).startswith("__init__.") else 0)
        base = Path(path)
        for _ in range(depth + 1):
            base = base.parent
        top = name.split(".")[0]
        pkg = base / top
        put(pkg if pkg.is_dir() else path)
        for info in list(base.glob(f"{top}-*.dist-info")) + list(base.glob(f"{top}-*.egg-info")):
            put(info)
    for e in sorted(set(elves)):
        print(e)


def clip(text, n=40):
    lines = text.strip("\n").splitlines()
    if len(lines) > n:
        lines = lines[:n] + [f"... ({len(lines) - n} more lines)"]
    return "\n".join("      " + l for l in lines)


def collect(data_log, results_dir, label, counts_file):
    results = Path(results_dir)
    results.mkdir(parents=True, exist_ok=True)
    raw = Path(data_log).read_bytes() if Path(data_log).exists() else b""
    text = raw.decode("utf-8", "replace").replace("\r", "")
    problems = []
    begin = text.find("EXTSYS-OLDKERNEL-BEGIN\n")
    end = re.search(r"^EXTSYS-OLDKERNEL-END status=(\d+)$", text, re.M)
    if begin < 0:
        problems.append("no result markers from the guest: it never reached the result upload"
                        " (no boot, a panic, or a hang until the timeout)")
    elif not end:
        problems.append("no end marker from the guest: its result upload was cut short")
    kernel = "?"
    tests = {}  # name -> (rc, seconds)
    cur, buf = None, []
    body = text[begin:] if begin >= 0 else ""
    for line in body.splitlines():
        if cur is not None:
            if line == f"ENDFILE {cur}":
                try:
                    (results / cur).write_bytes(gzip.decompress(base64.b64decode("".join(buf))))
                except Exception as e:  # noqa: BLE001 - report, do not crash
                    problems.append(f"file {cur} arrived damaged: {e}")
                cur, buf = None, []
            else:
                buf.append(line.strip())
            continue
        if line.startswith("KERNEL "):
            kernel = line[7:]
        elif line.startswith("TEST "):
            m = re.match(r"TEST (\S+) rc=(\d+) seconds=(\d+)", line)
            if m:
                tests[m[1]] = (int(m[2]), int(m[3]))
        elif line.startswith("FILE "):
            cur, buf = line[5:], []
    if cur is not None:
        problems.append(f"file {cur} was cut short")

    passed = failed = skipped = 0
    failures = []  # (binary, test, text)
    slow = []
    for name, (rc, secs) in sorted(tests.items()):
        xml = results / f"{name}.xml"
        log = results / f"{name}.log"
        cases = 0
        reported = False
        if xml.exists() and xml.stat().st_size > 0:
            try:
                root = ET.parse(xml).getroot()
            except ET.ParseError as e:
                root = None
                problems.append(f"{name}: XML does not parse: {e}")
            if root is not None:
                reported = True
                for case in root.iter("testcase"):
                    if case.get("status") == "notrun" and case.get("result") != "skipped":
                        continue
                    cases += 1
                    full = f"{case.get('classname')}.{case.get('name')}"
                    t = float(case.get("time") or 0)
                    slow.append((t, f"{name}: {full}"))
                    fails = case.findall("failure") + case.findall("error")
                    if fails:
                        failed += 1
                        msg = "\n".join((f.get("message") or f.text or "").strip() for f in fails)
                        failures.append((name, full, msg))
                    elif case.find("skipped") is not None or case.get("result") == "skipped":
                        skipped += 1
                    else:
                        passed += 1
        if not reported:
            # No XML: count what the text log shows, plus the binary itself.
            logtext = log.read_text(errors="replace") if log.exists() else ""
            ok = len(re.findall(r"^\[       OK \] ", logtext, re.M))
            bad = re.findall(r"^\[  FAILED  \] (\S+) \(", logtext, re.M)
            passed += ok
            failed += len(bad) + 1
            for b in bad:
                failures.append((name, b, "(from the text log; no XML)"))
            if rc == 124 and secs == 0:
                why = "not run: no time left before the run's deadline (--timeout)"
            elif rc in (124, 137):
                why = f"killed by the guest's time limit after {secs}s"
            else:
                why = f"exit status {rc} after {secs}s"
            tail = "\n".join(logtext.strip().splitlines()[-15:])
            failures.append((name, "(the test binary itself)",
                             f"no XML report: {why}\nlast lines of its output:\n{tail}"))
        elif rc != 0 and not any(f[0] == name for f in failures):
            failed += 1
            failures.append((name, "(the test binary itself)",
                             f"exit status {rc} although every case in its XML passed"))
    if end and not tests:
        problems.append("the guest ran no test binary")
    for p in problems:
        failed += 1
        failures.append(("guest", "(run)", p))

    total_secs = sum(s for _, s in tests.values())
    print(f"[{label}] {passed} passed, {failed} failed"
          + (f", {skipped} skipped" if skipped else "")
          + f"  (guest kernel: {kernel}; tests {total_secs}s; "
          + ", ".join(f"{n} rc={rc} {s}s" for n, (rc, s) in sorted(tests.items())) + ")")
    for binary, test, msg in failures:
        print(f"  FAILED {binary}: {test}")
        if msg:
            print(clip(msg))
    slow.sort(reverse=True)
    if slow:
        print(f"  slowest in the guest: " + ", ".join(f"{n} {t:.1f}s" for t, n in slow[:5]))
    Path(counts_file).write_text(f"{passed} {failed} {skipped}\n")
    return 0 if failed == 0 and end else 1


def main():
    if len(sys.argv) == 4 and sys.argv[1] == "targets":
        targets(sys.argv[2], sys.argv[3])
        return 0
    if len(sys.argv) >= 9 and sys.argv[1] == "plan":
        plan(sys.argv[2], sys.argv[3], float(sys.argv[4]), int(sys.argv[5]), sys.argv[6] == "1",
             sys.argv[7], sys.argv[8], sys.argv[9:])
        return 0
    if len(sys.argv) >= 2 and sys.argv[1] == "pyruntime" and len(sys.argv) in (5, 6):
        pyruntime(sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5] if len(sys.argv) == 6 else None)
        return 0
    if len(sys.argv) >= 2 and sys.argv[1] == "collect" and len(sys.argv) == 6:
        return collect(*sys.argv[2:6])
    sys.exit(__doc__ if __doc__ else "usage: see the header of oldkernel.py")


if __name__ == "__main__":
    sys.exit(main())
