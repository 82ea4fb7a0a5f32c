#!/usr/bin/env bats
# Logging in to Redis (SPEC §2 --redis, --redis-password-file, LOCKRUN_REDIS_PASSWORD): the
# password from the URL, a file or the environment; an ACL user from the URL. A password the
# server rejects, or one that is missing, exits 78 (SPEC §3) with one line that says what to
# check, and no message ever shows a password.
#
# setup_file starts a private redis-server with --requirepass and an ACL user on a free
# loopback port, stopped by PID in teardown_file.

# Redis only, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=redis
load ../common

PASSWORD=s3cret
APP_PASSWORD=apppass
WRONG_PASSWORD=wr0ng-pa55


# The server's own client, logged in as the default user (the password stays out of argv).
acli() {
    REDISCLI_AUTH=$PASSWORD redis-cli -p "$AUTH_PORT" "$@"
}

setup_file() {
    REDISCLI_AUTH=$PASSWORD start_server auth -- --requirepass "$PASSWORD"
    assert_equal "$(acli ACL SETUSER app on ">$APP_PASSWORD" '~*' '&*' '+@all')" OK
}

teardown_file() { stop_redis; }

setup() {
    cd "$BATS_TEST_TMPDIR" || return 1
    URL=redis://127.0.0.1:$AUTH_PORT
}

# refute_secrets: neither stdout nor stderr of the last `run` shows any password.
refute_secrets() {
    local secret
    for secret in "$PASSWORD" "$APP_PASSWORD" "$WRONG_PASSWORD"; do
        if grep -qF -- "$secret" <<<"$output"$'\n'"${stderr-}"; then
            fail "a password appears in the output: $output ${stderr-}"
        fi
    done
}

# assert_login_rejected REGEX: exit 78, one stderr line matching REGEX, nothing on stdout,
# the command not run, no password shown.
assert_login_rejected() {
    assert_status 78
    assert_output ''
    assert_one_error_line "$1"
    assert [ ! -e ran ]
    refute_secrets
}

@test "the password in the URL logs in" {
    LOCKRUN_REDIS_URL=redis://:$PASSWORD@127.0.0.1:$AUTH_PORT \
        run --separate-stderr lockrun --key url-password -- echo ran
    assert_status 0
    assert_output ran
    assert_regex "$(acli GET 'lockrun:{url-password}:fence')" '^[0-9]{13}$' # a fence starts from the clock (ms)
}

@test "LOCKRUN_REDIS_PASSWORD logs in" {
    LOCKRUN_REDIS_PASSWORD=$PASSWORD run --separate-stderr lockrun --redis "$URL" --key env-password -- echo ran
    assert_status 0
    assert_output ran
    assert_equal "$stderr" ''
    assert_regex "$(acli GET 'lockrun:{env-password}:fence')" '^[0-9]{13}$' # a fence starts from the clock (ms)
}

@test "--redis-password-file logs in (its line end is not part of the password)" {
    printf '%s\n' "$PASSWORD" >password
    run --separate-stderr lockrun --redis "$URL" --redis-password-file password --key file-password -- echo ran
    assert_status 0
    assert_output ran
    assert_equal "$stderr" ''
    assert_regex "$(acli GET 'lockrun:{file-password}:fence')" '^[0-9]{13}$' # a fence starts from the clock (ms)
}

@test "a password in the URL wins over LOCKRUN_REDIS_PASSWORD" {
    LOCKRUN_REDIS_URL=redis://:$PASSWORD@127.0.0.1:$AUTH_PORT LOCKRUN_REDIS_PASSWORD=$WRONG_PASSWORD \
        run --separate-stderr lockrun --no-cache --key k -- echo ran
    assert_status 0
    assert_output ran
}

@test "a wrong password in the URL: exit 78, rejected, the password not shown" {
    LOCKRUN_REDIS_URL=redis://:$WRONG_PASSWORD@127.0.0.1:$AUTH_PORT \
        run --separate-stderr lockrun --no-cache --key k -- touch ran
    assert_login_rejected "redis://:\\*\\*\\*@127\\.0\\.0\\.1:$AUTH_PORT rejected the login: WRONGPASS"
}

