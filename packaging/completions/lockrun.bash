# bash completion for lockrun
_lockrun() {
    local cur prev words cword
    _init_completion -n = || return

    local options="--key -k --key-from-command --lease -l --wait -w --command-string -c
        --conflict-exit-code -E --no-cache --refresh --cache-failures --cache-stderr
        --cache-ttl --cache-max-bytes --on-lock-lost --kill-after --on-backend-error
        --backend --state-dir --redis --redis-password-file --tls-ca-file --tls-cert-file
        --tls-key-file --tls-server-name --connect-timeout --io-timeout --prefix --config
        --quiet -q --verbose -v --log-format --metrics-file --help -h --version"
    local subcommands="status release cache config doctor"

    # After "--" (or the command's first word) everything belongs to the command.
    local i
    for ((i = 1; i < cword; i++)); do
        if [[ ${words[i]} == -- ]]; then
            _command_offset $((i + 1))
            return
        fi
    done

    case $prev in
        --on-lock-lost) COMPREPLY=($(compgen -W "term kill ignore" -- "$cur")); return ;;
        --on-backend-error) COMPREPLY=($(compgen -W "fail run" -- "$cur")); return ;;
        --backend) COMPREPLY=($(compgen -W "local redis" -- "$cur")); return ;;
        --log-format) COMPREPLY=($(compgen -W "text json" -- "$cur")); return ;;
        --wait | -w) COMPREPLY=($(compgen -W "0 10s 1m 10m inf" -- "$cur")); return ;;
        --state-dir) _filedir -d; return ;;
        --redis-password-file | --tls-ca-file | --tls-cert-file | --tls-key-file | \
            --config | --metrics-file) _filedir; return ;;
        --key | -k | --lease | -l | --cache-ttl | --cache-max-bytes | --kill-after | \
            --connect-timeout | --io-timeout | --prefix | --redis | --tls-server-name | \
            --conflict-exit-code | -E | --command-string | -c) return ;;
        cache) COMPREPLY=($(compgen -W "show drop" -- "$cur")); return ;;
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$options --json --force" -- "$cur"))
    elif [[ $cword -eq 1 ]]; then
        COMPREPLY=($(compgen -W "$subcommands" -- "$cur"))
    fi
}
complete -F _lockrun lockrun
