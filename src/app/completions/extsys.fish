# SPDX-License-Identifier: MIT
# fish completion for extsys(1). Installed as vendor_completions.d/extsys.fish.
# Policy names come from the extsys being completed (`extsys policy list
# --names`): exactly what --policy NAME finds.

set -l commands run matrix features policy agent oci-profile version help

function __extsys_policies
    set -l extsys (commandline -opc)[1]
    $extsys policy list --names 2>/dev/null
end

# True while no subcommand has been given.
function __extsys_no_command
    set -l words (commandline -opc)
    for w in $words[2..-1]
        switch $w
            case '-*'
            case '*'
                return 1
        end
    end
    return 0
end

# True when the first non-option word is $argv[1] (and, for policy, the
# second is $argv[2]).
function __extsys_command
    set -l words (commandline -opc)
    set -l found
    for w in $words[2..-1]
        switch $w
            case '-*'
            case '*'
                set -a found $w
        end
    end
    test "$found[1]" = "$argv[1]"; or return 1
    test (count $argv) -lt 2; or test "$found[2]" = "$argv[2]"
end

# The words of `extsys run`'s PROGRAM and its arguments typed so far: after
# `--`, or from the first word that is not an option or an option's value.
# Prints nothing (and fails) before PROGRAM.
function __extsys_run_program
    set -l words (commandline -opc)
    set -l seen_run 0
    set -l skip 0
    for i in (seq 2 (count $words))
        set -l w $words[$i]
        if test $seen_run = 0
            contains -- "$w" run matrix; and set seen_run 1
            continue
        end
        if test $skip = 1
            set skip 0
            continue
        end
        switch $w
            case --
                test $i -lt (count $words); or return 1
                string join \n -- $words[(math $i + 1)..-1]
                return 0
            case --policy --audit --probe-errno --log-level --log-file --nested --process-model --containment --sync-wakeup --threads --kernels --jobs -j --timeout --junit --output-dir
                set skip 1
            case '-*'
            case '*'
                string join \n -- $words[$i..-1]
                return 0
        end
    end
    return 1
end

# PROGRAM's own completion for its arguments.
function __extsys_complete_program
    set -l program (__extsys_run_program)
    complete -C (string join ' ' -- (string escape -- $program) (commandline -ct))
end

complete -c extsys -f
complete -c extsys -n __extsys_no_command -s h -l help -d 'Print help and exit'
complete -c extsys -n __extsys_no_command -s V -l version -d 'Print the version, commit, libseccomp version and build features'
complete -c extsys -n __extsys_no_command -a run -d 'Run PROGRAM with CHECK_FIELDS probes answered'
complete -c extsys -n __extsys_no_command -a matrix -d 'Run COMMAND once per kernel persona and print one table'
complete -c extsys -n __extsys_no_command -a features -d 'Show what this kernel supports and how probes are answered'
complete -c extsys -n __extsys_no_command -a policy -d 'Validate and show policies'
complete -c extsys -n __extsys_no_command -a agent -d 'Serve the seccomp listeners of OCI containers'
complete -c extsys -n __extsys_no_command -a oci-profile -d 'Print the linux.seccomp section of an OCI config.json'
complete -c extsys -n __extsys_no_command -a version -d 'Print the version'
complete -c extsys -n __extsys_no_command -a help -d 'Print help for extsys or a COMMAND'

# extsys run: its options until PROGRAM, then PROGRAM's own completion.
set -l run '__extsys_command run; and not __extsys_run_program >/dev/null'
complete -c extsys -n $run -s h -l help -d 'Print help and exit'
complete -c extsys -n $run -l policy -r -F -a '(__extsys_policies)' -d 'Policy NAME or FILE.toml'
complete -c extsys -n $run -l audit -r -F -d 'Append one JSON line per supervisor decision to FILE'
complete -c extsys -n $run -l probe-errno -x -d 'Errno a successful probe returns (1-4095)'
complete -c extsys -n $run -l log-level -x -a 'trace debug info warn error off' -d 'Log level'
complete -c extsys -n $run -l log-file -r -F -d 'Where the supervisor logs once PROGRAM runs'
complete -c extsys -n $run -l nested -x -a 'fail passthrough' -d 'When PROGRAM is already under a seccomp listener'
complete -c extsys -n $run -l process-model -x -a 'auto in-place ancestor' -d 'How PROGRAM and the supervisor are placed'
complete -c extsys -n $run -l containment -x -a 'full ptrace-only none' -d 'Strict policies: the weakest containment to accept'
complete -c extsys -n $run -l no-cache -d "Discover the kernel's features again"
complete -c extsys -n $run -l audit-hidden -d 'With --audit: also record what the policy hides'
complete -c extsys -n $run -l sync-wakeup -x -a 'auto on off' -d 'SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP'
complete -c extsys -n $run -l threads -x -d 'Most supervisor threads answering at once (1-64)'
complete -c extsys -n $run -a '(__fish_complete_command)' -d Program
complete -c extsys -n '__extsys_command run; and __extsys_run_program >/dev/null' -x -a '(__extsys_complete_program)'

