#!/bin/busybox sh
# SPDX-License-Identifier: MIT
# tools/oldkernel/guest-init.sh - /init of the old-kernel initramfs (PID 1,
# busybox ash). Runs each gtest binary listed in /oldkernel/tests.sh and
# sends its results to the host over the second serial port (ttyS1) as soon
# as it ends, so a run cut short still brings back what finished:
#
#   EXTSYS-OLDKERNEL-BEGIN
#   KERNEL <uname -r> | <uname -v>
#   FILE <name>            base64 of the gzipped file (gtest XML, its text
#   ...                    log, diagnostics), then
#   ENDFILE <name>
#   TEST <name> rc=<exit status> seconds=<wall>      after that test's files
#   EXTSYS-OLDKERNEL-END status=<mask>
#
# then powers off through isa-debug-exit (qemu exits with (mask<<1)|1), or
# `poweroff -f` (qemu exits 0) if that device is absent (aarch64: there is no
# /oldkernel/qexit; PSCI powers off). The host trusts neither alone: it
# requires the END line and counts the gtest XML itself. The result channel
# is ttyS1 on both arches (aarch64: port 2 of a PCI 8250 card; the console
# is the PL011, ttyAMA0).
# Kernel command line: oldkernel.deadline=SEC (seconds since boot by which
# every test binary must have ended; each one's limit is cut to fit).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LANG=C LC_ALL=C TERM=dumb
umask 022

# pivot_root(2), which runc and crun use, refuses the initramfs (rootfs):
# first move everything to a tmpfs and make that the root.
if [ "$1" != stage2 ]; then
    /bin/busybox mkdir -p /newroot
    if /bin/busybox mount -t tmpfs -o mode=755 tmpfs /newroot; then
        for e in /* /.[!.]*; do
            [ -e "$e" ] || [ -L "$e" ] || continue
            [ "$e" = /newroot ] || /bin/busybox cp -a "$e" /newroot/
        done
        exec /bin/busybox switch_root /newroot /init stage2
    fi
    echo "oldkernel-guest: cannot move to a tmpfs root: staying on the initramfs (runc/crun will fail)"
fi

/bin/busybox mount -t proc proc /proc
# Applet links where nothing else is: /bin/sh stays the host's shell, which
# run-kernel-tests copies in.
/bin/busybox --install -s
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mkdir -p /dev/pts /dev/shm /run /sys/fs/cgroup
mount -t devpts devpts /dev/pts
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -t tmpfs -o mode=755 tmpfs /run
mount -t cgroup2 cgroup2 /sys/fs/cgroup 2>/dev/null
[ -e /dev/fd ] || ln -s /proc/self/fd /dev/fd
chmod 1777 /tmp
ip link set lo up 2>/dev/null
hostname oldkernel

status=0
deadline=
for w in $(cat /proc/cmdline); do
    case "$w" in oldkernel.deadline=*) deadline=${w#*=} ;; esac
done
mkdir -p /results
echo "oldkernel-guest: $(uname -r) $(uname -v), $(nproc) cpus, $(awk '/MemTotal/ {print $2}' /proc/meminfo) kB${deadline:+, deadline ${deadline}s after boot}"

# The result channel. Each write closes the tty, and a close waits until the
# output has drained, so whatever was sent has left the guest.
stty -F /dev/ttyS1 raw -echo 2>/dev/null
send() { cat >/dev/ttyS1; }
send_file() {
    [ -f "$1" ] || return 0
    { echo "FILE ${1##*/}"; gzip -c "$1" | base64; echo "ENDFILE ${1##*/}"; } | send
}
printf 'EXTSYS-OLDKERNEL-BEGIN\nKERNEL %s | %s\n' "$(uname -r)" "$(uname -v)" | send

uptime_s() { cut -d. -f1 /proc/uptime; }

