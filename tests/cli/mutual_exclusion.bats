#!/usr/bin/env bats
# One key, one runner at a time; every caller runs in turn with --no-cache (SPEC §1).

load common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

# run_concurrently N KEY: starts N lockruns of KEY at once; each appends
# "start ID NS TOKEN" and "end ID NS" lines to ./log with a short sleep between; all
# must exit 0.
run_concurrently() {
    local n=$1 key=$2 i
    for i in $(seq 1 "$n"); do
        spawn "job$i" "$LOCKRUN" --no-cache --wait 60 --key "$key" \
            -c "echo \"start $i \$(date +%s%N) \$LOCKRUN_FENCING_TOKEN\" >> log; sleep 0.05; echo \"end $i \$(date +%s%N)\" >> log"
    done
    for i in $(seq 1 "$n"); do
        assert_exit "job$i" 0 60
    done
}

@test "20 concurrent callers of one key all run, one at a time" {
    run_concurrently 20 mutex
    local -A start=() end=()
    local word id ns token
    while read -r word id ns token; do
        case $word in
        start) start[$id]=$ns ;;
        end) end[$id]=$ns ;;
        esac
    done <log
    assert_equal "${#start[@]} starts" "20 starts"
    assert_equal "${#end[@]} ends" "20 ends"

    local by_start prev_end=0 prev_id=none
    by_start=$(for id in "${!start[@]}"; do echo "${start[$id]} $id"; done | sort -n)
    while read -r ns id; do
        if ((ns < prev_end)); then
            fail "run $id started at $ns, before run $prev_id ended at $prev_end"
        fi
        prev_end=${end[$id]}
        prev_id=$id
    done <<<"$by_start"
}

@test "fencing tokens increase in the order the runs started" {
    run_concurrently 8 fence-order
    local word id ns token tokens=()
    while read -r word id ns token; do
        if [[ $word == start ]]; then
            tokens+=("$ns $token")
        fi
    done <log
    assert_equal "${#tokens[@]}" 8
    local by_start previous=-1
    by_start=$(printf '%s\n' "${tokens[@]}" | sort -n)
    while read -r ns token; do
        assert_regex "$token" '^[0-9]+$'
        if ((token <= previous)); then
            fail "token $token after token $previous: $by_start"
        fi
        previous=$token
    done <<<"$by_start"
}

@test "nothing is held after all concurrent callers ran" {
    run_concurrently 5 mutex-end
    assert_nothing_held
}

@test "different keys do not exclude each other" {
    start_holder holder --key key-a --lease 30s
    run --separate-stderr lockrun --no-cache --wait 0 --key key-b -- echo ran
    assert_status 0
    assert_output ran
    release holder
    assert_exit holder 0 10
}
