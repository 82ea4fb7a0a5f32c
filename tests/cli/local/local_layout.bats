#!/usr/bin/env bats
# The files of one KEY in the state dir (SPEC §6): STATE/<hex SHA-256 of KEY>.lock,
# flock(2)ed by the holding lockrun; .fence, the fencing counter, created from the clock in
# milliseconds; .out, the cached result, written to a temporary name and renamed; .key, the
# KEY itself, for `lockrun list`. STATE/.swept marks the last sweep of unused keys
# (stale_keys.bats). The commands here look at them while they run.

# The local backend, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=local
load ../common
setup() { per_test_setup; }
teardown() { per_test_teardown; }

@test "while the command runs, STATE/<sha256(KEY)>.lock is flock()ed by lockrun" {
    run --separate-stderr lockrun --no-cache --key report:1 -c 'echo "$PPID"; cat /proc/locks'
    assert_status 0
    local lock id
    lock=$(state_file report:1 lock)
    assert [ -f "$lock" ]
    id=$(flock_id "$lock")
    assert_regex "$output" "FLOCK +ADVISORY +WRITE +${lines[0]} +$id "
    assert_nothing_held
}

@test "the key's files are named by its SHA-256, whatever characters it has" {
    run --separate-stderr lockrun --key '../../escape/{x}' -- echo ran
    assert_status 0
    assert [ -f "$(state_file '../../escape/{x}' lock)" ]
    assert [ -f "$(state_file '../../escape/{x}' out)" ]
    assert [ ! -e "$LOCKRUN_STATE_DIR/../../escape" ]
}

@test ".fence holds the last fencing token" {
    run --separate-stderr lockrun --no-cache --key report:1 -c 'echo "$LOCKRUN_FENCING_TOKEN"'
    assert_status 0
    assert_equal "fence $(<"$(state_file report:1 fence)")" "fence $output"
    run --separate-stderr lockrun --no-cache --key report:1 -c 'echo "$LOCKRUN_FENCING_TOKEN"'
    assert_status 0
    assert_equal "fence $(<"$(state_file report:1 fence)")" "fence $output"
}

@test "a stored run leaves .lock, .fence, .out and .key, all 0600, and no temporary file" {
    run --separate-stderr lockrun --key report:1 -- echo result
    assert_status 0
    local base
    base=$(key_hash report:1)
    assert_equal "$(cd "$LOCKRUN_STATE_DIR" && ls -A | sort | tr '\n' ' ')" \
        ".swept $base.fence $base.key $base.lock $base.out "
    assert_equal "$(find "$LOCKRUN_STATE_DIR" -type f ! -perm 600)" ''
}

@test ".key holds the key, byte for byte" {
    local key=$'report:2026-11-22 \xc3\xa9t\xc3\xa9'
    run --separate-stderr lockrun --no-cache --key "$key" -- true
    assert_status 0
    assert_equal "key $(<"$(state_file "$key" key)")" "key $key"
}

@test "a fresh key's first fencing token is the clock in ms; without its .fence, the next is larger" {
    local started
    started=$(now_ms)
    run --separate-stderr lockrun --no-cache --key fresh -c 'echo "$LOCKRUN_FENCING_TOKEN"'
    assert_status 0
    local first=$output
    assert_between "first token" "$first" "$started" "$(now_ms)"
    # As the sweep of unused keys (or a reboot of a tmpfs) leaves it.
    rm -- "$(state_file fresh fence)"
    run --separate-stderr lockrun --no-cache --key fresh -c 'echo "$LOCKRUN_FENCING_TOKEN"'
    assert_status 0
    assert [ "$output" -gt "$first" ]
}

@test "with --no-cache no .out is written" {
    run --separate-stderr lockrun --no-cache --key report:1 -- echo result
    assert_status 0
    assert [ ! -e "$(state_file report:1 out)" ]
}

@test "status shows a local lock's lease as held while its process lives (JSON: null)" {
    run --separate-stderr lockrun --no-cache --key report:1 \
        -c '"$LOCKRUN" status report:1; "$LOCKRUN" status report:1 --json'
    assert_status 0
    assert_line --regexp '^lease left: +while its process lives$'
    assert_output --partial '"lease_left_ms":null'
}

@test "a waiter watches the lock file with inotify until the holder ends" {
    start_holder holder --lease 30s --key report:1
    spawn waiter "$LOCKRUN" --no-cache --wait 30 --key report:1 -- true
    wait_until 10 watches_lock "${SPAWNED[waiter]}" report:1
    assert_equal "watchers $(lock_watchers report:1)" "watchers 1"
    release holder
    assert_exit holder 0 10
    assert_exit waiter 0 10
    assert_equal "watchers $(lock_watchers report:1)" "watchers 0"
}
