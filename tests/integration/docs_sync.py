#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# docs_sync.py EXTSYS SOURCE_ROOT - fails when the man pages or the shell
# completions drift from the CLI: every command and every long option that
# `extsys CMD --help` prints (and each value of an option with a fixed set)
# must be in the command's part of the man page and of each completion; every
# key the policy loader accepts must be in extsys-policy(5). Exit 0 in sync,
# 1 with one line per gap.
import re
import subprocess
import sys

extsys, root = sys.argv[1], sys.argv[2]
errors = []

# Accepted spellings that --help and the docs do not offer (CLI11 IsMember
# aliases of --log-level).
ALIASES = {"warning", "critical"}


def read(path):
    with open(f"{root}/{path}") as f:
        return f.read()


def has_word(text, word):
    return re.search(r"(?<![\w-])" + re.escape(word) + r"(?![\w-])", text) is not None


def help_text(words):
    r = subprocess.run([extsys, *words, "--help"], capture_output=True, text=True, timeout=10)
    if r.returncode != 0:
        sys.exit(f"extsys {' '.join(words)} --help exited {r.returncode}: {r.stderr}")
    return r.stdout


def subcommands(text):
    # CLI11: "Subcommands:" then "  name   description" lines.
    m = re.search(r"^SUBCOMMANDS:\n((?:  .*\n?)+)", text, re.M | re.I)
    return re.findall(r"^  (\S+)", m.group(1), re.M) if m else []


def options(text):
    # {"--name": (takes_value, [values])} from the "Options:" lines.
    out = {}
    m = re.search(r"^OPTIONS:\n((?:  .*\n?)+)", text, re.M | re.I)
    for line in (m.group(1) if m else "").splitlines():
        m = re.match(r"^\s+(?:-\w,\s*)?(--[a-z][a-z0-9-]*)( [A-Z]+(?::\S*)?)?(?:\s|$)", line)
        if not m:
            continue
        values = re.search(r"\{([^}]*)\}", m.group(2) or "")
        out[m.group(1)] = (m.group(2) is not None,
                           [v for v in values.group(1).split(",") if v not in ALIASES]
                           if values else [])
    return out


# The CLI: command word lists (leaves) and their options.
top_help = help_text([])
top_opts = options(top_help)
commands = {}
for cmd in subcommands(top_help):
    text = help_text([cmd])
    subs = subcommands(text) if cmd != "help" else []
    for sub in subs:
        commands[(cmd, sub)] = options(help_text([cmd, sub]))
    if not subs:
        commands[(cmd,)] = options(text)
if len(commands) < 8 or "--process-model" not in commands.get(("run",), {}):
    sys.exit(f"could not read the CLI from {extsys} --help: {sorted(commands)}")


def block(text, label, indent, what, fallback=False):
    # One `label)` arm of a shell case, up to its own `;;` (or a one-liner);
    # with fallback, the `*)` arm when there is none.
    m = re.search(r"^( *)" + re.escape(label) + r"\)([^\n]*;;|.*?^\1" + " " * indent + ";;)",
                  text, re.M | re.S)
    if not m and fallback:
        return block(text, "*", indent, what)
    if not m:
        errors.append(f"{what}: no '{label})' arm")
        return ""
    return m.group(0)


# --- man pages ---------------------------------------------------------------
man1 = read("src/app/man/extsys.1.scd")
man8 = read("src/app/man/extsys-agent.8.scd")
man5 = read("src/app/man/extsys-policy.5.scd")


def man_section(text, heading, what):
    # From the heading to the next heading of its level or higher.
    m = re.search(r"^(#+) " + re.escape(heading), text, re.M)
    if not m:
        errors.append(f"{what}: no section '{heading}'")
        return ""
    rest = text[m.end():]
    nxt = re.search(r"^#{1,%d} " % len(m.group(1)), rest, re.M)
    return m.group(0) + (rest[:nxt.start()] if nxt else rest)


def man_paragraph(section, opt):
    # scdoc: "*--opt* ARG" then tab-indented lines.
    m = re.search(r"^(?:\*-\w\*, )?\*" + re.escape(opt) + r"\*.*\n(?:\t.*\n)*", section, re.M)
    return m.group(0) if m else None


for words, opts in commands.items():
    name = " ".join(words)
    if words == ("agent",):
        sections = [("extsys-agent.8.scd OPTIONS", man_section(man8, "OPTIONS", "extsys-agent.8")),
                    ("extsys-agent.8.scd SYNOPSIS",
                     man_section(man8, "SYNOPSIS", "extsys-agent.8"))]
    else:
        sections = [(f"extsys.1.scd '## extsys {name}'",
                     man_section(man1, f"extsys {name}", "extsys.1.scd"))]
    for opt, (_, values) in opts.items():
        if opt == "--help":
            continue
        for where, sec in sections:
            if "SYNOPSIS" in where:
                if f"*{opt}*" not in sec:
                    errors.append(f"{where}: {name} {opt} missing")
                continue
            para = man_paragraph(sec, opt)
            if para is None:
                errors.append(f"{where}: {name} {opt} not documented")
                continue
            for v in values:
                if not has_word(para, v):
                    errors.append(f"{where}: {name} {opt}: value '{v}' not documented")
