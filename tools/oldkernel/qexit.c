/* SPDX-License-Identifier: MIT
 * qexit N - guest helper for tools/oldkernel: makes qemu exit with status
 * (N << 1) | 1 through `-device isa-debug-exit,iobase=0xf4,iosize=0x04`.
 * Debian's cloud kernels have no /dev/port (CONFIG_DEVPORT unset), hence
 * ioperm + outl. Built with `cc -static`; returns 1 only without the device.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/io.h>

int main(int argc, char **argv)
{
    unsigned v = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 0) : 0;
    if (ioperm(0xf4, 4, 1) != 0) {
        perror("qexit: ioperm");
        return 1;
    }
    outl(v, 0xf4);
    return 1;
}