set -l features '__extsys_command features'
complete -c extsys -n $features -s h -l help -d 'Print help and exit'
complete -c extsys -n $features -l json -d 'Print JSON (schema extsys.features/1)'
complete -c extsys -n $features -l no-cache -d 'Discover again; neither read nor write the cache'
complete -c extsys -n $features -l policy -r -F -a '(__extsys_policies)' -d 'Show the answers under this policy'

set -l policy '__extsys_command policy; and not __extsys_command policy check; and not __extsys_command policy list'
complete -c extsys -n $policy -s h -l help -d 'Print help and exit'
complete -c extsys -n $policy -a check -d 'Validate policies and print each effective policy'
complete -c extsys -n $policy -a list -d 'List the policies found by NAME'
complete -c extsys -n '__extsys_command policy check' -s h -l help -d 'Print help and exit'
complete -c extsys -n '__extsys_command policy check' -s q -l quiet -d 'Only validate; print nothing when valid'
complete -c extsys -n '__extsys_command policy check' -F -a '(__extsys_policies)'
complete -c extsys -n '__extsys_command policy list' -s h -l help -d 'Print help and exit'

set -l agent '__extsys_command agent'
complete -c extsys -n $agent -s h -l help -d 'Print help and exit'
complete -c extsys -n $agent -l socket -r -F -d 'UNIX socket to listen on'
complete -c extsys -n $agent -l lxc-socket -r -F -d "UNIX seqpacket socket for LXC's seccomp proxy"
complete -c extsys -n $agent -l policy -r -F -a '(__extsys_policies)' -d 'Policy for containers whose listenerMetadata names none'
complete -c extsys -n $agent -l audit -r -F -d 'Append one JSON line per supervisor decision to FILE'
complete -c extsys -n $agent -l probe-errno -x -d 'Errno a successful probe returns (1-4095)'
complete -c extsys -n $agent -l log-level -x -a 'trace debug info warn error off' -d 'Log level'
complete -c extsys -n $agent -l log-file -r -F -d 'Append log lines to FILE'
complete -c extsys -n $agent -l no-cache -d "Discover the kernel's features again"
complete -c extsys -n $agent -l sync-wakeup -x -a 'auto on off' -d 'SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP'
complete -c extsys -n $agent -l threads -x -d 'Most supervisor threads per container (1-64)'
complete -c extsys -n $agent -l max-connections -x -d 'Most connections served at once (1-65536)'
complete -c extsys -n $agent -l max-fds -x -d 'Most file descriptors a connection may pass (1-253)'

set -l ociprofile '__extsys_command oci-profile'
complete -c extsys -n $ociprofile -s h -l help -d 'Print help and exit'
complete -c extsys -n $ociprofile -l policy -r -F -a '(__extsys_policies)' -d 'Policy NAME or FILE'
complete -c extsys -n $ociprofile -l socket -r -F -d "The agent's socket (listenerPath)"
complete -c extsys -n $ociprofile -l no-cache -d "Discover the kernel's features again"
complete -c extsys -n $ociprofile -l base -r -F -d 'Compose into this seccomp profile'
complete -c extsys -n $ociprofile -l into -r -F -d 'Merge into this config.json in place'
complete -c extsys -n $ociprofile -l check -r -F -d 'Check this profile or config.json'
complete -c extsys -n $ociprofile -l format -x -a 'oci lxc' -d 'Output format: OCI JSON or an LXC policy'

complete -c extsys -n '__extsys_command version' -s h -l help -d 'Print help and exit'
complete -c extsys -n '__extsys_command help' -s h -l help -d 'Print help and exit'
complete -c extsys -n '__extsys_command help' -x -a 'run matrix features policy agent oci-profile version help' -d Command

# extsys matrix (issue 23): its options until COMMAND, then COMMAND's own completion.
set -l matrix '__extsys_command matrix; and not __extsys_run_program >/dev/null'
complete -c extsys -n $matrix -s h -l help -d 'Print help and exit'
complete -c extsys -n $matrix -l kernels -x -d 'Comma-separated releases X.Y to run as personas'
complete -c extsys -n $matrix -l all -d 'Every persona of extsys policy list (the default)'
complete -c extsys -n $matrix -s j -l jobs -x -d 'Runs at once'
complete -c extsys -n $matrix -l timeout -x -d 'Seconds before a run is killed'
complete -c extsys -n $matrix -l junit -r -F -d 'Write JUnit XML to FILE'
complete -c extsys -n $matrix -l json -d 'Print JSON instead of the table'
complete -c extsys -n $matrix -l output-dir -r -F -d "Keep each run's output in DIR"
complete -c extsys -n $matrix -a '(__fish_complete_command)' -d Command
complete -c extsys -n '__extsys_command matrix; and __extsys_run_program >/dev/null' -x -a '(__extsys_complete_program)'
