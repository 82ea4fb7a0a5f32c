#!/usr/bin/env bats
# Paths in the state dir are never followed through symlinks (SPEC §6): a key's file
# (STATE/<sha256(KEY)>.lock, .fence, .out) replaced by a symlink to a file outside is not
# read, locked, truncated or written through. lockrun may refuse (69, one `lockrun:` line,
# the command not run) or ignore the link; either way the file outside is unchanged.

# The local backend, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=local
load ../common
setup() { per_test_setup; }
teardown() { per_test_teardown; }

# plant_result KEY TEXT: ./planted.out is a valid cached result of KEY whose stdout is
# TEXT, written by lockrun itself in a state dir of its own; ./planted.orig is a copy.
plant_result() {
    mkdir -m 700 other-state
    LOCKRUN_STATE_DIR=$PWD/other-state lockrun --key "$1" -- echo "$2" >/dev/null
    cp "$(state_file "$1" out "$PWD/other-state")" planted.out
    cp planted.out planted.orig
}

# victim FILE TEXT: an outside file (and FILE.orig, its copy) that a followed link would hit.
victim() {
    printf '%s\n' "$2" >"$1"
    cp "$1" "$1.orig"
}

# assert_refused_or_ran: the run just made (`run ... -c 'touch ran; echo fresh'`) either
# was refused with 69 and one line, its command not run, or ran the command.
assert_refused_or_ran() {
    case $status in
    69)
        assert_output ''
        assert_one_error_line
        assert [ ! -e ran ]
        ;;
    0)
        assert_output fresh
        assert [ -e ran ]
        ;;
    *) fail "exit $status, expected 69 (refused) or 0 (ran); stderr: $stderr" ;;
    esac
}

@test "a .out symlink to a valid result outside is not replayed, nor written through" {
    plant_result k planted
    ln -s "$PWD/planted.out" "$(state_file k out)"
    run --separate-stderr lockrun --key k -c 'touch ran; echo fresh'
    refute_output --partial planted
    assert_refused_or_ran
    cmp planted.orig planted.out
    assert_nothing_held
}

@test "cache show, status and cache drop do not follow a .out symlink" {
    plant_result k planted
    ln -s "$PWD/planted.out" "$(state_file k out)"
    run --separate-stderr lockrun cache show k
    refute_output --partial planted
    assert_not_equal "cache show exit $status" "cache show exit 0"
    run --separate-stderr lockrun status k --json
    refute_output --partial planted
    refute_output --partial '"cache":{'
    run --separate-stderr lockrun cache drop k
    assert [ -e planted.out ]
    cmp planted.orig planted.out
}

@test "a .lock symlink to a file outside: not locked, truncated or written" {
    victim outside.txt 'not a lock file'
    ln -s "$PWD/outside.txt" "$(state_file k lock)"
    run --separate-stderr lockrun --no-cache --key k -c 'touch ran; echo fresh'
    assert_refused_or_ran
    cmp outside.txt.orig outside.txt
}

@test "a dangling .lock symlink: its target is not created" {
    ln -s "$PWD/created-through-link" "$(state_file k lock)"
    run --separate-stderr lockrun --no-cache --key k -c 'touch ran; echo fresh'
    assert_refused_or_ran
    assert [ ! -e created-through-link ]
}

@test "a .fence symlink to a file outside: not read, nor written through" {
    victim outside.txt 41
    ln -s "$PWD/outside.txt" "$(state_file k fence)"
    run --separate-stderr lockrun --no-cache --key k -c 'touch ran; echo fresh; echo "$LOCKRUN_FENCING_TOKEN" > token'
    assert_refused_or_ran
    if [[ -e token ]]; then
        assert_not_equal "token $(<token)" "token 42"
    fi
    cmp outside.txt.orig outside.txt
    assert_nothing_held
}

@test "a .out symlink: storing a new result does not write through it" {
    victim outside.txt 'not a result'
    ln -s "$PWD/outside.txt" "$(state_file k out)"
    run --separate-stderr lockrun --refresh --key k -c 'touch ran; echo fresh'
    assert_refused_or_ran
    cmp outside.txt.orig outside.txt
    assert_nothing_held
}
