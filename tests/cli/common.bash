# Shared by every tests/cli/**/*.bats file: the lockrun binary, the backend under test, a
# private redis-server per .bats file (Redis mode), and helpers that wait on observable state
# with a deadline (CONVENTIONS, convention 6): no blind sleeps, generous timing windows, and a
# missing redis-server fails the run instead of skipping it.
#
# The backend under test is LOCKRUN_TEST_BACKEND: `redis` (the default) or `local`.
#   redis: start_redis starts a private redis-server and exports LOCKRUN_REDIS_URL, so lockrun
#          picks the Redis backend by its default rule; each test starts with FLUSHALL.
#   local: no redis-server; LOCKRUN_BACKEND=local, LOCKRUN_REDIS_URL unset, and each test gets
#          a fresh, empty 0700 LOCKRUN_STATE_DIR of its own.
# The files in tests/cli run against either; those in tests/cli/redis and tests/cli/local are
# about one backend and set LOCKRUN_TEST_BACKEND themselves before they load this file. The
# helpers below that look at locks (subscribers, wait_for_waiter, holder_of,
# assert_nothing_held, no_lock_keys, assert_backend_untouched) work with both.
#
# Every .bats file starts with (`load ../common` in a subdirectory):
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
# Run:  bats tests/cli tests/cli/redis                                (binary: build/lockrun)
#       LOCKRUN_TEST_BACKEND=local bats tests/cli tests/cli/local
#       LOCKRUN=/path/to/lockrun bats ...

