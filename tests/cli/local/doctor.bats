#!/usr/bin/env bats
# lockrun doctor on the local backend.

load ../common
load default_dir

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    unset LOCKRUN_REDIS_URL
    export LOCKRUN_BACKEND=local
}
teardown() { cleanup_default_dir; }

@test "doctor on a good state dir: usable" {
    run --separate-stderr "$LOCKRUN" doctor --state-dir "$BATS_TEST_TMPDIR/state"
    assert_status 0
    assert_line --regexp '^ok +state dir: '
    assert_line --regexp '^ok +flock: +works'
    assert_line --regexp '^ok +inotify: +works'
    assert_line --regexp '^ok +cleanup: +files of keys unused for 7 days are removed'
    assert_line "usable"
    [ -z "$stderr" ]
}

@test "doctor on an unsafe state dir: 78 and the line that says how to fix it" {
    mkdir -m 0777 "$BATS_TEST_TMPDIR/open"
    chmod 0777 "$BATS_TEST_TMPDIR/open"
    run --separate-stderr "$LOCKRUN" doctor --state-dir "$BATS_TEST_TMPDIR/open"
    assert_status 78
    assert_one_error_line 'chmod 700'
}

@test "doctor without --state-dir checks /tmp/lockrun-\$UID, whatever XDG_RUNTIME_DIR says" {
    use_default_dir
    mkdir -m 700 xdg
    export XDG_RUNTIME_DIR=$PWD/xdg
    run --separate-stderr "$LOCKRUN" doctor
    assert_status 0
    assert_line --regexp "^ok +state dir: +/tmp/lockrun-$(id -u) "
    assert_line "usable"
    assert_equal "entries: $(ls -A xdg)" "entries: "
}
