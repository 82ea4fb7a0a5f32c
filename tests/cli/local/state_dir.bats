#!/usr/bin/env bats
# The local backend's state dir (SPEC §6, §2 --state-dir): created 0700 when missing; by
# default $XDG_RUNTIME_DIR/lockrun, else /tmp/lockrun-$UID; an existing one that is a
# symlink, not owned by the user, or writable by group or others is refused with 78 and one
# `lockrun:` line that says how to fix it, before anything runs or is created.

# The local backend, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=local
load ../common
setup() { per_test_setup; }
teardown() {
    cleanup_default_dir
    per_test_teardown
}

# The test of /tmp/lockrun-$UID sets these; teardown removes what that test created there,
# and the directory itself only when the test created it.
DEFAULT_DIR=
DEFAULT_DIR_EXISTED=
DEFAULT_DIR_KEY=
cleanup_default_dir() {
    [[ -n $DEFAULT_DIR ]] || return 0
    if [[ -n $DEFAULT_DIR_KEY && -d $DEFAULT_DIR && ! -L $DEFAULT_DIR ]]; then
        rm -f -- "$DEFAULT_DIR/$(key_hash "$DEFAULT_DIR_KEY")".*
    fi
    if [[ $DEFAULT_DIR_EXISTED == no ]]; then
        rmdir -- "$DEFAULT_DIR" 2>/dev/null || true
    fi
}

# mode PATH: PATH's permission bits in octal, as stat prints them (700, 1777).
mode() {
    stat -c %a -- "$1"
}

# assert_state_dir_refused DIR REGEX: `lockrun --state-dir DIR` exits 78 with one line naming
# DIR and matching REGEX, the command does not run, and DIR (followed, if it is a symlink)
# is as it was: same entries (none), same mode.
assert_state_dir_refused() {
    local dir=$1 regex=$2 mode_before
    mode_before=$(stat -L -c %a -- "$dir")
    run --separate-stderr lockrun --state-dir "$dir" --no-cache --key k -- touch ran
    assert_status 78
    assert_output ''
    assert_one_error_line "$regex"
    if [[ $stderr != *"${dir%/}"* ]]; then
        fail "the error does not name ${dir%/}: $stderr"
    fi
    assert [ ! -e ran ]
    assert_equal "entries: $(ls -A -- "$dir/")" "entries: "
    assert_equal "mode $(stat -L -c %a -- "$dir")" "mode $mode_before"
}

@test "a missing state dir is created with mode 0700, whatever the umask" {
    umask 000
    run --separate-stderr lockrun --state-dir "$PWD/new-state" --key k -- echo ran
    assert_status 0
    assert_output ran
    assert_equal "mode $(mode new-state)" "mode 700"
    assert_equal "owner $(stat -c %u new-state)" "owner $(id -u)"
    assert [ -f "$(state_file k lock "$PWD/new-state")" ]
    # Nor any file in it open to group or others.
    assert_equal "$(find new-state -perm /077)" ''
}

@test "--state-dir wins over LOCKRUN_STATE_DIR" {
    mkdir -m 700 from-flag
    run --separate-stderr lockrun --state-dir "$PWD/from-flag" --no-cache --key k -- echo ran
    assert_status 0
    assert [ -e "$(state_file k lock "$PWD/from-flag")" ]
    assert_equal "entries: $(ls -A -- "$LOCKRUN_STATE_DIR")" "entries: "
}

@test "the default state dir is \$XDG_RUNTIME_DIR/lockrun" {
    unset LOCKRUN_STATE_DIR
    mkdir -m 700 xdg
    export XDG_RUNTIME_DIR=$PWD/xdg
    run --separate-stderr lockrun --no-cache --key k -- echo ran
    assert_status 0
    assert_output ran
    assert_equal "mode $(mode xdg/lockrun)" "mode 700"
    assert [ -f "$(state_file k lock "$PWD/xdg/lockrun")" ]
}

