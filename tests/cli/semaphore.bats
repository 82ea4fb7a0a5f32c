#!/usr/bin/env bats
# -n N / --max-holders N (SPEC §9): up to N runs of a key at once, each with its own lease
# and fencing token; lock only; callers that disagree on N get 64.

load common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

# most_at_once LOG: the largest number of intervals of LOG ("NS start|end" lines) that
# overlap at one instant; an end and a start at the same nanosecond do not overlap.
most_at_once() {
    sort -k1,1n -k2,2 "$1" | awk '$2 == "end" { n-- } $2 == "start" { n++; if (n > most) most = n } END { print most + 0 }'
}

# interval_cmd: a -c command that logs its start (with its fencing token) and end to ./log.
interval_cmd() {
    printf '%s' "echo \"\$(date +%s%N) start \$LOCKRUN_FENCING_TOKEN\" >> log; sleep ${1:-0.3}; echo \"\$(date +%s%N) end\" >> log"
}

@test "30 callers with -n 3: never more than 3 at once, 3 at once at some point, every fence distinct" {
    local i
    for i in $(seq 1 30); do
        spawn "c$i" "$LOCKRUN" -n 3 --wait 60 --key sem:thirty -c "$(interval_cmd)"
    done
    for i in $(seq 1 30); do
        assert_exit "c$i" 0 90
    done
    assert_equal "starts: $(grep -c start log)" "starts: 30"
    assert_equal "most at once: $(most_at_once log)" "most at once: 3"
    assert_equal "distinct fences: $(awk '$2 == "start" { print $3 }' log | sort -u | wc -l)" "distinct fences: 30"
    assert_nothing_held
    assert_backend_untouched_but_fence
}

# assert_backend_untouched_but_fence: a semaphore stores nothing: no result, no outcome.
assert_backend_untouched_but_fence() {
    if backend_is local; then
        [[ -z $(find "$LOCKRUN_STATE_DIR" -name '*.out' -o -name '*.last') ]] || fail "a result was stored"
    else
        assert_equal "stored: $(rcli --scan --pattern '*:out' ; rcli --scan --pattern '*:last')" "stored: "
    fi
}

@test "fencing tokens increase in the order the slots are taken" {
    local i previous=0 fence
    for i in 1 2 3 4 5 6; do
        fence=$(lockrun -n 2 --key sem:order -c 'echo $LOCKRUN_FENCING_TOKEN')
        ((fence > previous)) || fail "fence $fence after $previous"
        previous=$fence
    done
    start_holder one -n 2 --key sem:order2
    start_holder two -n 2 --key sem:order2
    run lockrun status sem:order2 --json
    local fences
    fences=$(jq -r '.holders[].fence' <<<"$output" | sort -u)
    assert_equal "distinct fences: $(wc -l <<<"$fences")" "distinct fences: 2"
    # In the order the slots were taken.
    assert_equal "$(jq -r '[.holders[] | select(.pid == '"${SPAWNED[one]}"') | .fence][0] < ([.holders[] | select(.pid == '"${SPAWNED[two]}"') | .fence][0])' <<<"$output")" true
    release one
    release two
    assert_exit one 0 10
    assert_exit two 0 10
}

@test "status lists every holder; list counts them; release --force frees them all and wakes the waiters" {
    start_holder h1 -n 3 --key sem:status
    start_holder h2 -n 3 --key sem:status
    start_holder h3 -n 3 --key sem:status
    spawn waiter "$LOCKRUN" -v -n 3 --wait 30 --key sem:status -c 'echo waited'
    wait_until 10 grep -q 'waiting for sem:status' waiter.err
    run lockrun status sem:status
    assert_success
    assert_line 'state:      held by 3 of 3 (-n 3)'
    assert_equal "$(grep -c '^holder:' <<<"$output")" 3
    run lockrun status sem:status --json
    assert_equal "$(jq -c '[.max_holders, (.holders | length), .held]' <<<"$output")" '[3,3,true]'
    run lockrun list
    assert_output --partial 'sem:status: held by 3 of 3 (-n 3)'
    run lockrun release sem:status --force
    assert_success
    assert_output 'released sem:status (all 3 of its holders)'
    # The waiter takes a slot at once; the holders find their slots gone and stop.
    assert_exit waiter 0 10
    assert_equal "$(cat waiter.out)" waited
    assert_exit h1 76 30
    assert_exit h2 76 30
    assert_exit h3 76 30
}

@test "callers that disagree on N: the later one exits 64 naming the N in force, and holds nothing" {
    start_holder holder -n 2 --key sem:mixed
    run --separate-stderr lockrun -n 3 --key sem:mixed -c 'touch ran'
    assert_status 64
    assert_one_error_line 'sem:mixed is held with -n 2, and this caller gave -n 3'
    run --separate-stderr lockrun --key sem:mixed -c 'touch ran'
    assert_status 64
    assert_one_error_line 'sem:mixed is held with -n 2, and this caller gave -n 1'
    assert [ ! -e ran ]
    release holder
    assert_exit holder 0 10
    assert_nothing_held
    # An exclusive holder against a semaphore.
    start_holder excl --key sem:mixed2
    run --separate-stderr lockrun -n 3 --key sem:mixed2 -c 'touch ran'
    assert_status 64
    assert_one_error_line 'held with an exclusive lock \(-n 1\), and this caller gave -n 3'
    release excl
    assert_exit excl 0 10
    # Once nobody holds it, another N is taken.
    run --separate-stderr lockrun -n 3 --key sem:mixed -c 'echo ok'
    assert_success
    assert_output ok
}

