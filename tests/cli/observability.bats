#!/usr/bin/env bats
# What an operator sees of a run: --metrics-file (read back with a real parser of the
# Prometheus exposition format), --log-format json, and the debug lines of -vv.

load common

setup_file() { start_redis; }
teardown_file() { stop_redis; }
setup() { per_test_setup; }
teardown() { per_test_teardown; }

# parse_metrics FILE: one "name{labels} value" line per sample, through prometheus_client's
# own text parser (Debian's python3-prometheus-client, on the system python).
parse_metrics() {
    /usr/bin/python3 - "$1" <<'PY'
import sys
from prometheus_client.parser import text_string_to_metric_families
with open(sys.argv[1]) as f:
    for family in text_string_to_metric_families(f.read()):
        for s in family.samples:
            labels = ",".join(f'{k}={v}' for k, v in sorted(s.labels.items()))
            print(f"{s.name}{{{labels}}} {s.value:g}")
PY
}

@test "--metrics-file after a run: outcome ran, exit code, fence, durations" {
    run --separate-stderr lockrun --no-cache -k metrics:1 --metrics-file m.prom -c 'sleep 0.2; exit 3'
    assert_status 3
    run parse_metrics m.prom
    assert_success
    assert_line 'lockrun_outcome{key=metrics:1,outcome=ran} 1'
    assert_line 'lockrun_outcome{key=metrics:1,outcome=cache_hit} 0'
    assert_line 'lockrun_exit_code{key=metrics:1} 3'
    # Fencing tokens start from the clock in milliseconds: printed as %g, 1.79601e+12.
    assert_line --regexp '^lockrun_fencing_token\{key=metrics:1\} [1-9][0-9.]*(e\+[0-9]+)?$'
    assert_line --regexp '^lockrun_run_seconds\{key=metrics:1\} 0\.[2-9]'
    assert_line --regexp '^lockrun_wait_seconds\{key=metrics:1\} '
    assert_line --regexp '^lockrun_timestamp_seconds\{key=metrics:1\} 1\.[0-9]+e\+09$'
}

@test "--metrics-file after a cache hit and after a conflict" {
    lockrun -k metrics:2 -- echo cached >/dev/null
    run --separate-stderr lockrun -k metrics:2 --metrics-file hit.prom -- echo never
    assert_output cached
    run parse_metrics hit.prom
    assert_line 'lockrun_outcome{key=metrics:2,outcome=cache_hit} 1'
    assert_line 'lockrun_run_seconds{key=metrics:2} 0'

    start_holder holder -k metrics:3
    run lockrun --no-cache -k metrics:3 --metrics-file conflict.prom -- true
    assert_status 75
    release holder
    run parse_metrics conflict.prom
    assert_line 'lockrun_outcome{key=metrics:3,outcome=conflict} 1'
    assert_line 'lockrun_exit_code{key=metrics:3} 75'
}

@test "--metrics-file after a lost lock says lost" {
    spawn holder "$LOCKRUN" --no-cache --lease 1s -k metrics:4 --metrics-file lost.prom -c 'touch started; sleep 20'
    wait_until 10 test -e started
    force_release metrics:4
    assert_exit holder 76 10
    run parse_metrics lost.prom
    assert_line 'lockrun_outcome{key=metrics:4,outcome=lost} 1'
    assert_line 'lockrun_exit_code{key=metrics:4} 76'
}

@test "--metrics-file escapes the key as a label value" {
    key='we"ird\key'
    lockrun --no-cache -k "$key" --metrics-file m.prom -- true
    run parse_metrics m.prom
    assert_success
    assert_line "lockrun_outcome{key=$key,outcome=ran} 1"
}

@test "--metrics-file is replaced whole: no temporary file is left beside it" {
    lockrun --no-cache -k metrics:5 --metrics-file m.prom -- true
    lockrun --no-cache -k metrics:5 --metrics-file m.prom -- true
    run ls -A
    assert_output --partial m.prom
    refute_output --partial .tmp
}

@test "an unwritable --metrics-file is one warning, not a failed run" {
    run --separate-stderr lockrun --no-cache -k metrics:6 --metrics-file /nonexistent/dir/m.prom -- echo ran
    assert_status 0
    assert_output ran
    assert_one_error_line 'metrics-file'
}

@test "--log-format json: every stderr line is a JSON object with level and message" {
    run --separate-stderr lockrun -vv --log-format json -k json:1 -- echo out
    assert_status 0
    assert_output out
    [ -n "$stderr" ]
    run jq -e -s 'length > 0 and all(.[]; has("time") and has("level") and (.message | type == "string"))' <<<"$stderr"
    assert_success
}

@test "--log-format json: an error is a JSON line too" {
    run --separate-stderr lockrun --log-format json --backend redis --redis 'redis://127.0.0.1:1' -k j -- true
    assert_status 69
    run jq -r 'select(.level == "error") | .message' <<<"$stderr"
    assert_output --partial 'cannot reach'
}

@test "-vv logs each decision: acquired with its fence, stored, released" {
    run --separate-stderr lockrun -vv -k debug:1 -- echo hi
    assert_status 0
    [[ $stderr == *"acquired debug:1 with fence "* ]]
    [[ $stderr == *"storing "*" bytes for debug:1"* ]]
    [[ $stderr == *"released debug:1"* ]]
    run --separate-stderr lockrun -vv -k debug:1 -- echo hi
    [[ $stderr == *"cache hit for debug:1"* ]]
}

@test "-vv logs the lease renewals" {
    run --separate-stderr lockrun -vv --no-cache --lease 300ms -k debug:2 -- sleep 0.5
    assert_status 0
    [[ $stderr == *"renewed the lease of debug:2"* ]]
}

@test "without -v lockrun says nothing on success" {
    run --separate-stderr lockrun -k quiet:1 -- echo hi
    assert_output hi
    [ -z "$stderr" ]
}
