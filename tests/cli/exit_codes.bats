#!/usr/bin/env bats
# lockrun exits with the command's status; 127/126 when it cannot start; 128+N when a
# signal killed it (SPEC §3).

load common
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

@test "exit status 0 passes through" {
    run --separate-stderr lockrun --no-cache --key codes -c 'exit 0'
    assert_status 0
}

@test "exit status 3 passes through" {
    run --separate-stderr lockrun --no-cache --key codes -c 'exit 3'
    assert_status 3
}

@test "exit status 255 passes through" {
    run --separate-stderr lockrun --no-cache --key codes -c 'exit 255'
    assert_status 255
}

@test "exit status of an argv command passes through" {
    run --separate-stderr lockrun --no-cache --key codes -- sh -c 'exit 42'
    assert_status 42
}

@test "a command not on PATH exits 127 with one line naming it" {
    run -127 --separate-stderr lockrun --no-cache --key codes -- lockrun-test-no-such-command
    assert_output ''
    assert_one_error_line 'lockrun-test-no-such-command'
}

@test "a command path that does not exist exits 127" {
    run -127 --separate-stderr lockrun --no-cache --key codes -- ./missing-script
    assert_output ''
    assert_one_error_line 'missing-script'
}

@test "a command not found leaves nothing held" {
    run -127 --separate-stderr lockrun --no-cache --key codes -- lockrun-test-no-such-command
    assert_nothing_held
}

@test "a file that is not executable exits 126 with one line naming it" {
    printf '#!/bin/sh\necho ran\n' >not-executable.sh
    chmod 644 not-executable.sh
    run --separate-stderr lockrun --no-cache --key codes -- ./not-executable.sh
    assert_status 126
    assert_output ''
    assert_one_error_line 'not-executable\.sh'
}

@test "a non-executable command leaves nothing held" {
    printf '#!/bin/sh\necho ran\n' >not-executable.sh
    chmod 644 not-executable.sh
    run --separate-stderr lockrun --no-cache --key codes -- ./not-executable.sh
    assert_status 126
    assert_nothing_held
}

@test "a directory as the command exits 126" {
    mkdir a-directory
    run --separate-stderr lockrun --no-cache --key codes -- ./a-directory
    assert_status 126
    assert_one_error_line 'a-directory'
}

@test "a command killed by SIGTERM exits 143" {
    run --separate-stderr lockrun --no-cache --key codes -c 'kill -TERM $$'
    assert_status 143
}

@test "a command killed by SIGKILL exits 137" {
    run --separate-stderr lockrun --no-cache --key codes -c 'kill -KILL $$'
    assert_status 137
}

@test "a command killed by a signal leaves nothing held" {
    run --separate-stderr lockrun --no-cache --key codes -c 'kill -KILL $$'
    assert_status 137
    assert_nothing_held
}
