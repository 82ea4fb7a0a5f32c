#!/usr/bin/env bats
# --min-replicas (SPEC §8): after acquiring and after storing, lockrun waits (Redis WAIT,
# within the step) until that many replicas have the write; fewer is exit 69, and never a
# reason to run unguarded. A master and one replica, started once for the file.

LOCKRUN_TEST_BACKEND=redis
load ../common

setup_file() {
    start_redis
    start_replica
}
teardown_file() {
    kill -CONT "$REPLICA_PID" 2>/dev/null || true
    stop_redis
}
setup() {
    per_test_setup
    kill -CONT "$REPLICA_PID" 2>/dev/null || true
}
teardown() {
    kill -CONT "$REPLICA_PID" 2>/dev/null || true
    per_test_teardown
}

@test "the README's replica recipe, run as written (its ports replaced): a new replica, then --min-replicas 1" {
    start_server recipe-master -- --repl-diskless-sync-delay 0
    local recipe replica_port
    recipe=$(readme_block "**Replicas.** \`--min-replicas N\` narrows")
    [[ $recipe == *"--port 6380 --replicaof 127.0.0.1 6379 &"* ]] || fail "the README's recipe changed: $recipe"
    local as_written=$recipe attempt
    # free_port only knows that nothing listened a moment ago: when another test took the
    # port first, the recipe's replica cannot bind, and the recipe runs again on another.
    for attempt in 1 2 3; do
        replica_port=$(free_port)
        recipe=${as_written//6380/$replica_port}
        recipe=${recipe//6379/$RECIPE_MASTER_PORT}
        RECIPE_TIMEOUT=60 LOCKRUN_REDIS_URL=redis://127.0.0.1:$RECIPE_MASTER_PORT \
            run_recipe "$recipe"
        redis-cli -p "$replica_port" SHUTDOWN NOSAVE >/dev/null 2>&1 || true
        grep -q "bind: Address already in use" recipe.out || break
    done
    # The recipe's replica logs to the same terminal as lockrun prints on.
    [[ $status == 0 ]] || fail "exit $status: $output $stderr"
    grep -qx "report made" recipe.out || fail "$output"
    [[ $(grep -c "report made" recipe.out) == 1 ]]
}

@test "--min-replicas 1 with the replica up: the run and its result go through" {
    run --separate-stderr lockrun --min-replicas 1 -k rep:1 -- echo stored
    assert_success
    assert_output stored
    run redis-cli -p "$REPLICA_PORT" EXISTS "lockrun:{rep:1}:out"
    assert_output 1
}

@test "--min-replicas 1 with the replica stopped: 69 before the command, and nothing held" {
    kill -STOP "$REPLICA_PID"
    run --separate-stderr lockrun --min-replicas 1 --io-timeout 600ms -k rep:2 -c 'touch ran'
    assert_status 69
    assert_one_error_line '0 of the 1 replicas'
    [[ $stderr == *"released it without running the command"* ]]
    [ ! -e ran ]
    assert_nothing_held
}

@test "--min-replicas with --on-backend-error run still refuses to run unguarded" {
    kill -STOP "$REPLICA_PID"
    run --separate-stderr lockrun --min-replicas 1 --io-timeout 600ms --on-backend-error run \
        -k rep:3 -c 'touch ran'
    assert_status 69
    [ ! -e ran ]
}

@test "--min-replicas 1 and the replica stops while the command runs: 69 after storing, and the lock is free" {
    run --separate-stderr lockrun --min-replicas 1 --io-timeout 600ms -k rep:4 \
        -c "kill -STOP $REPLICA_PID; echo out"
    assert_status 69
    assert_output out
    assert_one_error_line 'result of rep:4'
    [[ $stderr == *"a failover now may lose it"* ]]
    assert_nothing_held
}

@test "--min-replicas more than there are: 69, naming the count" {
    run --separate-stderr lockrun --min-replicas 2 --io-timeout 600ms -k rep:5 -c 'touch ran'
    assert_status 69
    assert_one_error_line '1 of the 2 replicas'
    [ ! -e ran ]
}

@test "--min-replicas on the local backend is refused: 64 from a flag, 78 from the environment" {
    run --separate-stderr lockrun --backend local --min-replicas 1 -k rep:6 -c 'touch ran'
    assert_status 64
    assert_one_error_line 'local backend'
    LOCKRUN_MIN_REPLICAS=1 run --separate-stderr lockrun --backend local -k rep:6 -c 'touch ran'
    assert_status 78
    assert_one_error_line 'LOCKRUN_MIN_REPLICAS'
    [ ! -e ran ]
}
