#!/usr/bin/env bats
# The requests SPEC §5 counts, seen with strace(1): an uncontended run is a connection and
# two round trips (check-and-acquire, finish), a cache hit a connection and one, and its
# output one write.

# Redis only, whatever LOCKRUN_TEST_BACKEND says.
LOCKRUN_TEST_BACKEND=redis
load ../common
load ../strace_helpers
setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

@test "an uncontended Redis run: one connection and two requests (check-and-acquire, finish)" {
    # Once before: a server that does not know a script yet costs one more round trip,
    # once per script (EVALSHA answers NOSCRIPT, then EVAL).
    run lockrun --no-cache --key startup-hot -- true
    assert_status 0
    run traced --no-cache --key startup-hot --wait 10 -- true
    assert_status 0
    run grep -c '^connect(' trace
    assert_output 1
    run requests
    assert_output 2
}

@test "a Redis cache hit: one connection, one request, one write of the output" {
    run lockrun --key startup-hit -- echo hi
    assert_status 0
    run traced -q --key startup-hit -- echo hi
    assert_output hi
    run grep -c '^connect(' trace
    assert_output 1
    run requests
    assert_output 1
    run grep -c '^write(1,' trace
    assert_output 1
}
