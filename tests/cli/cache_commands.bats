#!/usr/bin/env bats
# `lockrun cache show KEY [--json]` and `lockrun cache drop KEY` (SPEC §7): show writes
# the stored stdout (exit 1 and one line when nothing is stored); drop invalidates the
# result (exit 0 also when there was none). Backend-neutral.

load common
load cache_helpers
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

# --- cache show ------------------------------------------------------------------------

@test "cache show writes exactly the stored stdout and exits 0" {
    head -c 4096 /dev/urandom >data.bin
    lockrun --key show:binary -- cat data.bin >/dev/null
    lockrun cache show show:binary >shown.bin
    cmp data.bin shown.bin
}

@test "cache show adds nothing to a text output without a trailing newline" {
    lockrun --key show:text -c 'printf "line 1\nline 2"' >/dev/null
    lockrun cache show show:text >shown
    printf 'line 1\nline 2' >expected
    cmp expected shown
}

@test "cache show writes nothing else: no stderr on success" {
    lockrun --key show:quiet -c 'echo hello' >/dev/null
    run --separate-stderr lockrun cache show show:quiet
    assert_status 0
    assert_output hello
    assert_equal "stderr: '$stderr'" "stderr: ''"
}

@test "cache show writes only the stdout of a result stored with --cache-stderr" {
    lockrun --cache-stderr --key show:streams -c 'echo out; echo err >&2; echo out2' >/dev/null 2>&1
    run --separate-stderr lockrun cache show show:streams
    assert_status 0
    assert_equal "$output" $'out\nout2'
    assert_equal "stderr: '$stderr'" "stderr: ''"
}

@test "cache show with nothing stored exits 1 with one line" {
    run --separate-stderr lockrun cache show show:none
    assert_status 1
    assert_equal "stdout: '$output'" "stdout: ''"
    assert_one_error_line 'show:none'
}

@test "cache show does not run anything and takes no lock" {
    lockrun --key show:nolock -c 'echo run >> runs; echo hello' >/dev/null
    start_holder holder --key show:nolock --lease 30s
    run --separate-stderr lockrun cache show show:nolock
    assert_status 0
    assert_output hello
    assert_runs 1
    release holder
    assert_exit holder 0 10
}

@test "cache show --json has the key, the exit code and the text of the output" {
    lockrun --key show:json -c 'echo hello' >/dev/null
    run --separate-stderr lockrun cache show show:json --json
    assert_status 0
    assert_equal "$(jq -r .key <<<"$output")" show:json
    assert_equal "$(jq -r .exit_code <<<"$output")" 0
    assert_equal "$(jq -c '[.output[] | select(.stream == "stdout") | .text]' <<<"$output")" \
        '["hello\n"]'
}

@test "cache show --json of a stored failure has its exit code" {
    run --separate-stderr lockrun --cache-failures --key show:failed -c 'echo failed; exit 3'
    assert_status 3
    run --separate-stderr lockrun cache show show:failed --json
    assert_status 0
    assert_equal "$(jq -r .exit_code <<<"$output")" 3
    assert_equal "$(jq -r '.output[0].text' <<<"$output")" failed
}

@test "cache show --json carries binary output exactly, as base64" {
    head -c 4096 /dev/urandom >data.bin
    # Not valid UTF-8 for certain: a lone continuation byte first.
    printf '\x80' | cat - data.bin >bin.in
    lockrun --key show:base64 -- cat bin.in >/dev/null
    run --separate-stderr lockrun cache show show:base64 --json
    assert_status 0
    local chunk
    : >decoded.bin
    while IFS= read -r chunk; do
        base64 -d <<<"$chunk" >>decoded.bin
    done < <(jq -r '.output[] | select(.stream == "stdout") | .base64' <<<"$output")
    cmp bin.in decoded.bin
}

@test "cache show --json keeps both streams of a --cache-stderr result, in order" {
    lockrun --cache-stderr --key show:jsonstreams \
        -c 'echo out; sleep 0.1; echo err >&2; sleep 0.1; echo out2' >/dev/null 2>&1
    run --separate-stderr lockrun cache show show:jsonstreams --json
    assert_status 0
    assert_equal "$(jq -c '[.output[] | [.stream, .text]]' <<<"$output")" \
        '[["stdout","out\n"],["stderr","err\n"],["stdout","out2\n"]]'
}

@test "cache show --json with nothing stored exits 1 with one line, and a document that says so" {
    run --separate-stderr lockrun cache show show:none --json
    assert_status 1
    assert_equal "$(jq -c . <<<"$output")" '{"key":"show:none","cached":false}'
    assert_one_error_line 'show:none'
}

# --- cache drop ------------------------------------------------------------------------

@test "cache drop removes the stored result: the next call runs" {
    lockrun --key drop:stored -c 'echo run >> runs; echo hello' >/dev/null
    run --separate-stderr lockrun cache drop drop:stored
    assert_status 0
    run --separate-stderr lockrun cache show drop:stored
    assert_status 1
    run --separate-stderr lockrun --key drop:stored -c 'echo run >> runs; echo again'
    assert_status 0
    assert_output again
    assert_runs 2
}

@test "cache drop with nothing stored exits 0" {
    run --separate-stderr lockrun cache drop drop:none
    assert_status 0
}

@test "cache drop of one key leaves another key's result" {
    lockrun --key drop:one -c 'echo one' >/dev/null
    lockrun --key drop:two -c 'echo two' >/dev/null
    lockrun cache drop drop:one >/dev/null
    run --separate-stderr lockrun cache show drop:two
    assert_status 0
    assert_output two
}

@test "cache drop of a bad key is a usage error (64)" {
    run --separate-stderr lockrun cache drop ''
    assert_status 64
    assert_one_error_line 'key'
}
