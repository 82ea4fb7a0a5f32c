#!/usr/bin/env bats
# Replay of a stored result (SPEC §1 step 1, §2 --cache-stderr): a later caller gets the
# stored stdout byte for byte and the stored exit code, and its command does not run.
# Every command here appends a line to `runs`, so the number of lines is the number of
# times it ran. Backend-neutral: no look at Redis or at the state dir.

load common
load cache_helpers
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

@test "binary output is replayed byte for byte" {
    head -c 4096 /dev/urandom >data.bin
    lockrun --key replay:binary -- sh -c 'echo run >> runs; cat data.bin' >first.out
    lockrun --key replay:binary -- sh -c 'echo run >> runs; cat data.bin' >second.out
    assert_runs 1
    cmp data.bin first.out
    cmp data.bin second.out
}

@test "the replay adds no trailing newline" {
    lockrun --key replay:nonl -c 'echo run >> runs; printf "no newline"' >first.out
    lockrun --key replay:nonl -c 'echo run >> runs; printf "no newline"' >second.out
    assert_runs 1
    printf 'no newline' >expected
    cmp expected second.out
}

@test "lockrun's line after replayed output that left its line open starts a line of its own" {
    # -v: a line after the output (as a follower's "followed the run ... to its end").
    lockrun --key replay:open -c 'printf "no newline"' >/dev/null
    # stdout and stderr the same pipe, as in `2>&1 | tee log`: the newline goes between.
    run lockrun -v --key replay:open -c 'printf "no newline"'
    assert_success
    assert_line 'no newline'
    assert_line --index $((${#lines[@]} - 1)) --regexp '^lockrun: replay:open: cache_hit, exit 0'
    # Apart, stdout keeps its bytes and stderr gets no empty line.
    lockrun -v --key replay:open -c 'printf "no newline"' >apart.out 2>apart.err
    printf 'no newline' >expected
    cmp expected apart.out
    run grep -c '^$' apart.err
    assert_output 0
    # Replayed stderr (--cache-stderr) left open: lockrun's line on a line of its own.
    lockrun --key replay:open-err --cache-stderr -c 'printf "warned" >&2' 2>/dev/null
    lockrun -v --key replay:open-err --cache-stderr -c 'printf "warned" >&2' 2>err.log
    run cat err.log
    assert_line warned
    assert_line --index $((${#lines[@]} - 1)) --regexp '^lockrun: replay:open-err: cache_hit'
    # A JSON log line stays one JSON object.
    run lockrun -v --log-format json --key replay:open -c 'printf "no newline"'
    assert_success
    assert_line 'no newline'
    python3 -c 'import json, sys; json.loads(sys.argv[1])' "${lines[${#lines[@]} - 1]}"
}

@test "NUL bytes are replayed" {
    lockrun --key replay:nul -c 'echo run >> runs; printf "a\000b\000\000c"' >first.out
    lockrun --key replay:nul -c 'echo run >> runs; printf "a\000b\000\000c"' >second.out
    assert_runs 1
    printf 'a\0b\0\0c' >expected
    cmp expected first.out
    cmp expected second.out
}

@test "empty output is stored and replayed as empty" {
    lockrun --key replay:empty -c 'echo run >> runs' >first.out
    run --separate-stderr lockrun -q --key replay:empty -c 'echo run >> runs'
    assert_status 0
    assert_runs 1
    assert_equal "stdout: '$output'" "stdout: ''"
    assert_equal "stderr: '$stderr'" "stderr: ''"
    run --separate-stderr lockrun status replay:empty --json
    assert_status 0
    assert_equal "$(jq -c '.cache.output_bytes' <<<"$output")" 0
}

@test "exit 0 is replayed and the command does not run a second time" {
    run --separate-stderr lockrun --key replay:zero -c 'echo run >> runs; echo hello'
    assert_status 0
    assert_output hello
    run --separate-stderr lockrun --key replay:zero -c 'echo run >> runs; echo hello'
    assert_status 0
    assert_output hello
    # Never silent (SPEC §1): one line says it is a replay.
    assert_regex "$stderr" '^lockrun: replay:zero: replayed the run of [^ ]+ \(fence [0-9]+\), ended [0-9]+s ago, exit 0; --refresh runs it again$'
    assert_runs 1
}

@test "the replay ignores the second caller's command: the key is the unit of work" {
    lockrun --key replay:unit -c 'echo run >> runs; echo first' >/dev/null
    run --separate-stderr lockrun --key replay:unit -c 'echo run >> runs; echo second'
    assert_status 0
    assert_output first
    assert_runs 1
}

@test "a stored result is replayed while another run holds the lock: no lock is taken" {
    lockrun --key replay:nolock -c 'echo run >> runs; echo stored' >/dev/null
    # A --no-cache run holds the lock; a caller without --wait would get 75 if it needed it.
    start_holder holder --key replay:nolock --lease 30s
    run --separate-stderr lockrun --wait 0 --key replay:nolock -c 'echo run >> runs; echo new'
    assert_status 0
    assert_output stored
    assert_runs 1
    run --separate-stderr lockrun status replay:nolock --json
    assert_status 0
    assert_equal "held: $(jq -r .held <<<"$output")" "held: true"
    release holder
    assert_exit holder 0 10
}

@test "after a replay the key is free" {
    lockrun --key replay:free -c 'echo run >> runs; echo stored' >/dev/null
    lockrun --key replay:free -c 'echo run >> runs; echo stored' >/dev/null
    run --separate-stderr lockrun status replay:free --json
    assert_status 0
    assert_equal "held: $(jq -r .held <<<"$output")" "held: false"
    assert_runs 1
}

@test "with --no-cache-stderr stderr is not replayed" {
    run --separate-stderr lockrun --no-cache-stderr --key replay:stderr -c 'echo run >> runs; echo out; echo err >&2'
    assert_status 0
    assert_output out
    assert_equal "$stderr" err
    run --separate-stderr lockrun -q --key replay:stderr -c 'echo run >> runs; echo out; echo err >&2'
    assert_status 0
    assert_output out
    assert_equal "stderr: '$stderr'" "stderr: ''"
    assert_runs 1
}

@test "stderr is replayed too by default, each to its own stream" {
    local script='echo run >> runs; echo out; echo err >&2'
    run --separate-stderr lockrun --key replay:both -c "$script"
    assert_status 0
    run --separate-stderr lockrun -q --cache-stderr --key replay:both -c "$script"
    assert_status 0
    assert_output out
    assert_equal "$stderr" err
    assert_runs 1
}

@test "a result stored with stderr replays it to any later caller, even one with --no-cache-stderr" {
    local script='echo run >> runs; echo out; echo err >&2'
    lockrun --cache-stderr --key replay:later -c "$script" >/dev/null 2>&1
    run --separate-stderr lockrun -q --no-cache-stderr --key replay:later -c "$script"
    assert_status 0
    assert_output out
    assert_equal "$stderr" err
    assert_runs 1
}

@test "with --cache-stderr the replay keeps the order of interleaved writes" {
    local script='echo run >> runs; echo 1; sleep 0.1; echo 2 >&2; sleep 0.1; echo 3; sleep 0.1; echo 4 >&2; sleep 0.1; echo 5'
    lockrun --cache-stderr --key replay:order -c "$script" >first.all 2>&1
    lockrun -q --cache-stderr --key replay:order -c "$script" >second.all 2>&1
    assert_runs 1
    printf '1\n2\n3\n4\n5\n' >expected
    cmp expected first.all
    cmp expected second.all
}