@test "a wrong LOCKRUN_REDIS_PASSWORD: exit 78, the password not shown" {
    LOCKRUN_REDIS_PASSWORD=$WRONG_PASSWORD run --separate-stderr lockrun --redis "$URL" --no-cache --key k -- touch ran
    assert_login_rejected 'rejected the login: WRONGPASS.*check the user and the password'
}

@test "a wrong password in --redis-password-file: exit 78, the password not shown" {
    printf '%s\n' "$WRONG_PASSWORD" >password
    run --separate-stderr lockrun --redis "$URL" --redis-password-file password --no-cache --key k -- touch ran
    assert_login_rejected 'rejected the login'
}

@test "a wrong password with --on-backend-error run: still exit 78, the command not run" {
    LOCKRUN_REDIS_PASSWORD=$WRONG_PASSWORD run --separate-stderr lockrun --redis "$URL" \
        --on-backend-error run --no-cache --key k -- touch ran
    assert_login_rejected 'rejected the login'
}

@test "no password for a server that wants one: exit 78, saying how to give one" {
    run --separate-stderr lockrun --redis "$URL" --no-cache --key k -- touch ran
    assert_login_rejected "redis://127\\.0\\.0\\.1:$AUTH_PORT requires a password, and none was given \\(give it .*--redis-password-file"
    # Not the server's own words for it: a protocol error reads as a bug.
    refute_regex "$stderr" 'Protocol error|multibulk'
}

@test "no password, with a db in the URL: exit 78, saying how to give one" {
    run --separate-stderr lockrun --redis "$URL/2" --no-cache --key k -- touch ran
    assert_login_rejected "requires a password, and none was given \\(give it .*LOCKRUN_REDIS_PASSWORD"
}

@test "no password, for a subcommand: exit 78, saying how to give one" {
    run --separate-stderr lockrun --redis "$URL" status k
    assert_status 78
    assert_one_error_line 'requires a password'
}

@test "a --redis-password-file that does not exist: exit 78, naming it" {
    run --separate-stderr lockrun --redis "$URL" --redis-password-file "$BATS_TEST_TMPDIR/absent" \
        --no-cache --key k -- touch ran
    assert_login_rejected '--redis-password-file .*/absent'
}

@test "a --redis-password-file that cannot be read (a directory): exit 78, naming it" {
    mkdir passwords
    run --separate-stderr lockrun --redis "$URL" --redis-password-file passwords --no-cache --key k -- touch ran
    assert_login_rejected '--redis-password-file passwords'
}

@test "an ACL user and its password in the URL log in" {
    LOCKRUN_REDIS_URL=redis://app:$APP_PASSWORD@127.0.0.1:$AUTH_PORT \
        run --separate-stderr lockrun --key acl-user -- echo ran
    assert_status 0
    assert_output ran
    assert_regex "$(acli GET 'lockrun:{acl-user}:fence')" '^[0-9]{13}$' # a fence starts from the clock (ms)
}

@test "an ACL user with LOCKRUN_REDIS_PASSWORD logs in (user:@, as redis://app@ is a password now)" {
    LOCKRUN_REDIS_PASSWORD=$APP_PASSWORD run --separate-stderr lockrun --redis "redis://app:@127.0.0.1:$AUTH_PORT" \
        --no-cache --key k -- echo ran
    assert_status 0
    assert_output ran
}

@test "an unknown ACL user: exit 78, naming the user, no password shown" {
    LOCKRUN_REDIS_URL=redis://nobody:$APP_PASSWORD@127.0.0.1:$AUTH_PORT \
        run --separate-stderr lockrun --no-cache --key k -- touch ran
    assert_login_rejected "rejected the login of user 'nobody'"
}

@test "an ACL user with the wrong password: exit 78, no password shown" {
    LOCKRUN_REDIS_URL=redis://app:$WRONG_PASSWORD@127.0.0.1:$AUTH_PORT \
        run --separate-stderr lockrun --no-cache --key k -- touch ran
    assert_login_rejected "rejected the login of user 'app'"
}

@test "a user that may not run lockrun's commands: exit 78, check its ACL" {
    assert_equal "$(acli ACL SETUSER reader on '>readpass' '~*' '+get')" OK
    LOCKRUN_REDIS_URL=redis://reader:readpass@127.0.0.1:$AUTH_PORT \
        run --separate-stderr lockrun --no-cache --key k -- touch ran
    assert_status 78
    assert_one_error_line 'NOPERM.*check the ACL'
    assert [ ! -e ran ]
}
