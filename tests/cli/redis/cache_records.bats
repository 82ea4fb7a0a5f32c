#!/usr/bin/env bats
# Damaged cache records in Redis (SPEC §5 PREFIX{KEY}:out, a versioned binary record that
# starts with "LKRN" and a version byte): a record that cannot be decoded (garbage, cut
# short, a format this lockrun does not read) is a miss with one warning line: the
# command runs, no crash, and its good result replaces the damaged one.
#
# The damaged records are made from a record lockrun itself wrote (under rec:source), so
# these tests do not depend on the record's layout beyond its first five bytes.

# Redis only, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=redis
load ../common
load ../cache_helpers
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

# good_record FILE: a record as lockrun stores it (of a command that printed "source").
good_record() {
    lockrun --key rec:source -c 'echo source' >/dev/null
    # redis-cli writes a value's bytes as they are, then a newline of its own.
    rcli GET "$(out_key rec:source)" | head -c -1 >"$1"
    local magic
    magic=$(head -c 5 "$1" | od -An -c | tr -s ' ')
    assert_equal "record starts with:$magic" 'record starts with: L K R N 004'
}

# put_record KEY FILE: stores FILE's bytes as KEY's cached result.
put_record() {
    rcli -x SET "$(out_key "$1")" <"$2" >/dev/null
}

# assert_miss_then_stored KEY: a call with KEY runs its command (exit 0, its output) with
# exactly one warning line, and afterwards a good record is stored: the next call replays.
assert_miss_then_stored() {
    run --separate-stderr lockrun --key "$1" -c 'echo run >> runs; echo fresh'
    assert_status 0
    assert_output fresh
    assert_one_error_line 'cached result|record'
    assert_runs 1

    local magic
    magic=$(rcli GET "$(out_key "$1")" | head -c 5 | od -An -c | tr -s ' ')
    assert_equal "record starts with:$magic" 'record starts with: L K R N 004'
    run --separate-stderr lockrun -q --key "$1" -c 'echo run >> runs; echo again'
    assert_status 0
    assert_output fresh
    assert_equal "stderr: '$stderr'" "stderr: ''"
    assert_runs 1
}

@test "a record written by hand from lockrun's own bytes is replayed (the method works)" {
    good_record good.rec
    put_record rec:copy good.rec
    run --separate-stderr lockrun --key rec:copy -c 'echo run >> runs; echo fresh'
    assert_status 0
    assert_output source
    assert_runs 0
}

@test "garbage in the cache slot: the command runs, one warning, a good record is stored" {
    printf 'this is not a lockrun record\n' >garbage.rec
    put_record rec:garbage garbage.rec
    assert_miss_then_stored rec:garbage
}

@test "binary garbage that starts like a record: the command runs, one warning" {
    { printf 'LKRN\001'; head -c 200 /dev/urandom; } >garbage.rec
    put_record rec:binary garbage.rec
    assert_miss_then_stored rec:binary
}

@test "a truncated record: the command runs, one warning, a good record is stored" {
    good_record good.rec
    head -c 30 good.rec >cut.rec
    put_record rec:truncated cut.rec
    assert_miss_then_stored rec:truncated
}

@test "a record missing only its last byte: the command runs, one warning" {
    good_record good.rec
    head -c -1 good.rec >cut.rec
    put_record rec:lastbyte cut.rec
    assert_miss_then_stored rec:lastbyte
}

@test "a record of only the magic and version: the command runs, one warning" {
    printf 'LKRN\001' >short.rec
    put_record rec:header short.rec
    assert_miss_then_stored rec:header
}

@test "a record with version byte 5: the command runs, one warning, a good record is stored" {
    good_record good.rec
    { head -c 4 good.rec; printf '\005'; tail -c +6 good.rec; } >v5.rec
    put_record rec:v5 v5.rec
    assert_miss_then_stored rec:v5
}

@test "records of formats 2 and 3 (lockrun 0.2 before compression, before --files) are still replayed" {
    good_record good.rec
    as_format 2 good.rec v2.rec
    put_record rec:v2 v2.rec
    assert_replayed_without_running rec:v2 source
    as_format 3 good.rec v3.rec
    put_record rec:v3 v3.rec
    assert_replayed_without_running rec:v3 source
}

@test "an empty value in the cache slot: the command runs, one warning" {
    : >empty.rec
    put_record rec:empty empty.rec
    assert_miss_then_stored rec:empty
}

@test "a damaged record with a waiter: both finish, the command runs once" {
    printf 'garbage' >garbage.rec
    put_record rec:waiter garbage.rec
    assert_one_run_with_a_waiter rec:waiter
}

@test "status of a damaged record exits 0 and says it is unreadable" {
    printf 'garbage' >garbage.rec
    put_record rec:status garbage.rec
    run --separate-stderr lockrun status rec:status --json
    assert_status 0
    assert_regex "$(jq -r .cache.unreadable <<<"$output")" '.+'
    run --separate-stderr lockrun status rec:status
    assert_status 0
    assert_output --partial unreadable
}

@test "cache show of a damaged record exits 1 with one line" {
    good_record good.rec
    { head -c 4 good.rec; printf '\005'; tail -c +6 good.rec; } >v5.rec
    put_record rec:show v5.rec
    run --separate-stderr lockrun cache show rec:show
    assert_status 1
    assert_equal "stdout: '$output'" "stdout: ''"
    assert_one_error_line 'unreadable|format'
}

@test "cache drop removes a damaged record" {
    printf 'garbage' >garbage.rec
    put_record rec:drop garbage.rec
    run --separate-stderr lockrun cache drop rec:drop
    assert_status 0
    assert_equal "exists: $(rcli EXISTS "$(out_key rec:drop)")" "exists: 0"
}

@test "--cache-key-file: a signed record put back after its time (without a TTL) is not replayed" {
    head -c 32 /dev/urandom | base64 >cache.key
    run --separate-stderr lockrun --cache-key-file cache.key --cache-ttl 1s -k rec:old -- echo old
    assert_output old
    # A copy of the signed record, kept past its TTL, then put back for ever.
    rcli COPY "$(out_key rec:old)" rec:kept >/dev/null
    rcli PERSIST rec:kept >/dev/null
    sleep 1.2
    rcli RENAME rec:kept "$(out_key rec:old)" >/dev/null
    run --separate-stderr lockrun --cache-key-file cache.key -k rec:old -- echo new
    assert_output new
    assert_regex "$stderr" "^lockrun: ignoring the cached result of rec:old: it was signed to be used until [0-9]+ \\(unix ms\\) and was stored again after that$"
}
