#!/usr/bin/env bats
# Redis Sentinel (SPEC §8): one master, one replica and three Sentinels on loopback, started
# once for the file. lockrun asks the Sentinels for the master of a redis+sentinel:// URL,
# checks with ROLE that it is one, and asks again on every reconnect and on READONLY: a
# failover during a wait or a run is survived, or the run ends 76, never a silent overlap.

LOCKRUN_TEST_BACKEND=redis
load ../common
load failover_helpers

# start_sentinel N MASTER_PORT [PASSWORD]: a Sentinel (they need a config file of their
# own) watching "mymaster"; exports SENTINEL_PORTS (space-separated).
start_sentinel() {
    local attempt rc
    for attempt in 1 2 3 4 5; do
        rc=0
        start_sentinel_once "$@" || rc=$?
        case $rc in
            0) return 0 ;;
            1) continue ;;
            *) return 1 ;;
        esac
    done
    return 1
}

# start_sentinel_once N MASTER_PORT [PASSWORD]: one try of start_sentinel, on a free port
# that may have been taken meanwhile (then it fails, and start_sentinel tries another).
start_sentinel_once() {
    local port conf=$BATS_FILE_TMPDIR/sentinel$1.conf pid deadline
    port=$(free_port)
    {
        echo "port $port"
        echo "bind 127.0.0.1"
        echo "dir $BATS_FILE_TMPDIR"
        echo "sentinel monitor mymaster 127.0.0.1 $2 2"
        echo "sentinel down-after-milliseconds mymaster 1000"
        echo "sentinel failover-timeout mymaster 4000"
        [[ -z ${3-} ]] || echo "requirepass $3"
    } >"$conf"
    redis-server "$conf" --sentinel >"$BATS_FILE_TMPDIR/sentinel$1.log" 2>&1 </dev/null 3>&- &
    pid=$!
    remember_server "$BATS_FILE_TMPDIR" "$pid"
    deadline=$((SECONDS + 10))
    until redis-cli -p "$port" ${3:+-a "$3" --no-auth-warning} SENTINEL masters 2>/dev/null | grep -q mymaster; do
        if ! is_running "$pid"; then
            grep -q 'Address already in use' "$BATS_FILE_TMPDIR/sentinel$1.log" && return 1
            cat "$BATS_FILE_TMPDIR/sentinel$1.log" >&2
            return 2
        fi
        ((SECONDS < deadline)) || { cat "$BATS_FILE_TMPDIR/sentinel$1.log" >&2; return 2; }
        sleep 0.05
    done
    SENTINEL_PORTS="${SENTINEL_PORTS:+$SENTINEL_PORTS }$port"
}

setup_file() {
    start_redis
    start_replica
    SENTINEL_PORTS=
    local i port deadline
    for i in 1 2 3; do start_sentinel "$i" "$REDIS_PORT"; done
    export SENTINEL_PORTS
    # A Sentinel learns of the replica (from the master's INFO) and of the other Sentinels
    # within seconds: a failover needs both.
    deadline=$((SECONDS + 30))
    for port in $SENTINEL_PORTS; do
        until [[ $(redis-cli -p "$port" SENTINEL replicas mymaster) == *"$REPLICA_PORT"* &&
                 $(redis-cli -p "$port" SENTINEL sentinels mymaster | grep -c '^name$') -ge 2 ]]; do
            ((SECONDS < deadline)) || { echo "Sentinel $port did not see the set-up" >&2; return 1; }
            sleep 0.2
        done
    done
    export SENTINEL_URL="redis+sentinel://$(for p in $SENTINEL_PORTS; do printf '127.0.0.1:%s,' "$p"; done | sed 's/,$//')/mymaster"
}
teardown_file() { stop_redis; }

# The master the Sentinels name now.
master_port() { redis-cli -p "${SENTINEL_PORTS%% *}" SENTINEL get-master-addr-by-name mymaster | tail -1; }
master_is_not() { [[ $(master_port) != "$1" ]]; }

# Not per_test_setup: after a failover the file's first server is a replica.
setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    redis-cli -p "$(master_port)" FLUSHALL >/dev/null
    export LOCKRUN_REDIS_URL=$SENTINEL_URL
}
teardown() {
    unset REDIS_PORT # per_test_teardown's CLIENT UNPAUSE: no server of this file is paused
    per_test_teardown
}