@test "a SIGKILLed holder's slot frees when its lease runs out (Redis) or when it and its command are gone (local)" {
    start_holder keeper -n 2 --lease 2s --key sem:crash
    start_holder victim -n 2 --lease 2s --key sem:crash
    local command_pid
    command_pid=$(cat victim.cmd.pid)
    kill -KILL "${SPAWNED[victim]}" "$command_pid"
    local killed_at
    killed_at=$(now_ms)
    run --separate-stderr lockrun -n 2 --lease 2s --wait 10 --key sem:crash -c 'date +%s%3N'
    assert_success
    local waited=$((output - killed_at))
    if backend_is redis; then
        # Not before the 2 s lease has run out.
        assert_between "wait for the slot (ms)" "$waited" 1500 4500
    else
        assert_between "wait for the slot (ms)" "$waited" 0 1500
    fi
    release keeper
    assert_exit keeper 0 10
}

@test "bad -n values and cache options with -n: exit 64, one line, nothing held" {
    assert_rejected 64 'max-holders' -n 0 --key k -c 'touch ran'
    assert_rejected 64 'max-holders' -n 1001 --key k -c 'touch ran'
    assert_rejected 64 'max-holders' --max-holders x --key k -c 'touch ran'
    assert_rejected 64 'lock only.*--cache-ttl' -n 3 --cache-ttl 1m --key k -c 'touch ran'
    assert_rejected 64 'lock only.*--files' -n 3 --files dist --key k -c 'touch ran'
    assert_rejected 64 'lock only.*--refresh' -n 3 --refresh --key k -c 'touch ran'
}

@test "-v says a semaphore is lock only, and a second call runs again: nothing was stored" {
    run --separate-stderr lockrun -v -n 2 --key sem:v -c 'echo one'
    assert_success
    assert_regex "$stderr" 'a semaphore of up to 2 holders \(-n\): lock only'
    run --separate-stderr lockrun -n 2 --key sem:v -c 'echo two'
    assert_output two
}

@test "the README's semaphore recipe, as written: six exports, never more than four at once" {
    local recipe i
    recipe=$(readme_block "**At most N at once**")
    assert_regex "$recipe" 'lockrun -n 4'
    mkdir -p recipe-bin
    ln -sf "$LOCKRUN" recipe-bin/lockrun
    printf '#!/bin/sh\necho "$(date +%%s%%N) start" >> log; sleep 0.4; echo "$(date +%%s%%N) end" >> log; echo exported\n' >nightly-export
    chmod +x nightly-export
    printf '%s\n' "$recipe" >recipe.sh
    for i in 1 2 3 4 5 6; do
        spawn "export$i" env PATH="$PWD/recipe-bin:$PATH" bash -e recipe.sh
    done
    for i in 1 2 3 4 5 6; do
        assert_exit "export$i" 0 60
        assert_equal "$(cat "export$i.out")" exported
    done
    assert_equal "most at once: $(most_at_once log)" "most at once: 4"
}

@test "after a holder's lease ran out and the others released, the key is free for any caller" {
    backend_is redis || skip "a local slot frees when its holder dies, not by a lease"
    start_holder crashed -n 2 --lease 1s --key sem:stale
    start_holder normal -n 2 --lease 5s --key sem:stale
    kill -KILL "${SPAWNED[crashed]}" "$(cat crashed.cmd.pid)"
    release normal
    assert_exit normal 0 10
    sleep 1.2
    # Neither a stale -n 2 nor its dead holder stands: an exclusive caller, then -n 3, run.
    run --separate-stderr lockrun --key sem:stale -c 'echo exclusive'
    assert_success
    assert_output exclusive
    run --separate-stderr lockrun -n 3 --key sem:stale -c 'echo three'
    assert_success
    assert_output three
}

@test "an exclusive caller finds a semaphore behind a killed exclusive holder's record: 64" {
    backend_is local || skip "the record left in .lock by a killed holder is the local backend's"
    start_holder killed --key sem:record
    local command_pid
    command_pid=$(cat killed.cmd.pid)
    kill -KILL "${SPAWNED[killed]}" "$command_pid"
    wait_until 10 is_gone "$command_pid"
    wait_until 10 is_gone "${SPAWNED[killed]}"
    # Its record is left in .lock; its flock is gone with it.
    assert [ -s "$(state_file sem:record lock)" ]
    start_holder sem -n 2 --key sem:record
    run --separate-stderr lockrun --wait 2 --key sem:record -c 'touch ran'
    assert_status 64
    assert_one_error_line 'held with -n 2, and this caller gave -n 1'
    release sem
    assert_exit sem 0 10
}
