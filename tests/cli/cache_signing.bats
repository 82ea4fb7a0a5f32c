#!/usr/bin/env bats
# --cache-key-file F (SPEC §1, §2, §5): every stored record carries an HMAC-SHA256 under the
# key in F, over the record and the name it is stored under. A record with no tag, a wrong
# tag, or a tag for another key is a miss with one warning: never replayed, the command
# runs. The key file is read like a password file: unreadable or too short is 78, and its
# content is never printed.

load common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() {
    per_test_setup
    head -c 32 /dev/urandom | base64 >cache.key
    head -c 32 /dev/urandom | base64 >other.key
}
teardown() { per_test_teardown; }

# copy_record FROM TO: the stored record of KEY FROM, byte for byte, as TO's.
copy_record() {
    if backend_is local; then
        cp "$(state_file "$1" out)" "$(state_file "$2" out)"
    else
        rcli COPY "$(out_key "$1")" "$(out_key "$2")" REPLACE >/dev/null
    fi
}

# damage_tag KEY: one byte of the stored record's signature changed.
damage_tag() {
    if backend_is local; then
        local file offset
        file=$(state_file "$1" out)
        offset=$(grep -obUa LKRS "$file" | head -1 | cut -d: -f1)
        [[ -n $offset ]] || fail "no signed record in $file"
        printf 'X' | dd of="$file" bs=1 seek=$((offset + 4)) conv=notrunc status=none
    else
        [[ $(rcli GETRANGE "$(out_key "$1")" 0 3) == LKRS ]] || fail "no signed record under $1"
        rcli SETRANGE "$(out_key "$1")" 4 X >/dev/null
    fi
}

@test "a signed result is replayed by callers with the same key file" {
    run --separate-stderr lockrun --cache-key-file cache.key -k sig -- echo signed
    assert_output signed
    run --separate-stderr lockrun --cache-key-file cache.key -k sig -- echo never
    assert_success
    assert_output signed
    assert_regex "$stderr" 'replayed the run of'
    # The same from the config file, the setting every host shares.
    printf 'cache-key-file = "%s"\n' "$PWD/cache.key" >config.toml
    LOCKRUN_CONFIG=$PWD/config.toml run --separate-stderr lockrun -k sig -- echo never
    assert_output signed
}

@test "an unsigned record (stored without the key, or forged) is a miss with one warning, and the command runs" {
    run --separate-stderr lockrun -k sig -- echo unsigned
    assert_output unsigned
    run --separate-stderr lockrun --cache-key-file cache.key -k sig -- echo ran
    assert_success
    assert_output ran
    assert_equal "$stderr" "lockrun: ignoring the cached result of sig: not signed, and --cache-key-file is set"
}

@test "a record whose tag was changed is a miss, and the command runs" {
    run --separate-stderr lockrun --cache-key-file cache.key -k sig -- echo signed
    damage_tag sig
    run --separate-stderr lockrun --cache-key-file cache.key -k sig -- echo ran
    assert_output ran
    assert_regex "$stderr" "^lockrun: ignoring the cached result of sig: its signature does not verify"
}

@test "a valid record copied under another key is a miss: the tag covers the name" {
    run --separate-stderr lockrun --cache-key-file cache.key -k sig:a -- echo for-a
    copy_record sig:a sig:b
    run --separate-stderr lockrun --cache-key-file cache.key -k sig:b -- echo ran-b
    assert_output ran-b
    assert_regex "$stderr" "^lockrun: ignoring the cached result of sig:b: its signature does not verify"
}

@test "a record signed with another key file is a miss" {
    run --separate-stderr lockrun --cache-key-file other.key -k sig -- echo other
    run --separate-stderr lockrun --cache-key-file cache.key -k sig -- echo ran
    assert_output ran
    assert_regex "$stderr" "its signature does not verify"
}

@test "a key file that cannot be read, or is too short: 78, one line, its content never shown" {
    run --separate-stderr lockrun --cache-key-file missing.key -k sig -c 'touch ran'
    assert_status 78
    assert_one_error_line '^lockrun: cannot read --cache-key-file missing.key: No such file or directory$'
    printf 'short-secret\n' >short.key
    run --separate-stderr lockrun --cache-key-file short.key -k sig -c 'touch ran'
    assert_status 78
    assert_one_error_line '^lockrun: --cache-key-file short.key holds 12 bytes; a key needs at least 32'
    [[ $stderr != *short-secret* ]]
    LOCKRUN_CACHE_KEY_FILE=short.key run --separate-stderr lockrun -k sig -c 'touch ran'
    assert_status 78
    [ ! -e ran ]
    LOCKRUN_CACHE_KEY_FILE=$PWD/cache.key run --separate-stderr lockrun config
    assert_success
    assert_output --partial "$PWD/cache.key"
    [[ $output != *"$(cat cache.key)"* ]]
}

@test "the outcome a failed run shares with its waiters is signed too: they replay it" {
    spawn first "$LOCKRUN" --cache-key-file cache.key -k sig:shared -c "echo run >>runs; $(wait_for_go_cmd); echo failed; exit 3"
    wait_until 10 test -s runs
    spawn waiter "$LOCKRUN" -v --cache-key-file cache.key -w 30 -k sig:shared -c 'echo run >>runs; echo second'
    wait_until 10 grep -q 'waiting for' waiter.err
    touch go
    assert_exit first 3 10
    assert_exit waiter 3 10
    run cat waiter.out
    assert_output failed
    assert_equal "$(wc -l <runs)" 1
    [[ $(cat waiter.err) != *ignoring* ]] || fail "$(cat waiter.err)"
}

@test "release --force and cache drop do not need the key file: an operator who cannot read it can still free a key" {
    # A short lease: the holder notices the forced release at its next renewal (a third of
    # it), well within the 10 s the test waits for it, on a loaded machine too.
    start_holder holder --cache-key-file cache.key --lease 6s -k sig:stuck
    LOCKRUN_CACHE_KEY_FILE=$PWD/unreadable.key run --separate-stderr lockrun release sig:stuck --force
    assert_success
    assert_exit holder 76 10
    run --separate-stderr lockrun --cache-key-file cache.key -k sig:drop -- echo stored
    LOCKRUN_CACHE_KEY_FILE=$PWD/unreadable.key run --separate-stderr lockrun cache drop sig:drop
    assert_success
    # Reading results does need it.
    LOCKRUN_CACHE_KEY_FILE=$PWD/unreadable.key run --separate-stderr lockrun status sig:drop
    assert_status 78
}
