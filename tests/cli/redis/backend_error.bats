#!/usr/bin/env bats
# --on-backend-error (SPEC §2, §3): with `run`, a Redis that cannot be reached is a warning
# and the command runs unguarded, its exit status returned; with `fail` (the default) it is
# exit 69 and nothing runs. A server that answers but rejects the password is not
# "unreachable": that is a configuration error (78) whatever --on-backend-error says. Only
# loopback ports are used; never an external address.

# Redis only, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=redis
load ../common
setup_file() {
    start_redis
    # A server that answers, and wants the password rightPW.
    start_server auth -a rightPW --no-auth-warning -- --requirepass rightPW
}
teardown_file() { stop_redis; }
setup() {
    per_test_setup
    export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg
    unset LOCKRUN_CONFIG
    # A port that nothing listens on: the Redis that cannot be reached.
    DOWN_URL=redis://127.0.0.1:$(free_port)
}
teardown() { per_test_teardown; }

# assert_one_warning REGEX: $stderr is one `lockrun:` line that matches REGEX.
assert_one_warning() {
    assert_one_error_line "$1"
}

# --- unreachable: run -------------------------------------------------------------------

@test "--on-backend-error run: the command runs, exit 0, one warning about running without a lock" {
    run --separate-stderr lockrun --redis "$DOWN_URL" --connect-timeout 1s --on-backend-error run \
        --key unguarded -c 'touch ran; echo out'
    assert_status 0
    assert_output out
    assert [ -e ran ]
    assert_one_warning 'without a lock'
}

@test "--on-backend-error run: the command's exit status is returned (3)" {
    run --separate-stderr lockrun --redis "$DOWN_URL" --connect-timeout 1s --on-backend-error run \
        --no-cache --key unguarded -c 'touch ran; exit 3'
    assert_status 3
    assert [ -e ran ]
    assert_one_warning 'without a lock'
}

@test "--on-backend-error run: the warning names the server, without its password" {
    LOCKRUN_REDIS_URL=${DOWN_URL/redis:\/\//redis://u:SECRETpw@} run --separate-stderr lockrun \
        --connect-timeout 1s --on-backend-error run --key unguarded -- touch ran
    assert_status 0
    assert [ -e ran ]
    assert_one_warning "$(printf '%s' "${DOWN_URL#redis://}" | sed 's/\./\\./g').*without a lock"
    if [[ $stderr == *SECRETpw* ]]; then
        fail "the password was printed: $stderr"
    fi
}

@test "--on-backend-error run: the command sees LOCKRUN_KEY" {
    run --separate-stderr lockrun --redis "$DOWN_URL" --connect-timeout 1s --on-backend-error run \
        --key unguarded-env -c 'printf %s "$LOCKRUN_KEY"'
    assert_status 0
    assert_output unguarded-env
}

@test "-q silences the running-without-a-lock warning" {
    run --separate-stderr lockrun -q --redis "$DOWN_URL" --connect-timeout 1s \
        --on-backend-error run --key unguarded -- touch ran
    assert_status 0
    assert [ -e ran ]
    assert_equal "$stderr" ''
}

# --- unreachable: fail ------------------------------------------------------------------

@test "the default is fail: 69, and the command did not run" {
    run --separate-stderr lockrun --redis "$DOWN_URL" --connect-timeout 1s --key unguarded -- touch ran
    assert_status 69
    assert_output ''
    assert [ ! -e ran ]
    assert_one_error_line "$(printf '%s' "${DOWN_URL#redis://}" | sed 's/\./\\./g')"
}

@test "--on-backend-error fail: 69, and the command did not run" {
    run --separate-stderr lockrun --redis "$DOWN_URL" --connect-timeout 1s --on-backend-error fail \
        --key unguarded -- touch ran
    assert_status 69
    assert [ ! -e ran ]
}

# --- where the setting comes from -------------------------------------------------------

@test "LOCKRUN_ON_BACKEND_ERROR=run works" {
    export LOCKRUN_ON_BACKEND_ERROR=run LOCKRUN_REDIS_URL=$DOWN_URL
    run --separate-stderr lockrun --connect-timeout 1s --key unguarded -c 'touch ran; exit 3'
    assert_status 3
    assert [ -e ran ]
    assert_one_warning 'without a lock'
}

@test "on-backend-error = \"run\" in the config file works" {
    mkdir -p -- "$XDG_CONFIG_HOME/lockrun"
    printf '%s\n' 'on-backend-error = "run"' 'connect-timeout = "1s"' \
        >"$XDG_CONFIG_HOME/lockrun/config.toml"
    run --separate-stderr lockrun --redis "$DOWN_URL" --key unguarded -c 'touch ran; exit 3'
    assert_status 3
    assert [ -e ran ]
    assert_one_warning 'without a lock'
}

@test "--on-backend-error fail overrides LOCKRUN_ON_BACKEND_ERROR=run" {
    export LOCKRUN_ON_BACKEND_ERROR=run
    run --separate-stderr lockrun --redis "$DOWN_URL" --connect-timeout 1s --on-backend-error fail \
        --key unguarded -- touch ran
    assert_status 69
    assert [ ! -e ran ]
}

@test "--on-backend-error maybe: 64" {
    assert_rejected 64 'on-backend-error.*maybe' --on-backend-error maybe --no-cache --key unguarded \
        -- touch ran
}

@test "LOCKRUN_ON_BACKEND_ERROR=maybe: 78, naming the variable" {
    export LOCKRUN_ON_BACKEND_ERROR=maybe
    assert_rejected 78 'LOCKRUN_ON_BACKEND_ERROR.*maybe' --no-cache --key unguarded -- touch ran
}

# --- a server that answers is not unreachable -------------------------------------------

@test "a rejected password is 78, not unreachable, even with --on-backend-error run" {
    export LOCKRUN_REDIS_URL=redis://127.0.0.1:$AUTH_PORT LOCKRUN_REDIS_PASSWORD=wrongPW
    run --separate-stderr lockrun --on-backend-error run --key guarded -- touch ran
    assert_status 78
    assert_output ''
    assert [ ! -e ran ]
    assert_one_error_line "127\\.0\\.0\\.1:$AUTH_PORT"
    if [[ $stderr == *wrongPW* || $stderr == *rightPW* ]]; then
        fail "a password was printed: $stderr"
    fi
}

@test "a rejected password is 78 with the default --on-backend-error too" {
    export LOCKRUN_REDIS_URL=redis://127.0.0.1:$AUTH_PORT LOCKRUN_REDIS_PASSWORD=wrongPW
    run --separate-stderr lockrun --key guarded -- touch ran
    assert_status 78
    assert [ ! -e ran ]
    assert_one_error_line "127\\.0\\.0\\.1:$AUTH_PORT"
}

@test "no password for a server that requires one is 78, even with --on-backend-error run" {
    run --separate-stderr lockrun --redis "redis://127.0.0.1:$AUTH_PORT" --on-backend-error run \
        --key guarded -- touch ran
    assert_status 78
    assert_output ''
    assert [ ! -e ran ]
    assert_one_error_line 'password'
}

@test "the right password works against the same server" {
    export LOCKRUN_REDIS_URL=redis://127.0.0.1:$AUTH_PORT LOCKRUN_REDIS_PASSWORD=rightPW
    run --separate-stderr lockrun --on-backend-error run --no-cache --key guarded -c 'touch ran; echo ok'
    assert_status 0
    assert_output ok
    assert [ -e ran ]
    assert_equal "$stderr" ''
}