for opt in top_opts:
    if not has_word(man_section(man1, "SYNOPSIS", "extsys.1.scd"), opt):
        errors.append(f"extsys.1.scd SYNOPSIS: extsys {opt} missing")

# --- bash ----------------------------------------------------------------------
bash = read("src/app/completions/extsys.bash")
bash_cmds = bash[bash.index("case $cmd in"):]
bash_prev = bash[bash.index("case $prev in"):bash.index("case $cmd in")]
run_valued = re.search(r"local run_valued='([^']*)'", bash).group(1).split("|")
for words, opts in commands.items():
    name = " ".join(words)
    arm = block(bash_cmds, words[0], 4, f"extsys.bash {name}", fallback=True)
    if len(words) > 1:
        arm = block(arm, words[1], 4, f"extsys.bash {name}", fallback=True)
    for opt, (valued, values) in opts.items():
        if not has_word(arm, opt):
            errors.append(f"extsys.bash: {name} {opt} not completed")
        if words == ("run",) and valued and opt not in run_valued:
            errors.append(f"extsys.bash: run {opt} takes a value but is not in run_valued")
        if values:
            m = re.search(r"^\s*(?:[-\w]+ \| )*" + re.escape(opt) + r"(?: \| [-\w]+)*\)\n(.*?);;",
                          bash_prev, re.M | re.S)
            if not m or not all(has_word(m.group(1), v) for v in values):
                errors.append(f"extsys.bash: {opt} values {values} not completed")
bash_top = block(bash_cmds, "''", 4, "extsys.bash top level")
for opt in top_opts:
    if not has_word(bash_top, opt):
        errors.append(f"extsys.bash: extsys {opt} not completed")

# --- zsh -----------------------------------------------------------------------
zsh = read("src/app/completions/_extsys")
zsh_cmds = zsh[zsh.index("case $words[1] in"):]
arrays = dict(re.findall(r"^(\w+)=\((.*?)^\)", zsh, re.M | re.S))
for words, opts in commands.items():
    name = " ".join(words)
    arm = block(zsh_cmds, words[0], 2, f"_extsys {name}")
    if len(words) > 1:
        # policy: one `_arguments` per subcommand, `$words[1] == SUB` or the
        # last branch for the rest.
        m = re.search(r"\$words\[1\] == " + words[1] + r" \]\];.*?(?=\n\s*(?:elif|else|fi)\b)",
                      arm, re.S) or re.search(r"elif \[\[ \$state == policy \]\];.*?\bfi\b", arm, re.S)
        arm = m.group(0) if m else ""
    for var in re.findall(r"\$(\w+)", arm):
        arm += arrays.get(var, "")
    for opt, (valued, values) in opts.items():
        spec = re.search(r"'" + re.escape(opt) + r"(=?)(\[(?:[^']|'\\\\'')*)'", arm) or \
            re.search(r"[{,]" + re.escape(opt) + r"[},]", arm)
        if not spec:
            errors.append(f"_extsys: {name} {opt} not completed")
            continue
        if valued and (spec.lastindex != 2 or "]:" not in spec.group(2)):
            errors.append(f"_extsys: {name} {opt} takes a value but its spec has none")
        for v in values:
            if spec.lastindex != 2 or not has_word(spec.group(2), v):
                errors.append(f"_extsys: {name} {opt}: value '{v}' not completed")
zsh_top = zsh[:zsh.index("case $state in")]
for opt in top_opts:
    if not has_word(zsh_top, opt):
        errors.append(f"_extsys: extsys {opt} not completed")

# --- fish ----------------------------------------------------------------------
fish = read("src/app/completions/extsys.fish")
fish_vars = dict((v, w) for v, w in re.findall(r"^set -l (\w+) '__extsys_command ([\w -]+?)[;']",
                                               fish, re.M))
