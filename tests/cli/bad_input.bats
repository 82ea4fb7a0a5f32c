#!/usr/bin/env bats
# Bad input (SPEC §2, §3): usage errors exit 64; each is one `lockrun:` line, stdout stays
# empty, the command does not run and the backend is not touched (assert_rejected, in
# common.bash). Malformed Redis URLs (78) are in redis/redis_url.bats.

load common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

# repeat N CHAR: CHAR N times.
repeat() {
    local s
    printf -v s '%*s' "$1" ''
    printf '%s' "${s// /$2}"
}

@test "no --key: 64" {
    assert_rejected 64 'key' --no-cache -- touch ran
}

@test "an empty key: 64" {
    assert_rejected 64 'key' --no-cache --key '' -- touch ran
}

@test "a 513-byte key: 64" {
    assert_rejected 64 'key|512' --no-cache --key "$(repeat 513 k)" -- touch ran
}

@test "a 512-byte key is accepted" {
    run --separate-stderr lockrun --no-cache --key "$(repeat 512 k)" -- echo ran
    assert_status 0
    assert_output ran
}

@test "a UTF-8 key is accepted" {
    run --separate-stderr lockrun --no-cache --key 'rapport:été-日本' -c 'printf %s "$LOCKRUN_KEY"'
    assert_status 0
    assert_output 'rapport:été-日本'
}

@test "a key with a newline: 64" {
    assert_rejected 64 'key' --no-cache --key $'two\nlines' -- touch ran
}

@test "a key with a tab: 64" {
    assert_rejected 64 'key' --no-cache --key $'a\tb' -- touch ran
}

@test "a key with DEL (0x7f): 64" {
    assert_rejected 64 'key' --no-cache --key $'a\x7fb' -- touch ran
}

@test "a key with a bidirectional formatting character (U+202E), which shows it as another: 64" {
    assert_rejected 64 'key.*bidirectional' --no-cache --key $'report-\u202egnp.exe' -- touch ran
}

@test "an option without its value: 64, named in plain words" {
    assert_rejected 64 '^lockrun: --key needs a value \(see lockrun --help\)$' --no-cache -k
    assert_rejected 64 '^lockrun: --wait needs a value \(see lockrun --help\)$' -k k --wait
}

@test "cache without show or drop: 64, saying which" {
    assert_rejected 64 '^lockrun: cache needs what to do: cache show KEY, or cache drop KEY$' cache
}

@test "a key that is not valid UTF-8: 64" {
    assert_rejected 64 'key|utf' --no-cache --key $'a\xffb' -- touch ran
}

@test "no command: 64" {
    assert_rejected 64 'command' --no-cache --key k
}

@test "-- with nothing after it: 64" {
    assert_rejected 64 'command' --no-cache --key k --
}

@test "both -c and a command: 64" {
    assert_rejected 64 'command|-c' --no-cache --key k -c 'touch ran' -- touch ran
}

@test "an unknown flag: 64, naming it" {
    assert_rejected 64 'bogus-flag' --no-cache --bogus-flag --key k -- touch ran
}

@test "--lease 50ms, below the 100ms minimum: 64" {
    assert_rejected 64 'lease' --no-cache --lease 50ms --key k -- touch ran
}

@test "--lease 100ms, the minimum, is accepted" {
    run --separate-stderr lockrun --no-cache --lease 100ms --key k -c 'printf %s "$LOCKRUN_LEASE_MS"'
    assert_status 0
    assert_output 100
}

@test "--lease inf: 64" {
    assert_rejected 64 'lease' --no-cache --lease inf --key k -- touch ran
}

@test "--lease abc: 64" {
    assert_rejected 64 'lease|abc' --no-cache --lease abc --key k -- touch ran
}

@test "--wait -1: 64" {
    assert_rejected 64 'wait|-1' --no-cache --wait -1 --key k -- touch ran
}

@test "--wait 5x: 64" {
    assert_rejected 64 'wait|5x' --no-cache --wait 5x --key k -- touch ran
}

@test "-E 256: 64" {
    assert_rejected 64 '256|conflict|-E' --no-cache -E 256 --key k -- touch ran
}

@test "-E -1: 64" {
    assert_rejected 64 '-1|conflict|-E' --no-cache -E -1 --key k -- touch ran
}

@test "--on-lock-lost maybe: 64" {
    assert_rejected 64 'maybe|on-lock-lost' --no-cache --on-lock-lost maybe --key k -- touch ran
}

@test "--kill-after bad: 64" {
    assert_rejected 64 'kill-after|bad' --no-cache --kill-after bad --key k -- touch ran
}

@test "--connect-timeout bad: 64" {
    assert_rejected 64 'connect-timeout|bad' --no-cache --connect-timeout bad --key k -- touch ran
}

@test "--io-timeout bad: 64" {
    assert_rejected 64 'io-timeout|bad' --no-cache --io-timeout bad --key k -- touch ran
}

@test "a usage error is reported before the backend is contacted" {
    local port
    port=$(free_port)
    assert_rejected 64 'lease' --no-cache --redis "redis://127.0.0.1:$port" --lease 50ms --key k -- touch ran
}
