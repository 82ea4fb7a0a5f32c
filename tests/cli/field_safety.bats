#!/usr/bin/env bats
# Field safety (SPEC §1, §2, §4, §7): what a real user met when lockrun was tried as the
# README says. A dead guard leaves no run behind; a replay is never silent; a failing
# run's error reaches the callers that waited for it; --cache-ttl 0 only coalesces; a flag
# always wins; -v and status say which backend is used and why; list shows what is held.

load common
load cache_helpers
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

# group_is_empty PGID: no live process is left in process group PGID (a zombie that its
# new parent has not reaped yet is dead).
group_is_empty() {
    ! pgrep -r R,S,D,T,t -g "$1" >/dev/null
}

@test "kill -9 of lockrun: the command's whole group dies within a second, and no second run overlaps it" {
    spawn holder "$LOCKRUN" --no-cache --lease 2s --key guard:dies \
        -c 'echo $$ > sh.pid; sleep 30 & echo $! > sleep.pid; touch started; wait'
    wait_until 10 test -e started
    local pgid
    pgid=$(ps -o pgid= -p "$(<sh.pid)" | tr -d ' ')
    run pgrep -g "$pgid"
    assert_success
    # The second caller's command records whether any process of the first one's group
    # was still alive when it started.
    spawn second "$LOCKRUN" --no-cache --lease 2s --wait 20 --key guard:dies \
        -c "if pgrep -r R,S,D,T,t -g $pgid >/dev/null; then echo overlap; else echo clean; fi > second.saw"
    wait_until 10 grep -q . <(lockrun status guard:dies)
    kill -KILL "${SPAWNED[holder]}"
    if ! poll_until 1 group_is_empty "$pgid"; then
        fail "processes of the command's group still run a second after lockrun died: $(pgrep -a -r R,S,D,T,t -g "$pgid")"
    fi
    assert_exit second 0 20
    assert_equal "$(<second.saw)" clean
}

@test "kill -9 of a lockrun whose command ignores SIGTERM still ends the command" {
    spawn holder "$LOCKRUN" --no-cache --key guard:stubborn \
        -c 'trap "" TERM HUP INT; echo $$ > sh.pid; touch started; while :; do sleep 0.1; done'
    wait_until 10 test -e started
    local pid
    pid=$(<sh.pid)
    kill -KILL "${SPAWNED[holder]}"
    if ! poll_until 1 is_gone "$pid"; then
        fail "the command (pid $pid) outlived its lockrun by more than a second"
    fi
}

@test "a command that sends SIGUSR1 to its own group is not killed for it, and stays guarded" {
    # lockrun's watcher leads the command's group and waits for SIGUSR1, the signal that
    # the kernel sends it when lockrun dies; a `kill -USR1 0` in the command reaches it too.
    spawn holder "$LOCKRUN" --no-cache --key guard:usr1 \
        -c 'trap "" USR1; echo $$ > sh.pid; kill -USR1 0; sleep 0.3; touch survived; sleep 30'
    wait_until 10 test -e survived
    local pgid
    pgid=$(ps -o pgid= -p "$(<sh.pid)" | tr -d ' ')
    kill -KILL "${SPAWNED[holder]}"
    if ! poll_until 1 group_is_empty "$pgid"; then
        fail "the command's group outlived its lockrun by more than a second: $(pgrep -a -r R,S,D,T,t -g "$pgid")"
    fi
}

# leader_of PID: the name of the leader of PID's process group (its /proc comm).
leader_of() {
    cat "/proc/$(ps -o pgid= -p "$1" | tr -d ' ')/comm"
}

@test "the watcher is lockrun-watcher, a small program of its own that leads the command's group" {
    [[ -x $(dirname "$LOCKRUN")/lockrun-watcher ]] ||
        skip "lockrun-watcher is built for x86-64 and arm64 only; the forked watcher is tested below"
    run --separate-stderr lockrun --no-cache --key guard:program -c "$(declare -f leader_of); leader_of \$\$"
    assert_success
    assert_output lockrun-watcher
}

@test "a lockrun copied without lockrun-watcher still guards: its forked watcher kills the group" {
    mkdir bin
    cp "$LOCKRUN" bin/lockrun
    spawn holder bin/lockrun --no-cache --key guard:alone \
        -c "$(declare -f leader_of); echo \$\$ > sh.pid; leader_of \$\$ > leader; touch started; sleep 30"
    wait_until 10 test -e started
    assert_equal "$(<leader)" lockrun
    local pgid
    pgid=$(ps -o pgid= -p "$(<sh.pid)" | tr -d ' ')
    kill -KILL "${SPAWNED[holder]}"
    if ! poll_until 1 group_is_empty "$pgid"; then
        fail "the command's group outlived its lockrun by more than a second: $(pgrep -a -r R,S,D,T,t -g "$pgid")"
    fi
}

