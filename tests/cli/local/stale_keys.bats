#!/usr/bin/env bats
# Files of keys unused for 7 days are removed (SPEC §6), so that a state dir of daily keys
# does not grow without end: at most once a day (STATE/.swept marks the last sweep), a run
# that has released its lock removes every key whose files are a week old, whose lock nobody
# holds and whose stored result has expired. The files are made old here with touch -d.

# The local backend, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=local
load ../common
setup() { per_test_setup; }
teardown() { per_test_teardown; }

# age KEY DAYS: makes every file of KEY DAYS days old.
age() {
    local file
    for file in "$LOCKRUN_STATE_DIR/$(key_hash "$1")".*; do
        touch -h -d "$2 days ago" -- "$file"
    done
}

# sweep_due: the last sweep was 8 days ago, so the next run sweeps.
sweep_due() {
    touch -d '8 days ago' -- "$LOCKRUN_STATE_DIR/.swept"
}

# files_of KEY: KEY's files in the state dir, by suffix, on one line ("fence key lock out").
files_of() {
    local file names=()
    for file in "$LOCKRUN_STATE_DIR/$(key_hash "$1")".*; do
        [[ -e $file ]] && names+=("${file##*.}")
    done
    echo "${names[*]}"
}

# result_gone KEY: KEY has no stored result any more (`cache show` exits 1).
result_gone() {
    ! lockrun cache show "$1" >/dev/null 2>&1
}

@test "a key unused for 8 days is removed by the next run of another key; a recent one stays" {
    lockrun --no-cache --key old -- true
    lockrun --key recent -- echo kept >/dev/null
    assert_equal "old: $(files_of old)" "old: fence key lock"
    age old 8
    age recent 6
    sweep_due
    run --separate-stderr lockrun --no-cache --key other -- echo ran
    assert_status 0
    assert_output ran
    assert_equal "old: $(files_of old)" "old: "
    assert_equal "recent: $(files_of recent)" "recent: fence key lock out"
    assert_equal "other: $(files_of other)" "other: fence key lock"
    # The recent key's result is still replayed.
    run --separate-stderr lockrun --key recent -- echo ran-again
    assert_output kept
}

@test "an old key whose stored result has not expired is kept" {
    lockrun --cache-ttl 30d --key monthly -- echo stored >/dev/null
    age monthly 8
    sweep_due
    lockrun --no-cache --key other -- true
    assert_equal "monthly: $(files_of monthly)" "monthly: fence key lock out"
    run --separate-stderr lockrun --cache-ttl 30d --key monthly -- echo ran
    assert_output stored
}

@test "an old key whose stored result has expired is removed" {
    lockrun --cache-ttl 1s --key expired -- echo stored >/dev/null
    wait_until 5 result_gone expired
    age expired 8
    sweep_due
    lockrun --no-cache --key other -- true
    assert_equal "expired: $(files_of expired)" "expired: "
}

@test "a held lock is not removed however old its files, and its holder keeps it" {
    start_holder holder --key held
    local before
    before=$(holder_of held)
    age held 30
    sweep_due
    run --separate-stderr lockrun --no-cache --key other -- echo ran
    assert_status 0
    assert_equal "held: $(files_of held)" "held: fence key lock"
    assert_equal "$(holder_of held)" "$before"
    # Still excluding: a second caller of the key finds it held.
    run --separate-stderr lockrun --no-cache --key held -- touch ran
    assert_status 75
    assert [ ! -e ran ]
    release holder
    assert_exit holder 0 10
}

@test "no sweep within a day of the last one" {
    lockrun --no-cache --key old -- true
    age old 8
    touch -h -d '2 hours ago' -- "$LOCKRUN_STATE_DIR/.swept"
    lockrun --no-cache --key other -- true
    assert_equal "old: $(files_of old)" "old: fence key lock"
}

@test "after a sweep, a removed key runs again with a larger fencing token" {
    run --separate-stderr lockrun --no-cache --key old -c 'echo "$LOCKRUN_FENCING_TOKEN"'
    local first=$output
    age old 8
    sweep_due
    lockrun --no-cache --key other -- true
    assert_equal "old: $(files_of old)" "old: "
    run --separate-stderr lockrun --no-cache --key old -c 'echo "$LOCKRUN_FENCING_TOKEN"'
    assert_status 0
    assert [ "$output" -gt "$first" ]
}

@test "a file that is no key's file is left alone, and a symlink is not followed" {
    echo mine >"$LOCKRUN_STATE_DIR/notes.txt"
    echo 'not a lock file' >outside.txt
    ln -s "$PWD/outside.txt" "$LOCKRUN_STATE_DIR/$(key_hash linked).lock"
    touch -h -d '30 days ago' -- "$LOCKRUN_STATE_DIR/notes.txt" \
        "$LOCKRUN_STATE_DIR/$(key_hash linked).lock" outside.txt
    sweep_due
    lockrun --no-cache --key other -- true
    assert [ -f "$LOCKRUN_STATE_DIR/notes.txt" ]
    assert_equal "$(<outside.txt)" 'not a lock file'
}
