# bash completion for extsys(1)                            -*- shell-script -*-
# SPDX-License-Identifier: MIT
# Installed as bash-completion/completions/extsys. Policy names come from the
# extsys being completed (`extsys policy list --names`), so they are exactly
# what --policy NAME finds, from whichever extsys (installed or a build tree)
# is on the command line.

_extsys_policy_names()
{
    local extsys=$1
    COMPREPLY+=($(compgen -W "$("$extsys" policy list --names 2>/dev/null)" -- "$cur"))
    _filedir toml
}

_extsys()
{
    local cur prev words cword split
    _init_completion -s || return

    local extsys=${words[0]} cmd='' sub='' i
    # Options whose value is the next word, per command.
    local run_valued='--policy|--audit|--probe-errno|--log-level|--log-file|--nested|--process-model|--containment|--sync-wakeup|--threads'
    local agent_valued='--socket|--lxc-socket|--policy|--audit|--probe-errno|--log-level|--log-file|--sync-wakeup|--threads|--max-connections|--max-fds'
    # extsys matrix (issue 23)
    local matrix_valued='--kernels|--jobs|-j|--timeout|--junit|--output-dir'

    for ((i = 1; i < cword; i++)); do
        if [[ -z $cmd ]]; then
            [[ ${words[i]} == -* ]] || cmd=${words[i]}
            continue
        fi
        if [[ $cmd == run || $cmd == matrix ]]; then
            # PROGRAM starts after `--`, or at the first word that is not an
            # option or an option's value: complete it as a command of its own.
            if [[ ${words[i]} == -- ]]; then
                _command_offset $((i + 1))
                return
            fi
            if [[ ${words[i]} == @($run_valued) || ($cmd == matrix && ${words[i]} == @($matrix_valued)) ]]; then
                ((i++))
            elif [[ ${words[i]} != -* ]]; then
                _command_offset $i
                return
            fi
        elif [[ $cmd == policy && -z $sub && ${words[i]} != -* ]]; then
            sub=${words[i]}
        fi
    done

    case $prev in
        --policy)
            _extsys_policy_names "$extsys"
            return
            ;;
        --audit | --log-file | --socket | --lxc-socket | --base | --into | --check)
            _filedir
            return
            ;;
        --log-level)
            COMPREPLY=($(compgen -W 'trace debug info warn error off' -- "$cur"))
            return
            ;;
        --nested)
            COMPREPLY=($(compgen -W 'fail passthrough' -- "$cur"))
            return
            ;;
        --process-model)
            COMPREPLY=($(compgen -W 'auto in-place ancestor' -- "$cur"))
            return
            ;;
        --containment)
            COMPREPLY=($(compgen -W 'full ptrace-only none' -- "$cur"))
            return
            ;;
        --sync-wakeup)
            COMPREPLY=($(compgen -W 'auto on off' -- "$cur"))
            return
            ;;
        --format)
            COMPREPLY=($(compgen -W 'oci lxc' -- "$cur"))
            return
            ;;
        --probe-errno | --threads | --max-connections | --max-fds)
            return
            ;;
        # extsys matrix (issue 23)
        --junit | --output-dir)
            _filedir
            return
            ;;
        --kernels | --jobs | -j | --timeout)
            return
            ;;
    esac
    $split && return

    local opts
    case $cmd in
        '')
            if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W '--help -V --version' -- "$cur"))
            else
                COMPREPLY=($(compgen -W 'run matrix features policy agent oci-profile version help' -- "$cur"))
            fi
            return
            ;;
        run)
            opts='--help --policy --audit --probe-errno --log-level --log-file --nested
                  --process-model --containment --no-cache --sync-wakeup --threads --audit-hidden --'
            if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$opts" -- "$cur"))
            else
                # PROGRAM
                COMPREPLY=($(compgen -c -- "$cur"))
            fi
            return
            ;;
        # extsys matrix (issue 23)
        matrix)
            opts='--help --kernels --all --jobs -j --timeout --junit --json --output-dir --'
            if [[ $cur != -* ]]; then
                COMPREPLY=($(compgen -c -- "$cur"))
                return
            fi
            ;;
        features)
            opts='--help --json --no-cache --policy'
            ;;
        policy)
            case $sub in
                '')
                    opts='--help'
                    [[ $cur == -* ]] || opts='check list'
                    ;;
                check)
                    if [[ $cur == -* ]]; then
                        opts='--help -q --quiet'
                    else
                        _extsys_policy_names "$extsys"
                        return
                    fi
                    ;;
                *) opts='--help' ;;
            esac
            ;;
        agent)
            opts='--help --socket --lxc-socket --policy --audit --probe-errno --log-level --log-file
                  --no-cache --sync-wakeup --threads --max-connections --max-fds'
            ;;
        oci-profile)
            opts='--help --policy --socket --no-cache --base --into --check --format'
            ;;
        help)
            # `extsys help COMMAND [SUBCOMMAND]`
            opts='run matrix features policy agent oci-profile version help'
            [[ $cur == -* ]] && opts='--help'
            [[ ${words[cword - 1]} == policy ]] && opts='check list'
            ;;
        *)
            opts='--help'
            ;;
    esac
    COMPREPLY=($(compgen -W "$opts" -- "$cur"))
} &&
    complete -F _extsys extsys

# ex: filetype=sh
