#!/usr/bin/env bats
# The local backend's state dir (SPEC §6, §2 --state-dir): created 0700 when missing; by
# default /tmp/lockrun-$UID whatever the session (never $XDG_RUNTIME_DIR, which cron does
# not set: the same user's cron job and login-shell job must exclude each other); an
# existing one that is a symlink, not owned by the user, or writable by group or others is
# refused with 78 and one `lockrun:` line that says how to fix it, before anything runs or
# is created.

# The local backend, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=local
load ../common
load default_dir
setup() { per_test_setup; }
teardown() {
    cleanup_default_dir
    per_test_teardown
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

@test "a umask that takes the owner's bits (0277) still makes the state dir 0700" {
    # lockrun 0.1 made it dr-x------: every run of a user then failed (root's did not).
    umask 0277
    run --separate-stderr lockrun --state-dir "$PWD/new-state" --key k -- echo ran
    assert_status 0
    assert_output ran
    assert_equal "mode $(mode new-state)" "mode 700"
}

@test "a state dir its owner cannot write (0500): 78, says to chmod 700" {
    mkdir -m 500 locked
    assert_state_dir_refused "$PWD/locked" 'not readable, writable and searchable by you \(mode 0500\); run: chmod 700'
}

@test "--state-dir wins over LOCKRUN_STATE_DIR" {
    mkdir -m 700 from-flag
    run --separate-stderr lockrun --state-dir "$PWD/from-flag" --no-cache --key k -- echo ran
    assert_status 0
    assert [ -e "$(state_file k lock "$PWD/from-flag")" ]
    assert_equal "entries: $(ls -A -- "$LOCKRUN_STATE_DIR")" "entries: "
}

@test "the default state dir is /tmp/lockrun-\$UID, mode 0700" {
    use_default_dir
    unset XDG_RUNTIME_DIR
    run --separate-stderr lockrun --no-cache --key "$DEFAULT_DIR_KEY" -- echo ran
    assert_status 0
    assert_output ran
    assert [ -f "$(state_file "$DEFAULT_DIR_KEY" lock "$DEFAULT_DIR")" ]
    assert_equal "mode $(mode "$DEFAULT_DIR")" "mode 700"
}

@test "XDG_RUNTIME_DIR does not move the default state dir" {
    use_default_dir
    mkdir -m 700 xdg
    export XDG_RUNTIME_DIR=$PWD/xdg
    run --separate-stderr lockrun --no-cache --key "$DEFAULT_DIR_KEY" -- echo ran
    assert_status 0
    assert_output ran
    assert [ -f "$(state_file "$DEFAULT_DIR_KEY" lock "$DEFAULT_DIR")" ]
    assert_equal "entries: $(ls -A xdg)" "entries: "
}

@test "one user's login-shell run and cron run exclude each other: the second gets 75" {
    use_default_dir
    local key=$DEFAULT_DIR_KEY
    # The login shell's run: a session with XDG_RUNTIME_DIR (like /run/user/UID).
    mkdir -m 700 run-user
    spawn shell env XDG_RUNTIME_DIR="$PWD/run-user" "$LOCKRUN" --no-cache --key "$key" \
        -c "$(hold_cmd shell)"
    wait_until 10 test -s shell.started
    # The cron job's run: the same user, no XDG_RUNTIME_DIR.
    run --separate-stderr env -u XDG_RUNTIME_DIR "$LOCKRUN" --no-cache --key "$key" -- touch ran
    assert_status 75
    assert [ ! -e ran ]
    release shell
    assert_exit shell 0 10

    # And the other way round: cron holds, the login shell finds it held.
    spawn cron env -u XDG_RUNTIME_DIR "$LOCKRUN" --no-cache --key "$key" -c "$(hold_cmd cron)"
    wait_until 10 test -s cron.started
    run --separate-stderr env XDG_RUNTIME_DIR="$PWD/run-user" "$LOCKRUN" --no-cache --key "$key" \
        -- touch ran
    assert_status 75
    assert [ ! -e ran ]
    release cron
    assert_exit cron 0 10
    assert_equal "entries: $(ls -A run-user)" "entries: "
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

@test "a state dir symlink named with a trailing /. is refused too" {
    mkdir -m 700 real
    ln -s "$PWD/real" link
    for dir in "$PWD/link/." "$PWD/link/./" "$PWD/link/./."; do
        run --separate-stderr lockrun --state-dir "$dir" --no-cache --key k -- touch ran
        assert_status 78
        assert_one_error_line "$PWD/link is a symlink"
    done
    assert [ ! -e ran ]
    assert_equal "entries: $(ls -A -- real/)" "entries: "
}

@test "a state dir that ends in .. is refused: it is not the directory named" {
    mkdir -m 700 real
    ln -s "$PWD/real" link
    run --separate-stderr lockrun --state-dir "$PWD/link/.." --no-cache --key k -- touch ran
    assert_status 78
    assert_one_error_line "ends in '\.\.'"
    assert [ ! -e ran ]
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
