#!/usr/bin/env bats
# Where settings come from (SPEC §2): flags > LOCKRUN_* environment > the TOML config file >
# defaults; `lockrun config` shows each value and its origin, never a password; a bad config
# file, variable or value is one `lockrun:` line and exit 78 (a bad flag: 64). Runs against
# either backend: no config file here names a backend or a server that lockrun would use.

load common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() {
    per_test_setup
    # A user config directory of this test's own; the file in it only when a test writes it.
    export XDG_CONFIG_HOME=$BATS_TEST_TMPDIR/xdg
    mkdir -p -- "$XDG_CONFIG_HOME/lockrun"
    USER_CONFIG=$XDG_CONFIG_HOME/lockrun/config.toml
    unset LOCKRUN_CONFIG
}
teardown() { per_test_teardown; }

# write_config FILE LINE...: FILE holds the LINEs.
write_config() {
    local file=$1
    shift
    printf '%s\n' "$@" >"$file"
}

# re TEXT: TEXT as an extended regex that matches it literally (for paths in messages).
re() {
    printf '%s' "$1" | sed 's/[][\.*^$+?(){}|/]/\\&/g'
}

# lease_seen LOCKRUN-OPTIONS...: runs a command that prints the LOCKRUN_LEASE_MS it sees.
lease_seen() {
    run --separate-stderr lockrun --no-cache "$@" --key config-lease -c 'printf %s "$LOCKRUN_LEASE_MS"'
}

# assert_origin NAME VALUE ORIGIN: `lockrun config` ($output) shows NAME = VALUE with ORIGIN.
assert_origin() {
    assert_line --regexp "^$(re "$1 = $2") +# $(re "$3")\$"
}

# assert_secret_hidden SECRET: the output of the last `lockrun ... >out 2>&1` (file out)
# does not contain SECRET.
assert_secret_hidden() {
    run grep -F -- "$1" out
    if [[ $status != 1 ]]; then
        fail "the secret '$1' was printed: $output"
    fi
}

# --- precedence, as the command sees it -------------------------------------------------

@test "a config file in XDG_CONFIG_HOME sets the lease" {
    write_config "$USER_CONFIG" '# lockrun' 'lease = "2500ms"'
    lease_seen
    assert_status 0
    assert_output 2500
}

@test "LOCKRUN_LEASE overrides the config file" {
    write_config "$USER_CONFIG" 'lease = "2500ms"'
    LOCKRUN_LEASE=3s lease_seen
    assert_status 0
    assert_output 3000
}

@test "--lease overrides LOCKRUN_LEASE and the config file" {
    write_config "$USER_CONFIG" 'lease = "2500ms"'
    LOCKRUN_LEASE=3s lease_seen --lease 4s
    assert_status 0
    assert_output 4000
}

@test "a duration in the file may be an integer of seconds" {
    write_config "$USER_CONFIG" 'lease = 7'
    lease_seen
    assert_status 0
    assert_output 7000
}

@test "--config FILE is read instead of the user's file" {
    write_config "$USER_CONFIG" 'lease = "1s"'
    write_config other.toml 'lease = "2500ms"'
    lease_seen --config other.toml
    assert_status 0
    assert_output 2500
}

@test "LOCKRUN_CONFIG=FILE is read instead of the user's file" {
    write_config "$USER_CONFIG" 'lease = "1s"'
    write_config other.toml 'lease = "2500ms"'
    LOCKRUN_CONFIG=$PWD/other.toml lease_seen
    assert_status 0
    assert_output 2500
}

@test "--config /dev/null and LOCKRUN_CONFIG=/dev/null: the defaults, without the user's file" {
    write_config "$USER_CONFIG" 'lease = "1s"'
    lease_seen --config /dev/null
    assert_status 0
    assert_output 30000
    LOCKRUN_CONFIG=/dev/null lease_seen
    assert_status 0
    assert_output 30000
}

@test "--config wins over LOCKRUN_CONFIG" {
    write_config named.toml 'lease = "1s"'
    write_config flagged.toml 'lease = "2500ms"'
    LOCKRUN_CONFIG=$PWD/named.toml lease_seen --config flagged.toml
    assert_status 0
    assert_output 2500
}

@test "a switch in the file: no-cache = true runs the command every time" {
    write_config "$USER_CONFIG" 'no-cache = true'
    run --separate-stderr lockrun --key config-switch -c 'echo run >>runs'
    assert_status 0
    run --separate-stderr lockrun --key config-switch -c 'echo run >>runs'
    assert_status 0
    assert_equal "$(wc -l <runs)" 2
}

@test "LOCKRUN_NO_CACHE=0 turns the file's no-cache = true off" {
    write_config "$USER_CONFIG" 'no-cache = true'
    export LOCKRUN_NO_CACHE=0
    run --separate-stderr lockrun --key config-switch-off -c 'echo run >>runs; echo out'
    assert_status 0
    run --separate-stderr lockrun --key config-switch-off -c 'echo run >>runs; echo out'
    assert_status 0
    assert_output out
    assert_equal "$(wc -l <runs)" 1
}

