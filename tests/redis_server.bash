# The one way this project starts a throwaway redis-server on a free loopback port, and
# stops it by PID: sourced by scripts/test (the unit tests' server), scripts/bench and
# tests/cli/common.bash (each .bats file's server, and those of its own: TLS, a password,
# one to crash).
#   start_redis_server DIR NAME PORT|any [REDIS-CLI-ARG...] [-- REDIS-SERVER-ARG...]
#   stop_redis_servers DIR

# is_running PID: the process exists and is not a zombie (an orphan that nobody reaps
# counts as gone).
is_running() {
    local stat
    [[ $1 =~ ^[0-9]+$ ]] || return 1
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

# process_start PID: when process PID started (clock ticks after boot, /proc/PID/stat field
# 22), or nothing if there is none. A PID and its start name one process: a PID alone is
# another process's once the first has gone and the kernel hands it out again, which a
# suite that starts tens of thousands of processes under pid_max 32768 sees within a run.
process_start() {
    local stat
    [[ $1 =~ ^[0-9]+$ ]] || return 0
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 0
    stat=${stat##*) }
    local -a fields
    read -r -a fields <<<"$stat"
    echo "${fields[19]}"
}

# remember_server DIR PID: adds process PID, just started, to DIR's list for
# stop_redis_servers, as its PID and start time.
remember_server() {
    echo "$2 $(process_start "$2")" >>"$1/redis-servers.pid"
}

# same_process PID START: process PID is still the one that started at START, and running.
same_process() {
    [[ -n $2 && $(process_start "$1") == "$2" ]] && is_running "$1"
}

# free_port [cluster]: a loopback TCP port that nothing listens on right now; with
# `cluster`, one below 55535 whose cluster bus port (port + 10000) is free as well.
free_port() {
    local port
    while :; do
        port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        if [[ ${1-} == cluster ]]; then
            ((port < 55535)) || continue
            if (exec 9<>"/dev/tcp/127.0.0.1/$((port + 10000))") 2>/dev/null; then continue; fi
        fi
        if ! (exec 9<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
}

# start_redis_server DIR NAME PORT|any|cluster [REDIS-CLI-ARG...] [-- REDIS-SERVER-ARG...]:
# starts redis-server on 127.0.0.1:PORT (any: a free port; cluster: a free port whose bus
# port is free too, see free_port) without persistence, with its files and
# its log NAME.log in DIR, and waits up to 10 s until `redis-cli REDIS-CLI-ARG...` (TLS,
# a password) gets an answer from it: INFO names its PID, so a server that already owned
# the port does not count. In REDIS-SERVER-ARGs {port} is the port: a TLS-only server
# gives `--port 0 --tls-port {port}` (the last --port wins). A port found taken at bind
# time (free_port only knows that nothing listened a moment ago) means another free port,
# or for a given PORT a moment's wait and another try. Sets REDIS_SERVER_PORT and
# REDIS_SERVER_PID, and adds the PID to DIR/redis-servers.pid for stop_redis_servers.
start_redis_server() {
    local dir=$1 name=$2 want=$3 attempt port pid deadline arg
    shift 3
    local -a cli=() args=()
    while (($# > 0)) && [[ $1 != -- ]]; do
        cli+=("$1")
        shift
    done
    shift || true
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        port=$want
        if [[ $want == any ]]; then
            port=$(free_port)
        elif [[ $want == cluster ]]; then
            port=$(free_port cluster)
        fi
        args=()
        for arg in "$@"; do
            args+=("${arg//\{port\}/$port}")
        done
        redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --dir "$dir" \
            "${args[@]}" >"$dir/$name.log" 2>&1 </dev/null 3>&- &
        pid=$!
        remember_server "$dir" "$pid"
        deadline=$((SECONDS + 10))
        while is_running "$pid"; do
            if [[ $(redis-cli "${cli[@]}" -p "$port" INFO server 2>/dev/null) == *"process_id:$pid"$'\r'* ]]; then
                REDIS_SERVER_PORT=$port REDIS_SERVER_PID=$pid
                return 0
            fi
            if ((SECONDS > deadline)); then
                echo "redis-server $name on port $port did not answer within 10s; its log:" >&2
                cat "$dir/$name.log" >&2
                return 1
            fi
            sleep 0.02
        done
        wait "$pid" 2>/dev/null || true
        if ! grep -q 'Address already in use' "$dir/$name.log"; then
            echo "redis-server $name exited at start (port $port); its log:" >&2
            cat "$dir/$name.log" >&2
            return 1
        fi
        if [[ $want != any && $want != cluster ]]; then
            sleep 0.1
        fi
    done
    echo "redis-server $name: port $want stayed taken (10 attempts)" >&2
    return 1
}

# stop_redis_servers DIR: stops every server started in DIR, also a stopped (SIGSTOP) one;
# SIGKILL for one that has not gone 10 s after SIGTERM.
stop_redis_servers() {
    local list=$1/redis-servers.pid pid start deadline
    [[ -s $list ]] || return 0
    while read -r pid start; do
        # A server that has gone already (a test killed it, or it found its port taken) is
        # not signalled: its PID may be another process's now, another file's server.
        if same_process "$pid" "$start"; then
            kill -CONT "$pid" 2>/dev/null || true
            kill -TERM "$pid" 2>/dev/null || true
            deadline=$((SECONDS + 10))
            while same_process "$pid" "$start" && ((SECONDS <= deadline)); do
                sleep 0.02
            done
            if same_process "$pid" "$start"; then
                kill -KILL "$pid" 2>/dev/null || true
            fi
        fi
        wait "$pid" 2>/dev/null || true
    done <"$list"
    rm -f -- "$list"
}
