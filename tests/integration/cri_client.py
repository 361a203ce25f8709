#!/usr/bin/python3
# SPDX-License-Identifier: MIT
# cri_client.py SOCKET IMAGE PROFILE LOGDIR CMD... - what kubelet does for a
# pod with a Localhost seccomp profile, as a minimal CRI client (kubelet is
# not packaged in Debian 12): RunPodSandbox (host network, so no CNI),
# CreateContainer with seccomp {Localhost, PROFILE} running CMD with
# EXTSYS_* variables from the environment, StartContainer, wait for it to
# exit, print its log (the container's stdout and stderr) and
# "exit_code=N", then StopPodSandbox and RemovePodSandbox.
#
# The CRI messages (k8s.io/cri-api runtime.v1) are encoded by hand: only the
# fields used here, with their numbers from api.proto; python3-grpcio carries
# the bytes. Exit 0 when the container ran (whatever its exit code), 1 on a
# CRI error.
import os
import sys
import time

import grpc


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def field(num, value):
    # bytes/str/message: length-delimited; int: varint.
    if isinstance(value, int):
        return varint(num << 3) + varint(value)
    if isinstance(value, str):
        value = value.encode()
    return varint(num << 3 | 2) + varint(len(value)) + value


def msg(*fields):
    return b"".join(field(n, v) for n, v in fields if v is not None)


def decode(data):
    # {field number: [values]}: ints for varints, bytes otherwise.
    out, i = {}, 0
    while i < len(data):
        key, i = read_varint(data, i)
        num, wire = key >> 3, key & 7
        if wire == 0:
            val, i = read_varint(data, i)
        elif wire == 2:
            n, i = read_varint(data, i)
            val, i = data[i:i + n], i + n
        elif wire == 1:
            val, i = data[i:i + 8], i + 8
        elif wire == 5:
            val, i = data[i:i + 4], i + 4
        else:
            raise ValueError(f"wire type {wire}")
        out.setdefault(num, []).append(val)
    return out


def read_varint(data, i):
    n = shift = 0
    while True:
        b = data[i]
        i += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return n, i


NODE = 2            # NamespaceMode
LOCALHOST = 2       # SecurityProfile.ProfileType
EXITED = 2          # ContainerState


def main():
    sock, image, profile, logdir, *cmd = sys.argv[1:]
    channel = grpc.insecure_channel("unix://" + sock)
    grpc.channel_ready_future(channel).result(timeout=30)

    def call(method, request):
        stub = channel.unary_unary("/runtime.v1.RuntimeService/" + method,
                                   request_serializer=None, response_deserializer=None)
        return stub(request, timeout=120)

    uid = f"extsys-{os.getpid()}"
    namespaces = msg((1, NODE), (2, 1), (3, NODE))  # network NODE, pid CONTAINER, ipc NODE
    sandbox_config = msg(
        (1, msg((1, uid), (2, uid), (3, "default"), (4, 0))),  # metadata
        (3, logdir),                                            # log_directory
        (8, msg((2, msg((1, namespaces))))),                    # linux.security_context
    )
    sandbox = decode(call("RunPodSandbox", msg((1, sandbox_config))))[1][0].decode()
    rc = 1
    try:
        envs = [msg((1, k), (2, v)) for k, v in os.environ.items() if k.startswith("EXTSYS_")]
        security = msg((3, namespaces), (11, 1),                 # namespace_options, no_new_privs
                       (15, msg((1, LOCALHOST), (2, profile))))  # seccomp
        config = b"".join([
            field(1, msg((1, "probe"), (2, 0))),  # metadata
            field(2, msg((1, image))),            # image
            *[field(3, c) for c in cmd],          # command
            *[field(6, e) for e in envs],         # envs
            field(11, "probe.log"),               # log_path
            field(15, msg((2, security))),        # linux.security_context
        ])
        created = call("CreateContainer", msg((1, sandbox), (2, config), (3, sandbox_config)))
        cid = decode(created)[1][0].decode()
        call("StartContainer", msg((1, cid)))
        deadline = time.time() + 120
        while True:
            status = decode(decode(call("ContainerStatus", msg((1, cid))))[1][0])
            if status.get(3, [0])[0] == EXITED:
                break
            if time.time() > deadline:
                sys.exit("the container did not exit within 120 s")
            time.sleep(0.1)
        with open(os.path.join(logdir, "probe.log")) as f:
            for line in f:
                # CRI log format: TIME STREAM TAG CONTENT
                parts = line.rstrip("\n").split(" ", 3)
                print(parts[3] if len(parts) == 4 else line.rstrip("\n"))
        code = status.get(7, [0])[0]
        print(f"exit_code={code - (1 << 64) if code >= 1 << 63 else code}")
        rc = 0
    except grpc.RpcError as e:
        print(f"cri_client: {e.code()}: {e.details()}", file=sys.stderr)
    finally:
        try:
            call("StopPodSandbox", msg((1, sandbox)))
            call("RemovePodSandbox", msg((1, sandbox)))
        except grpc.RpcError as e:
            print(f"cri_client: cleanup: {e.details()}", file=sys.stderr)
    sys.exit(rc)


main()
