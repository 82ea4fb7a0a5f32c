# Extra redis-servers for one .bats file (TLS, requirepass, ACL...), started with the
# arguments a test needs and stopped by PID in teardown_file: loaded by tests/cli/redis
# files after common.

# start_server NAME [REDIS-CLI-ARGS...] -- REDIS-SERVER-ARGS...: starts a private
# redis-server on a free loopback port, which REDIS-SERVER-ARGS give as the word {port}, and
# waits until it answers `redis-cli REDIS-CLI-ARGS` (our own server: its pid, not another's).
# Exports NAME_PORT and NAME_PID (NAME upper-cased, - as _); stop_servers stops it by PID.
start_server() {
    local name=$1 dir=$BATS_FILE_TMPDIR attempt port pid deadline arg var
    shift
    local -a cli=() args=()
    while [[ $1 != -- ]]; do
        cli+=("$1")
        shift
    done
    shift
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        args=()
        for arg in "$@"; do
            args+=("${arg//\{port\}/$port}")
        done
        redis-server --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" "${args[@]}" \
            >"$dir/$name.log" 2>&1 </dev/null 3>&- &
        pid=$!
        echo "$pid" >>"$dir/servers.pid"
        deadline=$(($(now_ms) + 10000))
        while is_running "$pid"; do
            if [[ $(redis-cli "${cli[@]}" -p "$port" INFO server 2>/dev/null) == *"process_id:$pid"$'\r'* ]]; then
                var=${name^^}
                var=${var//-/_}
                export "${var}_PORT=$port" "${var}_PID=$pid"
                return 0
            fi
            if (($(now_ms) > deadline)); then
                echo "redis-server $name did not answer within 10s; its log:" >&2
                cat "$dir/$name.log" >&2
                return 1
            fi
            sleep 0.02
        done
        wait "$pid" 2>/dev/null || true
        if ! grep -q 'Address already in use' "$dir/$name.log"; then
            echo "redis-server $name exited at start; its log:" >&2
            cat "$dir/$name.log" >&2
            return 1
        fi
    done
    echo "redis-server $name: no free port found" >&2
    return 1
}

stop_servers() {
    local pid
    [[ -s $BATS_FILE_TMPDIR/servers.pid ]] || return 0
    while read -r pid; do
        kill -CONT "$pid" 2>/dev/null || true
        kill -TERM "$pid" 2>/dev/null || true
        if ! poll_until 10 is_gone "$pid"; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done <"$BATS_FILE_TMPDIR/servers.pid"
}
