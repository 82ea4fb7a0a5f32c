# Shared by every tests/cli/*.bats file: the lockrun binary, a private redis-server per
# .bats file, and helpers that wait on observable state with a deadline (CONVENTIONS,
# convention 6): no blind sleeps, generous timing windows, and a missing redis-server
# fails the run instead of skipping it.
#
# Every .bats file starts with:
#
#   load common
#   setup_file()    { start_redis; }
#   teardown_file() { stop_redis; }
#   setup()         { per_test_setup; }
#   teardown()      { per_test_teardown; }
#
# Each test runs in its own empty directory ($BATS_TEST_TMPDIR, the working directory),
# so the commands under test use relative file names for their markers.
#
# Run:  bats tests/cli                       (binary: build/lockrun)
#       LOCKRUN=/path/to/lockrun bats tests/cli

bats_require_minimum_version 1.5.0
load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

# --- the binary ------------------------------------------------------------------------

LOCKRUN=${LOCKRUN:-$BATS_TEST_DIRNAME/../../build/lockrun}
# Absolute, because every test changes into its own directory.
[[ $LOCKRUN == /* ]] || LOCKRUN=$PWD/$LOCKRUN
export LOCKRUN

# Hermetic: no LOCKRUN_* setting and no config file of the person running the suite may
# change what is tested. LOCKRUN_REDIS_URL is set again below (and by start_redis).
while IFS= read -r _lockrun_var; do
    if [[ $_lockrun_var == LOCKRUN_* ]]; then
        unset "$_lockrun_var"
    fi
done < <(compgen -e)
unset _lockrun_var
export XDG_CONFIG_HOME=${BATS_FILE_TMPDIR:-/nonexistent}/xdg-config
if [[ -n ${REDIS_PORT:-} ]]; then
    export LOCKRUN_REDIS_URL=redis://127.0.0.1:$REDIS_PORT
fi

# lockrun ARGS...: the binary under test, with a deadline so that a hung lockrun fails
# its test instead of the whole suite (exit 124 then). --foreground keeps lockrun in
# our process group and leaves its signal handling alone. LR_TIMEOUT (seconds) tunes it.
lockrun() {
    timeout --foreground -k 5 "${LR_TIMEOUT:-30}" "$LOCKRUN" "$@"
}
export -f lockrun

# --- time and waiting ------------------------------------------------------------------

now_ms() {
    date +%s%3N
}

# seconds_to_ms 2.5 -> 2500
seconds_to_ms() {
    local s=$1 int frac
    if [[ $s == *.* ]]; then
        int=${s%%.*}
        frac=${s#*.}000
        echo $((10#${int:-0} * 1000 + 10#${frac:0:3}))
    else
        echo $((10#$s * 1000))
    fi
}

# poll_until TIMEOUT_S COMMAND...: runs COMMAND every 20 ms until it succeeds (0) or the
# deadline passes (1). Quiet; for helpers that handle the timeout themselves.
poll_until() {
    local deadline
    deadline=$(($(now_ms) + $(seconds_to_ms "$1")))
    shift
    while :; do
        if "$@"; then
            return 0
        fi
        if (($(now_ms) >= deadline)); then
            return 1
        fi
        sleep 0.02
    done
}

# wait_until TIMEOUT_S COMMAND...: waits until COMMAND succeeds; fails the test with a
# message when it has not within TIMEOUT_S seconds.
wait_until() {
    local timeout_s=$1
    shift
    if ! poll_until "$timeout_s" "$@"; then
        fail "timed out after ${timeout_s}s waiting for: $*"
    fi
}

# sleep_until_ms EPOCH_MS: for waits on the clock itself (a lease running out), never on
# state.
sleep_until_ms() {
    local left=$(($1 - $(now_ms)))
    if ((left > 0)); then
        sleep "$((left / 1000)).$(printf '%03d' $((left % 1000)))"
    fi
}

# assert_between WHAT VALUE LOW HIGH: LOW <= VALUE <= HIGH (integers).
assert_between() {
    local what=$1 value=$2 low=$3 high=$4
    if ! [[ $value =~ ^-?[0-9]+$ ]]; then
        fail "$what: '$value' is not a number"
    fi
    if ((value < low || value > high)); then
        fail "$what = $value, expected between $low and $high"
    fi
}

# --- processes -------------------------------------------------------------------------

# is_running PID: the process exists and is not a zombie (an orphan that nobody reaps
# counts as gone).
is_running() {
    local stat
    [[ $1 =~ ^[0-9]+$ ]] || return 1
    { read -r stat <"/proc/$1/stat"; } 2>/dev/null || return 1
    stat=${stat##*) }
    [[ ${stat%% *} != Z ]]
}

is_gone() {
    ! is_running "$1"
}

# sig_ignored PID SIGNUM: SIGNUM is ignored (SIG_IGN) in PID.
sig_ignored() {
    local line mask
    while read -r line; do
        if [[ $line == SigIgn:* ]]; then
            mask=${line#SigIgn:}
            mask=${mask//[[:space:]]/}
            (((0x$mask >> ($2 - 1)) & 1))
            return
        fi
    done <"/proc/$1/status"
    return 1
}

declare -gA SPAWNED=()

# spawn NAME COMMAND...: starts COMMAND in the background, as a shell with job control
# would: in its own process group, with SIGINT and SIGQUIT at their defaults (a plain
# `cmd &` in a script ignores both, and lockrun rightly keeps them ignored). Its stdout
# and stderr go to NAME.out and NAME.err, stdin is /dev/null, fd 3 (bats) is closed.
# The PID is ${SPAWNED[NAME]}.
spawn() {
    local name=$1
    shift
    set -m
    "$@" >"$name.out" 2>"$name.err" </dev/null 3>&- &
    SPAWNED[$name]=$!
    set +m
}

# wait_exit NAME TIMEOUT_S: waits for the spawned NAME to exit and sets EXIT_STATUS;
# kills it and fails the test when it is still running after TIMEOUT_S.
wait_exit() {
    local name=$1 pid=${SPAWNED[$1]:?no process spawned as $1}
    if ! poll_until "$2" is_gone "$pid"; then
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        fail "$name (pid $pid) still running after ${2}s; stderr: $(cat "$name.err")"
    fi
    EXIT_STATUS=0
    wait "$pid" || EXIT_STATUS=$?
}

# assert_exit NAME CODE TIMEOUT_S: NAME exits with CODE within TIMEOUT_S.
assert_exit() {
    wait_exit "$1" "$3"
    if [[ $EXIT_STATUS != "$2" ]]; then
        fail "$1 exited $EXIT_STATUS, expected $2; stderr: $(cat "$1.err")"
    fi
}

# hold_cmd NAME: a -c command that records its pid in NAME.cmd.pid, writes its start
# time (ms) to NAME.started, runs until NAME.go exists (at most 30 s, so that nothing
# outlives a failed test for long), then writes its end time to NAME.ended.
hold_cmd() {
    local n=$1
    printf '%s' "echo \$\$ > $n.cmd.pid; date +%s%3N > $n.started; i=0; while [ ! -e $n.go ] && [ \$i -lt 600 ]; do sleep 0.05; i=\$((i + 1)); done; date +%s%3N > $n.ended"
}

# start_holder NAME LOCKRUN-OPTIONS...: spawns `lockrun --no-cache OPTIONS -c HOLD` (see
# hold_cmd) and waits until its command runs, that is, until it holds the lock.
start_holder() {
    local name=$1
    shift
    spawn "$name" "$LOCKRUN" --no-cache "$@" -c "$(hold_cmd "$name")"
    wait_until 10 test -s "$name.started"
}

# release NAME: lets NAME's hold_cmd command finish.
release() {
    touch "$1.go"
}

# free_port: a loopback TCP port that nothing listens on right now.
free_port() {
    local port
    while :; do
        port=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
        if ! (exec 9<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            echo "$port"
            return
        fi
    done
}

# --- the test's redis-server -----------------------------------------------------------

rcli() {
    redis-cli -p "$REDIS_PORT" "$@"
}

# start_redis: for setup_file. Starts a private redis-server on a random free loopback
# port and on $BATS_FILE_TMPDIR/redis.sock, and exports REDIS_PORT, REDIS_SOCK and
# LOCKRUN_REDIS_URL so that tests need not pass --redis.
start_redis() {
    local dir=$BATS_FILE_TMPDIR attempt port pid deadline
    if ! command -v redis-server >/dev/null || ! command -v redis-cli >/dev/null; then
        echo "redis-server and redis-cli are required (apt-get install redis-server)" >&2
        return 1
    fi
    for attempt in 1 2 3 4 5 6 7 8 9 10; do
        port=$(free_port)
        redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
            --unixsocket "$dir/redis.sock" --unixsocketperm 700 --dir "$dir" \
            >"$dir/redis.log" 2>&1 </dev/null 3>&- &
        pid=$!
        deadline=$(($(now_ms) + 10000))
        while is_running "$pid"; do
            # The PONG must come from our server, not from one that owns the port.
            if [[ $(redis-cli -p "$port" ping 2>/dev/null) == PONG ]] &&
                [[ $(redis-cli -p "$port" INFO server 2>/dev/null) == *"process_id:$pid"$'\r'* ]]; then
                echo "$pid" >"$dir/redis.pid"
                export REDIS_PORT=$port REDIS_SOCK=$dir/redis.sock
                export LOCKRUN_REDIS_URL=redis://127.0.0.1:$port
                return 0
            fi
            if (($(now_ms) > deadline)); then
                kill -KILL "$pid" 2>/dev/null || true
                wait "$pid" 2>/dev/null || true
                echo "redis-server on port $port did not answer within 10s; its log:" >&2
                cat "$dir/redis.log" >&2
                return 1
            fi
            sleep 0.02
        done
        wait "$pid" 2>/dev/null || true
        if ! grep -q 'Address already in use' "$dir/redis.log"; then
            echo "redis-server exited at start (attempt $attempt, port $port); its log:" >&2
            cat "$dir/redis.log" >&2
            return 1
        fi
    done
    echo "redis-server: no free port found in 10 attempts" >&2
    return 1
}

# stop_redis: for teardown_file. Stops the server started by start_redis, by its PID.
stop_redis() {
    local pid_file=$BATS_FILE_TMPDIR/redis.pid pid
    [[ -s $pid_file ]] || return 0
    pid=$(<"$pid_file")
    kill -TERM "$pid" 2>/dev/null || true
    if ! poll_until 10 is_gone "$pid"; then
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
    rm -f "$pid_file"
}

per_test_setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    ulimit -c 0 # the SIGQUIT tests must not leave core files
    local reply
    reply=$(rcli FLUSHALL 2>&1) || true
    if [[ $reply != OK ]]; then
        fail "the test redis-server on port ${REDIS_PORT:-?} does not answer: $reply"
    fi
}

# per_test_teardown: kills (by PID) whatever the test started that is still running:
# spawned lockruns, and commands or grandchildren whose PID a test wrote to a *.pid file.
per_test_teardown() {
    local name pid file
    # After a CLIENT PAUSE test; Redis 7.0 answers this only when the pause is over.
    rcli CLIENT UNPAUSE >/dev/null 2>&1 || true
    for file in "$BATS_TEST_TMPDIR"/*.pid; do
        [[ -e $file ]] || continue
        while read -r pid; do
            if is_running "$pid"; then
                kill -KILL "$pid" 2>/dev/null || true
            fi
        done <"$file"
    done
    for name in "${!SPAWNED[@]}"; do
        pid=${SPAWNED[$name]}
        if is_running "$pid"; then
            kill -KILL "$pid" 2>/dev/null || true
        fi
        wait "$pid" 2>/dev/null || true
    done
}

# --- Redis names (SPEC §5) -------------------------------------------------------------

# key_tag KEY: the hash tag of KEY: KEY itself, or its hex SHA-256 if it has { or }.
key_tag() {
    if [[ $1 == *[{}]* ]]; then
        local sum
        sum=$(printf %s "$1" | sha256sum)
        echo "${sum%% *}"
    else
        printf '%s\n' "$1"
    fi
}

# lock_key KEY [PREFIX] / fence_key / out_key / release_channel
lock_key() { printf '%s{%s}:lock\n' "${2-lockrun:}" "$(key_tag "$1")"; }
fence_key() { printf '%s{%s}:fence\n' "${2-lockrun:}" "$(key_tag "$1")"; }
out_key() { printf '%s{%s}:out\n' "${2-lockrun:}" "$(key_tag "$1")"; }
release_channel() { printf '%s{%s}:released\n' "${2-lockrun:}" "$(key_tag "$1")"; }

# subscribers KEY: how many connections listen on KEY's release channel.
subscribers() {
    local reply
    reply=$(rcli PUBSUB NUMSUB "$(release_channel "$1")")
    echo "${reply##*$'\n'}"
}

subscribers_above() {
    (($(subscribers "$1") > $2))
}

subscribers_at_most() {
    (($(subscribers "$1") <= $2))
}

# wait_for_waiter KEY BASELINE: a waiter on KEY has subscribed to its release channel
# (SPEC §5: waiters subscribe before they wait), so it is now waiting.
wait_for_waiter() {
    wait_until 10 subscribers_above "$1" "$2"
}

# --- assertions ------------------------------------------------------------------------

# assert_status CODE: $status (from run) is CODE; shows stdout and stderr when not.
assert_status() {
    if [[ $status != "$1" ]]; then
        fail "exit status $status, expected $1
stdout: $output
stderr: ${stderr-}"
    fi
}

# assert_one_error_line [REGEX]: $stderr (from run --separate-stderr, or load_stderr) is
# exactly one line that starts with "lockrun: " and matches the case-insensitive
# extended REGEX (a key word or two, not a sentence).
assert_one_error_line() {
    if [[ -z ${stderr-} ]]; then
        fail "expected one 'lockrun:' line on stderr, got nothing"
    fi
    if [[ $stderr == *$'\n'* ]]; then
        fail "expected one line on stderr, got:
$stderr"
    fi
    if [[ $stderr != 'lockrun: '* ]]; then
        fail "stderr does not start with 'lockrun: ': $stderr"
    fi
    if (($# > 0)); then
        local matched=0
        shopt -s nocasematch
        if [[ $stderr =~ $1 ]]; then
            matched=1
        fi
        shopt -u nocasematch
        if ((!matched)); then
            fail "stderr does not match /$1/: $stderr"
        fi
    fi
}

# load_stderr NAME: $stderr and $stderr_lines from a spawned NAME's stderr file.
load_stderr() {
    stderr=$(<"$1.err")
    mapfile -t stderr_lines <"$1.err"
}

# assert_nothing_held [-n DB]: no lock key exists (in db 0, or DB).
assert_nothing_held() {
    local held
    held=$(rcli "$@" --scan --pattern '*:lock')
    if [[ -n $held ]]; then
        fail "lock keys still held: $held"
    fi
}

# no_lock_keys [-n DB]: the quiet form of assert_nothing_held, for wait_until.
no_lock_keys() {
    [[ -z $(rcli "$@" --scan --pattern '*:lock') ]]
}
