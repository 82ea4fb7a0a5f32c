#!/usr/bin/env bats
# --help and --version (SPEC §2).

load common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

@test "--help exits 0 and lists every option" {
    run --separate-stderr lockrun --help
    assert_status 0
    local option missing=()
    for option in -k --key -l --lease -w --wait -c -E --conflict-exit-code --on-lock-lost \
        --kill-after --redis --connect-timeout --io-timeout --prefix --no-cache -q -v \
        --version --help; do
        # As a word of its own: --key must not count as found inside --key-from-command.
        if ! [[ $output =~ (^|[^[:alnum:]-])$option([^[:alnum:]-]|$) ]]; then
            missing+=("$option")
        fi
    done
    assert_equal "missing from --help: ${missing[*]}" "missing from --help: "
}

@test "--help writes to stdout and nothing to stderr" {
    run --separate-stderr lockrun --help
    assert_status 0
    refute_output ''
    assert_equal "$stderr" ''
}

@test "--version prints a version and exits 0" {
    run --separate-stderr lockrun --version
    assert_status 0
    assert_regex "$output" '[0-9]+\.[0-9]+\.[0-9]+'
    assert_equal "$stderr" ''
}

@test "--help and --version need no backend" {
    export LOCKRUN_REDIS_URL=redis://127.0.0.1:$(free_port)
    run --separate-stderr lockrun --help
    assert_status 0
    run --separate-stderr lockrun --version
    assert_status 0
}