# run_test NAME TIMEOUT_SEC WORKDIR [VAR=VALUE...] -- PROGRAM [ARGS...]
# (the lines of /oldkernel/tests.sh, written by run-kernel-tests)
runas=
run_test() {
    name=$1 limit=$2 wd=$3
    shift 3
    if [ -n "$deadline" ]; then
        left=$((deadline - $(uptime_s)))
        [ "$left" -lt "$limit" ] && limit=$left
    fi
    echo
    if [ "$limit" -le 0 ]; then
        echo "oldkernel-guest: ==== $name: not run, no time left before the deadline ===="
        echo "not run: no time left before the run's deadline (--timeout)" >/results/"$name".log
        send_file /results/"$name".log
        echo "TEST $name rc=124 seconds=0" | send
        status=$((status | 3))
        return
    fi
    echo "oldkernel-guest: ==== $name (limit ${limit}s) ===="
    start=$(date +%s)
    rm -f /results/"$name".rc
    (
        cd "$wd" 2>/dev/null || cd /
        while [ $# -gt 0 ] && [ "$1" != "--" ]; do
            export "$1"
            shift
        done
        shift
        if [ -n "$runas" ]; then
            # The XML is written by the test's own user.
            : >/results/"$name".xml && chown "$runas" /results/"$name".xml
            timeout -s KILL "$limit" /usr/bin/setpriv --reuid="$runas" --regid="$runas" \
                --clear-groups -- "$@" "--gtest_output=xml:/results/$name.xml" </dev/null
        else
            timeout -s KILL "$limit" "$@" "--gtest_output=xml:/results/$name.xml" </dev/null
        fi
        echo $? >/results/"$name".rc
    ) 2>&1 | tee /results/"$name".log
    rc=$(cat /results/"$name".rc 2>/dev/null || echo 255)
    end=$(date +%s)
    echo "oldkernel-guest: ==== $name: exit status $rc after $((end - start))s ===="
    [ "$rc" = 0 ] || status=$((status | 1))
    [ -s /results/"$name".xml ] || status=$((status | 2))
    send_file /results/"$name".xml
    send_file /results/"$name".log
    echo "TEST $name rc=$rc seconds=$((end - start))" | send
}

# yama_scope N: the Yama passes run under /proc/sys/kernel/yama/ptrace_scope=N.
# A kernel without Yama cannot run them: they are reported as skipped.
yama_file=/proc/sys/kernel/yama/ptrace_scope
yama_saved=
yama_ok=1
yama_scope() {
    [ -n "$yama_saved" ] || yama_saved=$(cat "$yama_file" 2>/dev/null || echo none)
    if [ -w "$yama_file" ] && echo "$1" >"$yama_file" 2>/dev/null; then
        yama_ok=1
        echo "oldkernel-guest: Yama ptrace_scope=$(cat "$yama_file")"
    else
        yama_ok=0
        echo "oldkernel-guest: no Yama here ($yama_file): its passes are skipped"
    fi
}
yama_scope_restore() {
    [ "$yama_saved" = none ] || [ -z "$yama_saved" ] || echo "$yama_saved" >"$yama_file" 2>/dev/null
}
# Skipped (counted as such) when the kernel has no Yama.
run_yama_skipped() {
    name=$1
    printf '<?xml version="1.0"?>\n<testsuites><testsuite name="Yama"><testcase classname="oldkernel" name="%s" status="run" result="skipped"><skipped message="the kernel has no Yama"/></testcase></testsuite></testsuites>\n' "$name" >/results/"$name".xml
    echo "the kernel has no Yama ($yama_file): $name not run" >/results/"$name".log
    send_file /results/"$name".xml
    send_file /results/"$name".log
    echo "TEST $name rc=0 seconds=0" | send
}
# run_test_as UID NAME ...: run_test as that user (setpriv), in a Yama pass.
run_test_as() {
    if [ "$yama_ok" = 1 ]; then
        runas=$1
        shift
        run_test "$@"
        runas=
    else
        run_yama_skipped "$2"
    fi
}

# run_diag FILE PROGRAM [ARGS...]: output kept with the results, not counted.
run_diag() {
    out=$1 dlimit=120
    shift
    if [ -n "$deadline" ]; then
        left=$((deadline - $(uptime_s)))
        [ "$left" -lt "$dlimit" ] && dlimit=$left
    fi
    [ "$dlimit" -gt 0 ] || return 0
    timeout -s KILL "$dlimit" "$@" >/results/"$out" 2>&1 </dev/null
    echo "exit status $?" >>/results/"$out"
    send_file /results/"$out"
}

if [ -r /oldkernel/tests.sh ]; then
    . /oldkernel/tests.sh
else
    echo "oldkernel-guest: /oldkernel/tests.sh missing"
    status=$((status | 4))
fi

echo "EXTSYS-OLDKERNEL-END status=$status" | send
echo "oldkernel-guest: done, status $status"
/oldkernel/qexit "$status" 2>/dev/null
poweroff -f
sleep 10