# --- lockrun config ---------------------------------------------------------------------

@test "lockrun config shows the lease's origin: flag, environment, file, default" {
    run --separate-stderr lockrun config
    assert_status 0
    assert_origin lease '"30s"' default
    if [[ -f /etc/lockrun/config.toml ]]; then
        assert_line '# config file: /etc/lockrun/config.toml'
    else
        assert_line '# config file: none'
    fi

    write_config "$USER_CONFIG" '# lockrun' '' 'lease = "2500ms"'
    run --separate-stderr lockrun config
    assert_status 0
    assert_origin lease '"2500ms"' "file $USER_CONFIG:3"
    assert_line "# config file: $USER_CONFIG"

    LOCKRUN_LEASE=3s run --separate-stderr lockrun config
    assert_status 0
    assert_origin lease '"3s"' 'environment LOCKRUN_LEASE'

    LOCKRUN_LEASE=3s run --separate-stderr lockrun config --lease 4s
    assert_status 0
    assert_origin lease '"4s"' 'flag --lease'
    assert_equal "$stderr" ''
}

@test "lockrun config shows every setting once, each with its origin" {
    write_config other.toml 'cache-ttl = "10m"' 'no-cache = true' 'conflict-exit-code = 3'
    LOCKRUN_WAIT=5s run --separate-stderr lockrun --kill-after 3s config --config other.toml
    assert_status 0
    assert_line "# config file: other.toml"
    assert_origin cache-ttl '"10m"' 'file other.toml:1'
    assert_origin no-cache true 'file other.toml:2'
    assert_origin conflict-exit-code 3 'file other.toml:3'
    assert_origin wait '"5s"' 'environment LOCKRUN_WAIT'
    assert_origin kill-after '"3s"' 'flag --kill-after'
    assert_origin on-lock-lost '"term"' default
    local name count
    for name in backend redis redis-password-file tls-ca-file tls-cert-file tls-key-file \
        tls-server-name connect-timeout io-timeout prefix state-dir on-backend-error lease wait \
        conflict-exit-code on-lock-lost kill-after no-cache cache-ttl cache-failures \
        cache-stderr cache-max-bytes key-from-command quiet verbose; do
        count=$(grep -cE "^$name = .* # (flag|environment|file|default)" <<<"$output" || true)
        if [[ $count != 1 ]]; then
            fail "lockrun config shows '$name' $count times:
$output"
        fi
    done
}

@test "lockrun config never shows the password of --redis" {
    lockrun config --redis 'redis://u:SECRETpw@db.example:6380/1' >out 2>&1
    assert_secret_hidden SECRETpw
    run grep -E '^redis = "redis://u:\*\*\*@db\.example:6380/1" +# flag --redis$' out
    assert_success
}

@test "lockrun config never shows the password of LOCKRUN_REDIS_URL" {
    LOCKRUN_REDIS_URL='redis://u:SECRETpw@db.example:6380' lockrun config >out 2>&1
    assert_secret_hidden SECRETpw
    run grep -E '^redis = .*# environment LOCKRUN_REDIS_URL$' out
    assert_success
}

@test "lockrun config never shows the password of the config file's redis" {
    unset LOCKRUN_REDIS_URL
    write_config "$USER_CONFIG" 'redis = "redis://u:SECRETpw@h:1"'
    lockrun config >out 2>&1
    assert_secret_hidden SECRETpw
    run grep -F "# file $USER_CONFIG:1" out
    assert_success
}

@test "lockrun config never shows LOCKRUN_REDIS_PASSWORD" {
    LOCKRUN_REDIS_PASSWORD=SECRETpw lockrun config >out 2>&1
    assert_secret_hidden SECRETpw
    run grep -F LOCKRUN_REDIS_PASSWORD out
    assert_success
}

@test "lockrun config never shows the password of a URL that does not parse" {
    lockrun config --redis 'redis://u:SECRETpw@h:notaport' >out 2>&1
    assert_secret_hidden SECRETpw
}

@test "a password in --redis: one warning that ps shows it, without the password" {
    local port
    port=$(free_port)
    run --separate-stderr lockrun --backend redis --redis "redis://u:SECRETpw@127.0.0.1:$port" \
        --connect-timeout 1s --no-cache --key config-ps -- touch ran
    assert_status 69
    assert [ ! -e ran ]
    if [[ $stderr == *SECRETpw* ]]; then
        fail "the password was printed: $stderr"
    fi
    local line warnings=0
    while IFS= read -r line; do
        if [[ $line =~ (^|[^a-z])ps([^a-z]|$) ]]; then
            warnings=$((warnings + 1))
            assert [ "${line#lockrun: }" != "$line" ]
        fi
    done <<<"$stderr"
    assert_equal "ps warnings: $warnings" 'ps warnings: 1'
}