@test "the README's Sentinel recipe, run as written (its addresses replaced)" {
    local recipe ports=($SENTINEL_PORTS)
    recipe=$(readme_block "**Sentinel.** Name the Sentinels")
    [[ $recipe == *"redis+sentinel://10.0.0.1:26379,10.0.0.2:26379,10.0.0.3:26379/mymaster"* ]] ||
        fail "the README's recipe changed: $recipe"
    recipe=${recipe//10.0.0.1:26379/127.0.0.1:${ports[0]}}
    recipe=${recipe//10.0.0.2:26379/127.0.0.1:${ports[1]}}
    recipe=${recipe//10.0.0.3:26379/127.0.0.1:${ports[2]}}
    run_recipe "$recipe"
    assert_success
    assert_output "report made"
    assert_equal "$(redis-cli -p "$(master_port)" EXISTS 'lockrun:{report:2026-11-22}:out')" 1
}

@test "a run through the Sentinels lands on the master, and a second caller replays it" {
    run --separate-stderr lockrun -k sen:1 -- printf 'a\nb\n'
    assert_success
    assert_output $'a\nb'
    run redis-cli -p "$(master_port)" EXISTS "lockrun:{sen:1}:out"
    assert_output 1
    run --separate-stderr lockrun -k sen:1 -- echo never
    assert_output $'a\nb'
    run --separate-stderr lockrun status sen:1 --json
    assert_success
}

@test "--sentinel-password-file is read only for a Sentinel URL" {
    run --separate-stderr lockrun --redis "redis://127.0.0.1:$(master_port)" \
        --sentinel-password-file /nonexistent/password --no-cache -k sen:pw -- echo ran
    assert_success
    assert_output ran
}

@test "a master name no Sentinel knows is a configuration error that names it" {
    run --separate-stderr lockrun --redis "${SENTINEL_URL%/mymaster}/nosuchmaster" -k sen:2 -c 'touch ran'
    assert_status 78
    assert_one_error_line "nosuchmaster"
    [ ! -e ran ]
}

@test "no Sentinel answers: 69, naming them" {
    local a b
    a=$(free_port)
    b=$(free_port)
    run --separate-stderr lockrun --redis "redis+sentinel://127.0.0.1:$a,127.0.0.1:$b/mymaster" \
        --connect-timeout 300ms -k sen:3 -c 'touch ran'
    assert_status 69
    assert_one_error_line "127.0.0.1:$a"
    [ ! -e ran ]
}

@test "a dead Sentinel before a live one is skipped" {
    run --separate-stderr lockrun --redis "redis+sentinel://127.0.0.1:$(free_port),${SENTINEL_URL#redis+sentinel://}" \
        --no-cache -k sen:4 -- echo ran
    assert_success
    assert_output ran
}

@test "a Sentinel with a password of its own: --sentinel-password-file, and 78 without it" {
    local all=$SENTINEL_PORTS
    start_sentinel 4 "$(master_port)" s3ntinel-secret
    local guarded=${SENTINEL_PORTS##* }
    SENTINEL_PORTS=$all
    printf 's3ntinel-secret\n' >sentinel.password
    run --separate-stderr lockrun --redis "redis+sentinel://127.0.0.1:$guarded/mymaster" \
        --sentinel-password-file sentinel.password --no-cache -k sen:5 -- echo ran
    assert_success
    assert_output ran
    LOCKRUN_SENTINEL_PASSWORD=s3ntinel-secret run --separate-stderr \
        lockrun --redis "redis+sentinel://127.0.0.1:$guarded/mymaster" --no-cache -k sen:5 -- echo ran
    assert_success
    # The command does not inherit it.
    LOCKRUN_SENTINEL_PASSWORD=s3ntinel-secret run --separate-stderr \
        lockrun --redis "redis+sentinel://127.0.0.1:$guarded/mymaster" --no-cache -k sen:5 \
        -c 'echo "[${LOCKRUN_SENTINEL_PASSWORD-unset}]"'
    assert_output '[unset]'
    run --separate-stderr lockrun --redis "redis+sentinel://127.0.0.1:$guarded/mymaster" \
        --no-cache -k sen:5 -c 'touch ran'
    assert_status 78
    assert_one_error_line 'sentinel-password-file'
    # The Sentinel's settings, not the master's.
    [[ $stderr != *redis-password-file* ]] || fail "$stderr"
    [ ! -e ran ]
    LOCKRUN_SENTINEL_PASSWORD=wrong run --separate-stderr \
        lockrun --redis "redis+sentinel://127.0.0.1:$guarded/mymaster" --no-cache -k sen:5 -c 'touch ran'
    assert_status 78
    assert_one_error_line "^lockrun: Sentinel redis://:\*\*\*@127\.0\.0\.1:$guarded rejected the login: WRONGPASS.* \(check the user and the password: --sentinel-password-file or LOCKRUN_SENTINEL_PASSWORD, a Sentinel's own; the URL's is the master's\)$"
    [ ! -e ran ]
}

@test "doctor through the Sentinels: the master each names, how many agree, the replicas, then the master" {
    run --separate-stderr lockrun doctor
    assert_success
    assert_line --regexp "^ok  +master: +127.0.0.1:$(master_port), named by 3 of 3 Sentinels; 1 replicas$"
    assert_line --regexp '^ok  +sentinel 127.0.0.1:[0-9]+: +names 127.0.0.1:[0-9]+ as the master$'
    assert_line --regexp "^ok  +reachable: +redis://127.0.0.1:$(master_port)"
    run --separate-stderr lockrun --redis "${SENTINEL_URL%/mymaster}/nosuchmaster" doctor --json
    assert_status 69
    run jq -e '(.usable | not) and any(.findings[]; .check == "master" and .level == "fail")' <<<"$output"
    assert_success
}

# Turns the replica into the master: the last test of the file.
@test "a failover while one caller runs, another waits and a third keeps trying: never an overlap" {
    local old
    old=$(master_port)
    spawn holder "$LOCKRUN" --no-cache --lease 3s -k sen:fail -c "$HOLDER_COMMAND"
    wait_until 10 test -e started
    spawn waiter "$LOCKRUN" --no-cache -w 60 -k sen:fail -c "$WAITER_COMMAND"
    # A third caller that tries every 0.1 s without waiting: it must never get the key while
    # the holder's command runs, even when the old master goes on confirming renewals after
    # the Sentinels promoted the replica.
    spawn poller bash -c 'for i in $(seq 80); do
        "$LOCKRUN" --no-cache -w 0 -k sen:fail -c "date +%s%N >>third.runs" 2>/dev/null
        sleep 0.1
    done'
    sleep 1.2
    run redis-cli -p "${SENTINEL_PORTS%% *}" SENTINEL failover mymaster
    assert_output OK
    wait_until 20 master_is_not "$old"
    assert_failover_outcome
    wait_exit poller 30
    local start end run_at
    start=$(cat holder.start)
    end=$(cat holder.end)
    if [[ -e third.runs ]]; then
        while read -r run_at; do
            ((run_at < start || run_at > end)) ||
                fail "a third caller ran $(((run_at - start) / 1000000)) ms into the holder's run ($(((end - start) / 1000000)) ms)"
        done <third.runs
    fi
}

# Kills the master: the last test of the file.
@test "the master crashes while a caller waits: the waiter looks again while --wait lasts, and runs" {
    local old
    old=$(master_port)
    spawn holder "$LOCKRUN" --no-cache --lease 20s -k sen:crash -c 'touch started; sleep 60'
    wait_until 10 test -e started
    # Each of its steps is 0.6 s, far less than the Sentinels take to notice a crash (1 s
    # here, 30 s by default): it survives by looking again while its --wait lasts.
    spawn waiter "$LOCKRUN" --no-cache -w 60 --connect-timeout 300ms --io-timeout 300ms \
        -k sen:crash -- echo waited
    sleep 0.5
    kill -KILL "${SPAWNED[holder]}" # the holder's lease (20 s) keeps the key meanwhile
    kill -KILL "$(redis-cli -p "$old" INFO server | sed -n 's/^process_id:\([0-9]*\).*/\1/p')"
    wait_until 30 master_is_not "$old"
    assert_exit waiter 0 60
    run cat waiter.out
    assert_output waited
}
