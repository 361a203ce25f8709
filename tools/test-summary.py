#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# tools/test-summary.py MESON_LOG_DIR - counts results from meson's test log
# and prints the one line CI reads: "N passed, N failed[, N skipped]".
#
# gtest binaries report each test case through meson's JUnit file; a binary
# that crashed or timed out before reporting counts as one failure of its own.
import json
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

logdir = Path(sys.argv[1] if len(sys.argv) > 1 else "build/meson-logs")
passed = failed = skipped = 0
failed_suites = set()

junit = logdir / "testlog.junit.xml"
if junit.exists():
    for suite in ET.parse(junit).getroot().iter("testsuite"):
        for case in suite.iter("testcase"):
            if case.find("failure") is not None or case.find("error") is not None:
                failed += 1
                failed_suites.add(suite.get("name", ""))
            elif case.find("skipped") is not None:
                skipped += 1
            else:
                passed += 1

# Tests meson itself saw fail (crash, timeout, non-gtest) without a failing case.
jsonlog = logdir / "testlog.json"
if jsonlog.exists():
    for line in jsonlog.read_text().splitlines():
        if not line.strip():
            continue
        t = json.loads(line)
        if t.get("result") in ("OK", "SKIP", "EXPECTEDFAIL"):
            continue
        name = t.get("name", "")
        if not any(s.endswith(name) or name in s for s in failed_suites):
            failed += 1
            print(f"test binary failed without a failing case: {name} ({t.get('result')})")

if passed + failed == 0:
    print("no test results found in", logdir)
    failed = 1
line = f"{passed} passed, {failed} failed"
if skipped:
    line += f", {skipped} skipped"
print(line)
sys.exit(1 if failed else 0)