bats_require_minimum_version 1.5.0
# bats-support and bats-assert. Their load.bash files run dirname once per source file, 15
# processes for every test; sourcing the files themselves saves a tenth of a second a
# test, which over every test of both backends is a good share of the suite's time.
if compgen -G '/usr/lib/bats/bats-support/src/*.bash' >/dev/null &&
    compgen -G '/usr/lib/bats/bats-assert/src/*.bash' >/dev/null; then
    for _bats_lib_file in /usr/lib/bats/bats-support/src/*.bash /usr/lib/bats/bats-assert/src/*.bash; do
        source "$_bats_lib_file"
    done
    unset _bats_lib_file
else
    load '/usr/lib/bats/bats-support/load'
    load '/usr/lib/bats/bats-assert/load'
fi

source "$(dirname "${BASH_SOURCE[0]}")/../redis_server.bash" # is_running, free_port too

# --- the binary ------------------------------------------------------------------------

LOCKRUN=${LOCKRUN:-$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/build/lockrun}
# Absolute, because every test changes into its own directory.
[[ $LOCKRUN == /* ]] || LOCKRUN=$PWD/$LOCKRUN
export LOCKRUN

# --- the backend under test ------------------------------------------------------------

export LOCKRUN_TEST_BACKEND=${LOCKRUN_TEST_BACKEND:-redis}
if [[ $LOCKRUN_TEST_BACKEND != redis && $LOCKRUN_TEST_BACKEND != local ]]; then
    echo "LOCKRUN_TEST_BACKEND must be redis or local, not '$LOCKRUN_TEST_BACKEND'" >&2
    return 1
fi

# backend_is NAME: the suite runs against backend NAME (redis or local).
backend_is() {
    [[ $LOCKRUN_TEST_BACKEND == "$1" ]]
}

# Hermetic: no LOCKRUN_* setting and no config file of the person running the suite may
# change what is tested (LOCKRUN_TEST_BACKEND is the suite's own, not lockrun's). The
# backend's settings are set again below, by start_redis and by per_test_setup.
while IFS= read -r _lockrun_var; do
    if [[ $_lockrun_var == LOCKRUN_* && $_lockrun_var != LOCKRUN_TEST_BACKEND ]]; then
        unset "$_lockrun_var"
    fi
done < <(compgen -e)
unset _lockrun_var
export XDG_CONFIG_HOME=${BATS_FILE_TMPDIR:-/nonexistent}/xdg-config
if backend_is local; then
    export LOCKRUN_BACKEND=local # LOCKRUN_STATE_DIR: per_test_setup
elif [[ -n ${REDIS_PORT:-} ]]; then
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

# now_ms: milliseconds since the epoch; from bash's own clock where it has one, because
# the polling loops below ask for it 50 times a second and `date` is a process each time.
now_ms() {
    if [[ -n ${EPOCHREALTIME:-} ]]; then
        local us=${EPOCHREALTIME/[.,]/}
        echo $((us / 1000))
    else
        date +%s%3N
    fi
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

# prints VALUE COMMAND...: COMMAND prints VALUE. For wait_until, which runs it again each
# time: in `wait_until 10 test "$(cmd)" = 1` the shell runs cmd once, before the wait, and
# the wait compares that first answer for ever.
prints() {
    [[ $("${@:2}") == "$1" ]]
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

# is_gone PID: the opposite of is_running (tests/redis_server.bash).
is_gone() {
    ! is_running "$1"
}

# sig_ignored PID SIGNUM: SIGNUM is ignored (SIG_IGN) in PID.
sig_ignored() {
    local status
    # Read whole, in one read(2): `while read` reads a file a line at a time, seeking back
    # after each, and the kernel makes /proc/PID/status afresh at every read, so a State
    # line that changed length in between ("R (running)", "S (sleeping)") shifted the lines
    # after it, and SigIgn was not found.
    status=$(<"/proc/$1/status") || return 1
    [[ $status =~ SigIgn:[[:space:]]*([0-9a-f]+) ]] || return 1
    (((0x${BASH_REMATCH[1]} >> ($2 - 1)) & 1))
}

declare -gA SPAWNED=() SPAWNED_START=()

# Set while a test runs (empty in setup_file), and so in the environment of every process
# the test starts and their children: what per_test_teardown asks of a PID from a *.pid file
# before it kills it (started_by_this_test).
export TEST_PROCESS_OWNER=${BATS_TEST_TMPDIR:-}

# started_by_this_test PID: process PID carries this test's TEST_PROCESS_OWNER. A PID alone
# is not enough: a command that wrote its PID and exited early leaves a number the kernel
# may give, seconds later under ctest -j, to another file's process (a server it started).
started_by_this_test() {
    [[ -n $TEST_PROCESS_OWNER ]] &&
        grep -qzxF "TEST_PROCESS_OWNER=$TEST_PROCESS_OWNER" "/proc/$1/environ" 2>/dev/null
}

# spawn NAME COMMAND...: starts COMMAND in the background, as a shell with job control
# would: in its own process group, with SIGINT and SIGQUIT at their defaults (a plain
# `cmd &` in a script ignores both, and lockrun rightly keeps them ignored). Its stdout
# and stderr go to NAME.out and NAME.err, stdin is /dev/null, fd 3 (bats) is closed.
# The PID is ${SPAWNED[NAME]}.
spawn() {
    local name=$1
    shift
    set -m
    # A signal ignored by whoever started the suite (nohup, a CI runner) would stay ignored
    # in lockrun, as it should: the tests start from the defaults.
    env --default-signal=HUP,INT,QUIT,TERM "$@" >"$name.out" 2>"$name.err" </dev/null 3>&- &
    SPAWNED[$name]=$!
    SPAWNED_START[$name]=$(process_start $!)
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

# wait_for_go_cmd [FILE]: a piece of a -c command that waits until FILE (./go) exists, at
# most 30 s, so that nothing outlives a failed test for long.
wait_for_go_cmd() {
    printf '%s' "i=0; while [ ! -e ${1:-go} ] && [ \$i -lt 600 ]; do sleep 0.05; i=\$((i + 1)); done"
}

# hold_cmd NAME: a -c command that records its pid in NAME.cmd.pid, writes its start
# time (ms) to NAME.started, runs until NAME.go exists (wait_for_go_cmd), then writes its
# end time to NAME.ended.
hold_cmd() {
    local n=$1
    printf '%s' "echo \$\$ > $n.cmd.pid; date +%s%3N > $n.started; $(wait_for_go_cmd "$n.go"); date +%s%3N > $n.ended"
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

# --- the test's redis-server -----------------------------------------------------------

rcli() {
    if [[ -z ${REDIS_PORT:-} ]]; then
        echo "rcli: no redis-server in this run (LOCKRUN_TEST_BACKEND=$LOCKRUN_TEST_BACKEND)" >&2
        return 1
    fi
    redis-cli -p "$REDIS_PORT" "$@"
}

# start_redis: for setup_file. Starts this file's redis-server (on a free loopback port and
# on $BATS_FILE_TMPDIR/redis.sock) and exports REDIS_PORT, REDIS_SOCK and LOCKRUN_REDIS_URL,
# so that tests need not pass --redis. Against the local backend there is no server to start.
start_redis() {
    if backend_is local; then
        return 0
    fi
    export REDIS_SOCK=$BATS_FILE_TMPDIR/redis.sock
    start_redis_server "$BATS_FILE_TMPDIR" redis any -- --unixsocket "$REDIS_SOCK" --unixsocketperm 700
    export REDIS_PORT=$REDIS_SERVER_PORT
    export LOCKRUN_REDIS_URL=redis://127.0.0.1:$REDIS_PORT
}

# start_server NAME [REDIS-CLI-ARG...] -- REDIS-SERVER-ARG...: one more server for this file
# (TLS, a password...), as start_redis_server says; exports NAME_PORT and NAME_PID (NAME
# upper-cased, - as _).
start_server() {
    local name=$1 var
    shift
    start_redis_server "$BATS_FILE_TMPDIR" "$name" any "$@"
    var=${name^^}
    var=${var//-/_}
    export "${var}_PORT=$REDIS_SERVER_PORT" "${var}_PID=$REDIS_SERVER_PID"
}

# start_replica: for setup_file, after start_redis. A replica of this file's server, synced;
# exports REPLICA_PORT and REPLICA_PID.
start_replica() {
    start_server replica -- --replicaof 127.0.0.1 "$REDIS_PORT"
    local deadline=$((SECONDS + 20))
    until [[ $(redis-cli -p "$REPLICA_PORT" INFO replication) == *master_link_status:up* ]]; do
        ((SECONDS < deadline)) || { echo "the replica did not sync" >&2; return 1; }
        sleep 0.1
    done
}

# stop_redis: for teardown_file. Stops the servers of start_redis and start_server.
stop_redis() {
    stop_redis_servers "$BATS_FILE_TMPDIR"
}

# per_test_setup: into the test's directory, and an empty backend: FLUSHALL, or (local) a
# fresh 0700 state dir, outside the test's directory so that the test sees only its files.
per_test_setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    ulimit -c 0 # the SIGQUIT tests must not leave core files
    if backend_is local; then
        export LOCKRUN_STATE_DIR=$BATS_FILE_TMPDIR/state.$BATS_TEST_NUMBER
        rm -rf -- "$LOCKRUN_STATE_DIR"
        mkdir -m 0700 -- "$LOCKRUN_STATE_DIR"
        return
    fi
    local reply
    reply=$(rcli FLUSHALL 2>&1) || true
    if [[ $reply != OK ]]; then
        fail "the test redis-server on port ${REDIS_PORT:-?} does not answer: $reply"
    fi
}

# per_test_teardown: kills whatever the test started that is still running: spawned
# lockruns (by PID and start time), and commands or grandchildren whose PID a test wrote to a
# *.pid file (by PID, if the process there is this test's).
per_test_teardown() {
    local name pid file
    # After a CLIENT PAUSE test; Redis 7.0 answers this only when the pause is over.
    if [[ -n ${REDIS_PORT:-} ]]; then
        rcli CLIENT UNPAUSE >/dev/null 2>&1 || true
    fi
    for file in "$BATS_TEST_TMPDIR"/*.pid; do
        [[ -e $file ]] || continue
        while read -r pid; do
            if is_running "$pid" && started_by_this_test "$pid"; then
                kill -KILL "$pid" 2>/dev/null || true
            fi
        done <"$file"
    done
    for name in "${!SPAWNED[@]}"; do
        pid=${SPAWNED[$name]}
        # Not by PID alone: one that exited during the test may be another's PID by now.
        if same_process "$pid" "${SPAWNED_START[$name]}"; then
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

# key_base KEY [PREFIX]: what every name of KEY starts with: PREFIX{TAG}:, and for a KEY with
# a brace PREFIX{SHA256}:h: (apart from the names of the KEY that is that hex string).
key_base() {
    if [[ $1 == *[{}]* ]]; then
        printf '%s{%s}:h:' "${2-lockrun:}" "$(key_tag "$1")"
    else
        printf '%s{%s}:' "${2-lockrun:}" "$1"
    fi
}

# lock_key KEY [PREFIX] / fence_key / out_key / release_channel
lock_key() { printf '%slock\n' "$(key_base "$@")"; }
fence_key() { printf '%sfence\n' "$(key_base "$@")"; }
out_key() { printf '%sout\n' "$(key_base "$@")"; }
release_channel() { printf '%sreleased\n' "$(key_base "$@")"; }

# --- local state (SPEC §6) -------------------------------------------------------------

# nul_joined_sha256 ARG...: hex SHA-256 of the arguments joined by NUL (no NUL at the end).
nul_joined_sha256() {
    local sum
    sum=$(printf '%s\0' "$@" | head -c -1 | sha256sum)
    echo "${sum%% *}"
}


# key_hash KEY: the hex SHA-256 of KEY, which names KEY's files in the state dir.
key_hash() {
    local sum
    sum=$(printf %s "$1" | sha256sum)
    echo "${sum%% *}"
}

# state_file KEY EXT [DIR]: the path of KEY's file DIR/<sha256(KEY)>.EXT (EXT: lock, fence,
# out, last); DIR is $LOCKRUN_STATE_DIR unless given.
state_file() {
    printf '%s/%s.%s\n' "${3:-$LOCKRUN_STATE_DIR}" "$(key_hash "$1")" "$2"
}

# flock_id FILE: FILE as /proc/locks names it: hex major:minor of its device, and its inode.
flock_id() {
    local dev ino
    read -r dev ino < <(stat -c '%d %i' -- "$1") || return 1
    printf '%02x:%02x:%s\n' $(((dev >> 8) & 0xfff)) $(((dev & 0xff) | ((dev >> 12) & 0xfff00))) "$ino"
}

# flocked_files [DIR]: the files in DIR ($LOCKRUN_STATE_DIR) on which some process holds a
# flock(2), one a line. Reads /proc/locks: looking takes no lock, so it cannot make a
# lockrun under test fail to acquire one.
flocked_files() {
    local dir=${1:-$LOCKRUN_STATE_DIR} file id num kind rest
    local -A held=() locks
    # Read whole first (see sig_ignored): the list changes while it is read.
    locks=$(</proc/locks)
    while read -r num kind _ _ _ id rest; do
        if [[ $kind == FLOCK ]]; then # a blocked request reads "N: -> FLOCK ..."
            held[$id]=1
        fi
    done <<<"$locks"
    for file in "$dir"/*; do
        [[ -f $file && ! -L $file ]] || continue
        id=$(flock_id "$file") || continue
        if [[ -n ${held[$id]:-} ]]; then
            echo "$file"
        fi
    done
}

# watches_lock PID KEY: process PID watches KEY's lock file with inotify (how a local waiter
# waits for the release: /proc/PID/fdinfo/N reads "inotify wd:W ino:HEX ...").
watches_lock() {
    local ino
    ino=$(stat -c %i -- "$(state_file "$2" lock)" 2>/dev/null) || return 1
    grep -qsE "^inotify wd:[0-9]+ ino:$(printf %x "$ino") " "/proc/$1/fdinfo/"*
}

# lock_watchers KEY: how many inotify watches (of any process) are on KEY's lock file.
lock_watchers() {
    local ino
    if ! ino=$(stat -c %i -- "$(state_file "$1" lock)" 2>/dev/null); then
        echo 0
        return
    fi
    grep -lsE "^inotify wd:[0-9]+ ino:$(printf %x "$ino") " /proc/[0-9]*/fdinfo/* | wc -l
}

# --- waiters, holders and what is held (both backends) ---------------------------------

# subscribers KEY: how many callers wait for KEY's release: connections that listen on its
# release channel (Redis), or inotify watches on its lock file (local).
subscribers() {
    if backend_is local; then
        lock_watchers "$1"
        return
    fi
    local reply
    reply=$(rcli PUBSUB NUMSUB "$(release_channel "$1")")
    echo "${reply##*$'\n'}"
}

subscribers_above() {
    (($(subscribers "$1") > $2))
}

# live_followers KEY (Redis): how many callers follow KEY's run live: the consumer groups of
# its live stream, one a follower. A follower listens for no release (it reads the run's
# end in the stream), so `subscribers` does not count it.
live_followers() {
    rcli XINFO GROUPS "$(key_base "$1")live" 2>/dev/null | grep -c '^follower:' || true
}

# waiting_above KEY N (Redis): more than N callers wait for KEY's run, subscribed to its
# release or following it live.
waiting_above() {
    (($(subscribers "$1") + $(live_followers "$1") > $2))
}

subscribers_at_most() {
    (($(subscribers "$1") <= $2))
}

# wait_for_waiter KEY BASELINE [NAME...]: waits until the spawned lockruns NAME... (or, without
# NAMEs, one more caller) wait for KEY's release; BASELINE is `subscribers KEY` from before
# they were spawned. Redis: KEY's release channel has BASELINE + one subscriber per NAME
# (SPEC §5: waiters subscribe before they wait). Local: each NAME's process watches KEY's
# lock file with inotify (without NAMEs: BASELINE + 1 watches).
wait_for_waiter() {
    local key=$1 base=$2 name pid
    shift 2
    if backend_is local && (($# > 0)); then
        for name in "$@"; do
            pid=${SPAWNED[$name]:?no process spawned as $name}
            wait_until 10 watches_lock "$pid" "$key"
        done
        return
    fi
    wait_until 10 subscribers_above "$key" $((base + ($# > 1 ? $# - 1 : 0)))
}

# status_summary JSON: "held pid=PID fence=FENCE" or "free", from the output of
# `lockrun status KEY --json` (SPEC §7); empty when JSON is neither.
status_summary() {
    local json=$1 pid fence
    if [[ $json =~ [{,]\"held\":false[,}] ]]; then
        echo free
    elif [[ $json =~ [{,]\"held\":true[,}] ]]; then
        if [[ $json =~ [{,]\"pid\":([0-9]+)[,}] ]]; then
            pid=${BASH_REMATCH[1]}
        fi
        if [[ $json =~ [{,]\"fence\":([0-9]+)[,}] ]]; then
            fence=${BASH_REMATCH[1]}
        fi
        echo "held pid=${pid:-?} fence=${fence:-?}"
    fi
}

# holder_of KEY: "held pid=PID fence=FENCE" (PID: the holding lockrun) or "free", as
# `lockrun status KEY --json` says. Equal before and after means: the holder is untouched.
holder_of() {
    local json code=0 summary
    json=$(lockrun status "$1" --json 2>&1) || code=$?
    summary=$(status_summary "$json")
    if ((code != 0)) || [[ -z $summary ]]; then
        fail "lockrun status $1 --json exited $code: $json"
    fi
    echo "$summary"
}

# force_release KEY: `lockrun release KEY --force` succeeds (SPEC §7).
force_release() {
    local out code=0
    out=$(lockrun release "$1" --force 2>&1) || code=$?
    if ((code != 0)); then
        fail "lockrun release $1 --force exited $code: $out"
    fi
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

# held_locks [-n DB]: the locks still held, one a line: Redis lock keys (in db 0, or DB);
# local: files in the state dir that are flock()ed, and lock files that still name a holder
# (a release empties the file before it unlocks it; a holder that died did not).
held_locks() {
    if backend_is redis; then
        rcli "$@" --scan --pattern '*:lock'
        return
    fi
    local file
    flocked_files
    for file in "$LOCKRUN_STATE_DIR"/*.lock; do
        if [[ -s $file && ! -L $file ]]; then
            echo "$file names a holder"
        fi
    done
}

# assert_nothing_held [-n DB]: no lock is held, and none was left behind (held_locks).
assert_nothing_held() {
    local held
    held=$(held_locks "$@")
    if [[ -n $held ]]; then
        fail "locks still held: $held"
    fi
}

# no_lock_keys [-n DB]: the quiet form of assert_nothing_held, for wait_until.
no_lock_keys() {
    [[ -z $(held_locks "$@") ]]
}

# assert_backend_untouched: lockrun wrote nothing: Redis is empty, or (local) the state dir
# the test began with is.
assert_backend_untouched() {
    if backend_is local; then
        local entries
        entries=$(ls -A -- "$LOCKRUN_STATE_DIR")
        if [[ -n $entries ]]; then
            fail "the state dir is not empty: $entries"
        fi
    else
        assert_equal "DBSIZE $(rcli DBSIZE)" 'DBSIZE 0'
    fi
}

# assert_rejected CODE REGEX ARGS...: `lockrun ARGS` exits CODE with one stderr line
# matching REGEX, prints nothing on stdout, does not run the command (which would create
# ./ran), and leaves the backend untouched.
assert_rejected() {
    local code=$1 regex=$2
    shift 2
    run --separate-stderr lockrun "$@"
    assert_status "$code"
    assert_output ''
    assert_one_error_line "$regex"
    assert [ ! -e ran ]
    assert_backend_untouched
}

# --- the README's recipes, run as written -----------------------------------------------

# readme_block TEXT: the first fenced code block after the first line of README.md that
# contains TEXT (a fixed string), without its fences.
readme_block() {
    awk -v text="$1" '
        !found && index($0, text) { found = 1; next }
        found && /^```/ { if (inside) exit; inside = 1; next }
        inside { print }' "${BASH_SOURCE[0]%/*}/../../README.md"
}

# run_recipe SCRIPT: runs SCRIPT (a README block, its addresses replaced) with bash -e in the
# test's directory, `lockrun` on PATH being the one under test and ./make-report a job that
# prints "report made"; sets status, output and stderr as `run --separate-stderr` does. Its
# output goes through files, not pipes: a server the recipe starts with & keeps them open.
run_recipe() {
    mkdir -p recipe-bin
    ln -sf "$LOCKRUN" recipe-bin/lockrun
    printf '#!/bin/sh\necho "report made"\n' >make-report
    chmod +x make-report
    printf '%s\n' "$1" >recipe.sh
    status=0
    # Bounded: a recipe that waits for something that never comes (a server that could
    # not start) fails its test instead of hanging the suite.
    PATH=$PWD/recipe-bin:$PATH timeout -k 5 "${RECIPE_TIMEOUT:-120}" bash -e recipe.sh \
        >recipe.out 2>recipe.err </dev/null 3>&- || status=$?
    output=$(cat recipe.out)
    stderr=$(cat recipe.err)
}