@test "lockrun-watcher run by hand does nothing: exit 64, and no process is killed" {
    local watcher
    watcher=$(dirname "$LOCKRUN")/lockrun-watcher
    [[ -x $watcher ]] || skip "lockrun-watcher is built for x86-64 and arm64 only"
    run "$watcher"
    assert_status 64
    run "$watcher" "$$"  # no parent-death signal: not started by lockrun
    assert_status 64
    run "$watcher" 12x
    assert_status 64
    run "$watcher" "$$" 1000  # with a lease's end to watch, the same
    assert_status 64
}

@test "a normal run reaps its watcher: no process of lockrun's is left, not even a zombie" {
    run --separate-stderr lockrun --no-cache --key guard:reaped -c 'ps -o pgid= -p $$'
    assert_status 0
    # The group's leader is the watcher; lockrun waited for it before it exited.
    [ ! -e "/proc/${output// /}" ] || fail "the watcher (pid ${output// /}) is still there: $(cat "/proc/${output// /}/stat")"
}

@test "a normal run leaves its daemonised leftovers alone and the lock free" {
    run --separate-stderr lockrun --no-cache --key guard:leftover \
        -c 'sleep 30 >/dev/null 2>&1 & echo $! > leftover.pid; echo done'
    assert_status 0
    assert_output done
    run is_running "$(<leftover.pid)"
    assert_success
    # The leftover holds no lock: the next caller runs at once.
    run --separate-stderr lockrun --no-cache --key guard:leftover -- echo again
    assert_status 0
    assert_output again
}

@test "a replay says so in one line on stderr, with host, fence, age, exit code and --refresh" {
    lockrun --key replay:line -c 'echo hello' >/dev/null
    run --separate-stderr lockrun --key replay:line -c 'echo hello'
    assert_status 0
    assert_output hello
    assert_equal "$(wc -l <<<"$stderr" | tr -d ' ')" 1
    assert_regex "$stderr" "^lockrun: replay:line: replayed the run of $(hostname) \(fence [0-9]+\), ended [0-9]+s ago, exit 0; --refresh runs it again$"
}

@test "-q hides the replay line" {
    lockrun --key replay:quiet -c 'echo hello' >/dev/null
    run --separate-stderr lockrun -q --key replay:quiet -c 'echo hello'
    assert_status 0
    assert_output hello
    assert_equal "stderr: '$stderr'" "stderr: ''"
}

@test "stderr is captured and replayed by default, in order with stdout" {
    # Two pipes have no common clock: the order kept is the order lockrun read them in,
    # which is the order written when the writes are apart in time.
    local cmd='echo run >> runs; echo one; sleep 0.2; echo two >&2; sleep 0.2; echo three'
    lockrun --key replay:stderr -c "$cmd" >/dev/null 2>first.err
    assert_equal "$(<first.err)" two
    lockrun -q --key replay:stderr -c "$cmd" >second.both 2>&1
    assert_runs 1
    assert_equal "$(<second.both)" "$(printf 'one\ntwo\nthree')"
}

@test "--no-cache-stderr passes stderr through and keeps it out of the replay" {
    lockrun --no-cache-stderr --key replay:nostderr -c 'echo out; echo err >&2' >/dev/null 2>first.err
    assert_equal "$(<first.err)" err
    run --separate-stderr lockrun -q --key replay:nostderr -c 'echo out; echo err >&2'
    assert_status 0
    assert_output out
    assert_equal "stderr: '$stderr'" "stderr: ''"
}

@test "a failing run's error message reaches the caller that waited for it" {
    spawn first "$LOCKRUN" --key fail:shared \
        -c "echo run >> runs; touch started; $(wait_for_go_cmd); echo partial; echo 'boom: disk full' >&2; exit 3"
    wait_until 10 test -e started
    spawn second "$LOCKRUN" -v --wait 30 --key fail:shared -c 'echo run >> runs; exit 0'
    wait_until 10 grep -q 'waiting for' second.err
    touch go
    assert_exit first 3 10
    assert_exit second 3 10
    assert_runs 1
    assert_equal "$(<second.out)" partial
    run grep -cx 'boom: disk full' second.err
    assert_output 1
    # It followed the run live (SPEC §1): one line says so, not a replay's.
    run grep -c 'followed the run of .* (fence [0-9]*) live to its end, exit 3' second.err
    assert_output 1
}

@test "--cache-ttl 0: a caller that waits shares the run, a later caller runs again" {
    local gated="echo run >> runs; touch started; $(wait_for_go_cmd); echo \"run \$(wc -l < runs)\""
    spawn first "$LOCKRUN" --cache-ttl 0 --key coalesce -c "$gated"
    wait_until 10 test -e started
    spawn second "$LOCKRUN" -v --cache-ttl 0 --wait 30 --key coalesce -c "$gated"
    wait_until 10 grep -q 'waiting for' second.err
    touch go
    assert_exit first 0 10
    assert_exit second 0 10
    assert_equal "$(<first.out)" "run 1"
    assert_equal "$(<second.out)" "run 1"
    run --separate-stderr lockrun --cache-ttl 0 --key coalesce -c "$gated"
    assert_status 0
    assert_output "run 2"
    run --separate-stderr lockrun status coalesce --json
    assert_equal "$(jq -c .cache <<<"$output")" null
}

@test "a --key flag wins over key-from-command from the environment" {
    LOCKRUN_KEY_FROM_COMMAND=1 run --separate-stderr lockrun --key explicit:key -c 'echo "$LOCKRUN_KEY"'
    assert_status 0
    assert_output explicit:key
}

@test "a --key flag wins over key-from-command from the config file" {
    printf 'key-from-command = true\n' >config.toml
    run --separate-stderr lockrun --config config.toml --key explicit:file -c 'echo "$LOCKRUN_KEY"'
    assert_status 0
    assert_output explicit:file
    # Without a flag, the file's setting applies.
    run --separate-stderr lockrun --config config.toml -c 'echo "$LOCKRUN_KEY"'
    assert_status 0
    assert_output --regexp '^cmd:[0-9a-f]{64}$'
}

@test "--key and --key-from-command as flags together are still a usage error" {
    run --separate-stderr lockrun --key-from-command --key both -- true
    assert_status 64
    assert_one_error_line
}

@test "-v says which backend a run uses and where that choice came from" {
    run --separate-stderr lockrun -v --key which:backend -- true
    assert_status 0
    if backend_is local; then
        assert_regex "$stderr" "which:backend: using the local backend in $LOCKRUN_STATE_DIR \(from LOCKRUN_BACKEND\)"
    else
        assert_regex "$stderr" "which:backend: using the Redis backend at redis://127\.0\.0\.1:$REDIS_PORT \(a Redis URL is set by LOCKRUN_REDIS_URL\)"
    fi
}

@test "-v names the default when no Redis URL is configured anywhere" {
    run --separate-stderr env -u LOCKRUN_REDIS_URL -u LOCKRUN_BACKEND "$LOCKRUN" -v \
        --state-dir "$BATS_TEST_TMPDIR/state" --key which:default -- true
    assert_status 0
    assert_regex "$stderr" "using the local backend in $BATS_TEST_TMPDIR/state \(the default: no Redis URL is configured"
}

@test "status shows the backend in use and its source" {
    run --separate-stderr lockrun status which:status
    assert_status 0
    assert_line --regexp '^backend: +the (local|Redis) backend .*\((from LOCKRUN_BACKEND|a Redis URL is set by LOCKRUN_REDIS_URL)\)$'
    run --separate-stderr lockrun status which:status --json
    assert_status 0
    if backend_is local; then
        assert_equal "$(jq -c .backend <<<"$output")" '{"name":"local","source":"LOCKRUN_BACKEND"}'
    else
        assert_equal "$(jq -c .backend <<<"$output")" '{"name":"redis","source":"LOCKRUN_REDIS_URL"}'
    fi
}

@test "list shows every key with a held lock or a stored result, and nothing else" {
    lockrun --key list:stored -- echo stored >/dev/null
    lockrun --no-cache --key list:lock-only -- true
    start_holder holder --key list:held
    run --separate-stderr lockrun list
    assert_status 0
    assert_equal "${#lines[@]}" 2
    assert_line --index 0 --regexp '^list:held: held by pid [0-9]+ on .*, fence [0-9]+; cache: none$'
    assert_line --index 1 --regexp '^list:stored: free; cache: exit 0, .*$'
    run --separate-stderr lockrun list --json
    assert_status 0
    assert_equal "$(jq -c '[.[] | [.key, .held, .name_known]]' <<<"$output")" \
        '[["list:held",true,true],["list:stored",false,true]]'
    release holder
    assert_exit holder 0 10
}

@test "list of an empty backend prints nothing on stdout and says so on stderr" {
    run --separate-stderr lockrun list
    assert_status 0
    assert_output ''
    assert_regex "$stderr" 'no key has a held lock or a stored result'
    run --separate-stderr lockrun list --json
    assert_output '[]'
}

@test "--help lists the variables the command sees" {
    run --separate-stderr lockrun --help
    assert_status 0
    assert_output --partial LOCKRUN_KEY
    assert_output --partial LOCKRUN_FENCING_TOKEN
    assert_output --partial LOCKRUN_LEASE_MS
    assert_output --partial --no-cache-stderr
}
