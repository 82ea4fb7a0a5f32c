#!/usr/bin/env bats
# Damaged cache records of the local backend (SPEC §6): the result of KEY is the file
# STATE_DIR/<hex SHA-256 of KEY>.out, "LKRT", the expiry (8 bytes, little-endian unix
# ms), then the same versioned record as in Redis ("LKRN", version byte 4, ...). A file
# that cannot be decoded (garbage, cut short, a record format this lockrun does not read)
# is a miss with one warning line: the command runs, no crash, and its good result
# replaces the damaged one.
#
# The damaged files are made from a file lockrun itself wrote (under rec:source), so these
# tests depend on no more of the layout than the header described above.

# The local backend only, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=local
load ../common
load ../cache_helpers
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

# out_file KEY: the path of KEY's result file.
out_file() {
    state_file "$1" out
}

# first_bytes N FILE: the first N bytes of FILE, as `od -c` shows them, on one line.
first_bytes() {
    head -c "$1" "$2" | od -An -c | tr -s ' \n' ' '
}

# good_file FILE: a result file as lockrun writes it (of a command that printed "source").
good_file() {
    lockrun --key rec:source -c 'echo source' >/dev/null
    cp "$(out_file rec:source)" "$1"
    # "LKRT", 8 bytes of expiry, then the record: "LKRN" and version 4.
    assert_equal "file starts with:$(first_bytes 4 "$1")" 'file starts with: L K R T '
    assert_equal "record starts with:$(tail -c +13 "$1" | head -c 5 | od -An -c | tr -s ' \n' ' ')" \
        'record starts with: L K R N 004 '
}

# put_file KEY FILE: installs FILE as KEY's result file (0600, as lockrun writes it).
put_file() {
    install -m 600 "$2" "$(out_file "$1")"
}

# assert_miss_then_stored KEY: a call with KEY runs its command (exit 0, its output) with
# exactly one warning line, and afterwards a good file is stored: the next call replays.
assert_miss_then_stored() {
    run --separate-stderr lockrun --key "$1" -c 'echo run >> runs; echo fresh'
    assert_status 0
    assert_output fresh
    assert_one_error_line 'cached result|record|result file'
    assert_runs 1

    assert_equal "file starts with:$(first_bytes 4 "$(out_file "$1")")" 'file starts with: L K R T '
    run --separate-stderr lockrun -q --key "$1" -c 'echo run >> runs; echo again'
    assert_status 0
    assert_output fresh
    assert_equal "stderr: '$stderr'" "stderr: ''"
    assert_runs 1
}

@test "a result file copied from lockrun's own is replayed (the method works)" {
    good_file good.out
    put_file rec:copy good.out
    run --separate-stderr lockrun --key rec:copy -c 'echo run >> runs; echo fresh'
    assert_status 0
    assert_output source
    assert_runs 0
}

@test "a garbage file: the command runs, one warning, a good file is stored" {
    printf 'this is not a lockrun result file\n' >garbage.out
    put_file rec:garbage garbage.out
    assert_miss_then_stored rec:garbage
}

@test "a good header with a garbage record: the command runs, one warning" {
    good_file good.out
    { head -c 12 good.out; printf 'garbage, not a record'; } >bad.out
    put_file rec:badrecord bad.out
    assert_miss_then_stored rec:badrecord
}

@test "a truncated record: the command runs, one warning, a good file is stored" {
    good_file good.out
    head -c 40 good.out >cut.out
    put_file rec:truncated cut.out
    assert_miss_then_stored rec:truncated
}

@test "a record missing only its last byte: the command runs, one warning" {
    good_file good.out
    head -c -1 good.out >cut.out
    put_file rec:lastbyte cut.out
    assert_miss_then_stored rec:lastbyte
}

@test "a file cut inside its header: the command runs, one warning" {
    good_file good.out
    head -c 7 good.out >cut.out
    put_file rec:header cut.out
    assert_miss_then_stored rec:header
}

@test "a record with version byte 5: the command runs, one warning, a good file is stored" {
    good_file good.out
    { head -c 16 good.out; printf '\005'; tail -c +18 good.out; } >v5.out
    put_file rec:v5 v5.out
    assert_miss_then_stored rec:v5
}

@test "records of formats 2 and 3 (lockrun 0.2 before compression, before --files) are still replayed" {
    good_file good.out
    as_format 2 good.out v2.out 12
    put_file rec:v2 v2.out
    assert_replayed_without_running rec:v2 source
    as_format 3 good.out v3.out 12
    put_file rec:v3 v3.out
    assert_replayed_without_running rec:v3 source
}

@test "an empty result file: the command runs, one warning" {
    : >empty.out
    put_file rec:empty empty.out
    assert_miss_then_stored rec:empty
}

@test "a damaged file with a waiter: both finish, the command runs once" {
    printf 'garbage' >garbage.out
    put_file rec:waiter garbage.out
    assert_one_run_with_a_waiter rec:waiter
}

@test "status of a damaged file exits 0 and says it is unreadable" {
    good_file good.out
    { head -c 16 good.out; printf '\005'; tail -c +18 good.out; } >v5.out
    put_file rec:status v5.out
    run --separate-stderr lockrun status rec:status --json
    assert_status 0
    assert_regex "$(jq -r .cache.unreadable <<<"$output")" '.+'
    run --separate-stderr lockrun status rec:status
    assert_status 0
    assert_output --partial unreadable
}

@test "cache show of a damaged file exits 1 with one line" {
    printf 'garbage' >garbage.out
    put_file rec:show garbage.out
    run --separate-stderr lockrun cache show rec:show
    assert_status 1
    assert_equal "stdout: '$output'" "stdout: ''"
    assert_one_error_line 'unreadable|result file'
}

@test "cache drop removes a damaged file" {
    printf 'garbage' >garbage.out
    put_file rec:drop garbage.out
    run --separate-stderr lockrun cache drop rec:drop
    assert_status 0
    assert [ ! -e "$(out_file rec:drop)" ]
}