@test "a password in LOCKRUN_REDIS_URL: no ps warning" {
    local port
    port=$(free_port)
    LOCKRUN_REDIS_URL="redis://u:SECRETpw@127.0.0.1:$port" run --separate-stderr lockrun \
        --backend redis --connect-timeout 1s --no-cache --key config-ps -- touch ran
    assert_status 69
    assert_one_error_line "127\\.0\\.0\\.1:$port"
    if [[ $stderr == *SECRETpw* ]]; then
        fail "the password was printed: $stderr"
    fi
}

# --- errors -----------------------------------------------------------------------------

@test "an unknown key in the file: 78, naming file:line and the key" {
    write_config "$USER_CONFIG" 'lease = "1s"' 'leese = "2s"'
    assert_rejected 78 "$(re "$USER_CONFIG"):2.*leese" --no-cache --key config-bad -- touch ran
}

@test "a run-only key in the file is unknown: 78" {
    write_config "$USER_CONFIG" 'key = "nightly"'
    assert_rejected 78 "$(re "$USER_CONFIG"):1.*key" --no-cache --key config-bad -- touch ran
}

@test "malformed TOML: 78, naming file:line" {
    write_config "$USER_CONFIG" 'lease = "1s"' 'wait = '
    assert_rejected 78 "$(re "$USER_CONFIG"):2" --no-cache --key config-bad -- touch ran
}

@test "a value of the wrong type in the file: 78, naming file:line and the key" {
    write_config "$USER_CONFIG" '' 'lease = true'
    assert_rejected 78 "$(re "$USER_CONFIG"):2.*lease" --no-cache --key config-bad -- touch ran
}

@test "a bad value in the file: 78, naming file:line and the key" {
    write_config "$USER_CONFIG" 'wait = "soon"'
    assert_rejected 78 "$(re "$USER_CONFIG"):1.*wait.*soon" --no-cache --key config-bad -- touch ran
}

@test "a lease below 100ms in the file: 78; from a flag: 64" {
    write_config "$USER_CONFIG" 'lease = "50ms"'
    assert_rejected 78 "$(re "$USER_CONFIG"):1.*lease" --no-cache --key config-bad -- touch ran
    assert_rejected 64 '--lease' --lease 20ms --no-cache --key config-bad -- touch ran
}

@test "a missing --config file: 78, naming it" {
    assert_rejected 78 'absent\.toml' --config absent.toml --no-cache --key config-bad -- touch ran
}

@test "a --config directory or device: 78, saying what it is" {
    assert_rejected 78 "^lockrun: --config $(re "$PWD"): a directory, not a TOML file$" \
        --config "$PWD" --no-cache --key config-bad -- touch ran
    assert_rejected 78 '^lockrun: --config /dev/zero: not a regular file$' \
        --config /dev/zero --no-cache --key config-bad -- touch ran
}

@test "a missing LOCKRUN_CONFIG file: 78, naming the variable" {
    export LOCKRUN_CONFIG=$PWD/absent.toml
    assert_rejected 78 'LOCKRUN_CONFIG' --no-cache --key config-bad -- touch ran
}

@test "a config file that cannot be read: 78, naming it and why" {
    # /proc/self/mem is a regular file whose first page no process has mapped: read fails.
    assert_rejected 78 '^lockrun: /proc/self/mem: cannot be read: Input/output error$' \
        --config /proc/self/mem --no-cache --key config-bad -- touch ran
}

@test "a config file over 1 MiB: 78, naming it" {
    head -c 1100000 /dev/zero | tr '\0' '#' >big.toml
    assert_rejected 78 'big\.toml: larger than 1 MiB' --config big.toml --no-cache --key config-bad -- touch ran
}

@test "a bad value in the environment: 78, naming the variable" {
    export LOCKRUN_WAIT=soon
    assert_rejected 78 'LOCKRUN_WAIT.*soon' --no-cache --key config-bad -- touch ran
}

@test "a bad switch in the environment: 78, naming the variable" {
    export LOCKRUN_NO_CACHE=maybe
    assert_rejected 78 'LOCKRUN_NO_CACHE.*maybe' --key config-bad -- touch ran
}

@test "a bad value from a flag: 64, naming the flag" {
    export LOCKRUN_WAIT=1s
    assert_rejected 64 '--wait.*soon' --wait soon --no-cache --key config-bad -- touch ran
}

@test "a bad config file stops lockrun config too" {
    write_config "$USER_CONFIG" 'leese = "2s"'
    run --separate-stderr lockrun config
    assert_status 78
    assert_output ''
    assert_one_error_line "$(re "$USER_CONFIG"):1.*leese"
}