@test "without XDG_RUNTIME_DIR the default state dir is /tmp/lockrun-\$UID" {
    unset LOCKRUN_STATE_DIR XDG_RUNTIME_DIR
    DEFAULT_DIR=/tmp/lockrun-$(id -u)
    if [[ -e $DEFAULT_DIR || -L $DEFAULT_DIR ]]; then
        DEFAULT_DIR_EXISTED=yes
    else
        DEFAULT_DIR_EXISTED=no
    fi
    # A key of its own, so that the files it leaves in a dir that was there are ours alone.
    DEFAULT_DIR_KEY=bats-default-dir-$$-$RANDOM
    run --separate-stderr lockrun --no-cache --key "$DEFAULT_DIR_KEY" -- echo ran
    assert_status 0
    assert_output ran
    assert [ -f "$(state_file "$DEFAULT_DIR_KEY" lock "$DEFAULT_DIR")" ]
    assert_equal "mode $(mode "$DEFAULT_DIR")" "mode 700"
}

@test "a group- and world-readable state dir (0755) is accepted" {
    mkdir -m 755 readable
    run --separate-stderr lockrun --state-dir "$PWD/readable" --no-cache --key k -- echo ran
    assert_status 0
    assert_output ran
}

@test "a state dir writable by everyone (0777): 78, says to chmod 700" {
    mkdir -m 777 open
    assert_state_dir_refused "$PWD/open" 'chmod 700'
}

@test "a state dir writable by the group (0770): 78, says to chmod 700" {
    mkdir -m 770 group
    assert_state_dir_refused "$PWD/group" 'chmod 700'
}

@test "a state dir writable by others only (0702): 78" {
    mkdir -m 702 others
    assert_state_dir_refused "$PWD/others" 'chmod 700'
}

@test "a state dir that is a symlink to a good dir: 78, and the dir stays empty" {
    mkdir -m 700 real
    ln -s "$PWD/real" link
    assert_state_dir_refused "$PWD/link" 'symlink.*(remove|--state-dir)'
}

@test "a state dir symlink named with a trailing slash is refused too" {
    mkdir -m 700 real
    ln -s "$PWD/real" link
    assert_state_dir_refused "$PWD/link/" 'symlink.*(remove|--state-dir)'
}

@test "a state dir owned by another user: 78, says to remove it or use --state-dir" {
    if (($(id -u) == 0)); then
        mkdir -m 700 foreign
        chown nobody foreign
        assert_state_dir_refused "$PWD/foreign" 'remove|--state-dir'
    else
        # Only root can give a directory away; / is root's, not writable by us.
        run --separate-stderr lockrun --state-dir / --no-cache --key k -- touch ran
        assert_status 78
        assert_one_error_line 'remove|--state-dir'
        assert [ ! -e ran ]
    fi
}

@test "a state dir that is a regular file: 78" {
    touch a-file
    run --separate-stderr lockrun --state-dir "$PWD/a-file" --no-cache --key k -- touch ran
    assert_status 78
    assert_output ''
    assert_one_error_line 'a-file'
    assert [ ! -e ran ]
}

@test "a state dir whose parent does not exist: 78, nothing created" {
    run --separate-stderr lockrun --state-dir "$PWD/missing/state" --no-cache --key k -- touch ran
    assert_status 78
    assert_output ''
    assert_one_error_line 'missing/state'
    assert [ ! -e ran ]
    assert [ ! -e missing ]
}

@test "an unsafe LOCKRUN_STATE_DIR is refused like --state-dir" {
    chmod 777 "$LOCKRUN_STATE_DIR"
    run --separate-stderr lockrun --no-cache --key k -- touch ran
    assert_status 78
    assert_one_error_line 'chmod 700'
    assert [ ! -e ran ]
    assert_equal "entries: $(ls -A -- "$LOCKRUN_STATE_DIR")" "entries: "
}

@test "status on an unsafe state dir: 78 too" {
    chmod 770 "$LOCKRUN_STATE_DIR"
    run --separate-stderr lockrun status k
    assert_status 78
    assert_output ''
    assert_one_error_line 'chmod 700'
}