skip = re.search(r"^\s+case (--[^\n]*)\n\s+set skip 1", fish, re.M).group(1).split()
for words, opts in commands.items():
    name = " ".join(words)
    conds = [f"'__extsys_command {name}'"] + [f"${v}" for v, w in fish_vars.items() if w == name]
    lines = [ln for ln in fish.splitlines()
             if any(ln.startswith(f"complete -c extsys -n {c} ") for c in conds)]
    if not lines:
        errors.append(f"extsys.fish: no completions for {name}")
    for opt, (valued, values) in opts.items():
        line = next((ln for ln in lines if has_word(ln, "-l " + opt[2:])), None)
        if line is None:
            errors.append(f"extsys.fish: {name} {opt} not completed")
            continue
        if valued and not re.search(r" -[rx] ", line):
            errors.append(f"extsys.fish: {name} {opt} takes a value but has no -r/-x")
        if words == ("run",) and valued and opt not in skip:
            errors.append(f"extsys.fish: run {opt} takes a value but __extsys_run_program "
                          "does not skip it")
        args = re.search(r" -a '([^']*)'", line)
        for v in values:
            if not args or not has_word(args.group(1), v):
                errors.append(f"extsys.fish: {name} {opt}: value '{v}' not completed")
for opt in top_opts:
    if not any(ln.startswith("complete -c extsys -n __extsys_no_command ") and
               has_word(ln, "-l " + opt[2:]) for ln in fish.splitlines()):
        errors.append(f"extsys.fish: extsys {opt} not completed")

# --- command names everywhere --------------------------------------------------
top = sorted({w[0] for w in commands})
policy_subs = sorted(w[1] for w in commands if len(w) == 2)
for cmd in top:
    if not has_word(bash_top, cmd):
        errors.append(f"extsys.bash: command {cmd} not completed")
    if not re.search(r"^\s+'" + re.escape(cmd) + ":", zsh, re.M):
        errors.append(f"_extsys: command {cmd} not completed")
    if not re.search(r"__extsys_no_command -a " + re.escape(cmd) + " ", fish):
        errors.append(f"extsys.fish: command {cmd} not completed")
    for where, text in [("extsys.bash help", block(bash_cmds, "help", 4, "extsys.bash help")),
                        ("_extsys help", block(zsh_cmds, "help", 2, "_extsys help")),
                        ("extsys.fish help", "\n".join(
                            ln for ln in fish.splitlines() if "'__extsys_command help'" in ln))]:
        if not has_word(text, cmd):
            errors.append(f"{where}: command {cmd} not offered")

# --- policy keys -----------------------------------------------------------------
loader = read("src/policy/toml_loader.cpp")
split = loader.index("SyscallPolicy syscall(")
end = loader.index("\n  }\n", split)
top_keys = re.findall(r'\bk == "(\w+)"', loader[:split])
sys_part = loader[split:end]
sys_keys = re.findall(r'\bk == "(\w+)"', sys_part)
# The per-syscall tables, as the loader names them in its own error for an
# unknown top-level key (it builds that list from the syscall table).
import tempfile
with tempfile.NamedTemporaryFile("w", suffix=".toml") as bad:
    bad.write("colour = 1\n")
    bad.flush()
    err = subprocess.run([extsys, "policy", "check", bad.name], capture_output=True,
                         text=True).stderr
expected = re.search(r"\(expected ([^)]*)\)", err)
tables = re.findall(r"\[(\w+)\]", expected.group(1)) if expected else []
if len(top_keys) < 5 or len(sys_keys) < 5 or not tables:
    sys.exit(f"could not read the policy keys from toml_loader.cpp: {top_keys} {sys_keys} {tables}")
top_sec = man_section(man5, "TOP-LEVEL KEYS", "extsys-policy.5.scd")
sys_sec = man_section(man5, "PER-SYSCALL TABLES", "extsys-policy.5.scd")
for key in top_keys:
    para = man_paragraph(top_sec, key)
    if para is None:
        errors.append(f"extsys-policy.5.scd: top-level key '{key}' not documented")
for i, key in enumerate(sys_keys):
    para = man_paragraph(sys_sec, key) or man_paragraph(sys_sec, f"[SYSCALL.{key}]")
    if para is None:
        errors.append(f"extsys-policy.5.scd: per-syscall key '{key}' not documented")
        continue
    # The choices of this key's branch: {"value", Enum::X} pairs.
    branch = sys_part.split(f'k == "{key}"')[1].split("k == ")[0]
    for v in re.findall(r'\{"([^"]+)", ', branch):
        if f'"{v}"' not in para:
            errors.append(f"extsys-policy.5.scd: {key}: value \"{v}\" not documented")
for t in tables:
    if f"[{t}]" not in sys_sec:
        errors.append(f"extsys-policy.5.scd: table [{t}] not documented")
# A policy key mirrored by a run option has the option's values.
for key in top_keys:
    _, values = commands[("run",)].get("--" + key, (False, []))
    para = man_paragraph(top_sec, key) or ""
    for v in values:
        if f'"{v}"' not in para:
            errors.append(f"extsys-policy.5.scd: {key}: value \"{v}\" not documented")

for e in errors:
    print(e)
print(f"docs_sync: {len(commands)} commands, {sum(map(len, commands.values()))} options, "
      f"{len(top_keys) + len(sys_keys)} policy keys: {len(errors)} gaps")
sys.exit(1 if errors else 0)
