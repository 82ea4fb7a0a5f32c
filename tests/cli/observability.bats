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

@test "--metrics-file after a run: outcome, exit code, fence and durations, labelled job=<file>" {
    run --separate-stderr lockrun --no-cache -k metrics:1 --metrics-file m.prom -c 'sleep 0.2; exit 3'
    assert_status 3
    run parse_metrics m.prom
    assert_success
    assert_line 'lockrun_outcome{job=m,outcome=ran} 1'
    assert_line 'lockrun_outcome{job=m,outcome=cache_hit} 0'
    assert_line 'lockrun_runs_total{job=m,outcome=ran} 1'
    assert_line 'lockrun_exit_code{job=m} 3'
    # A failure is not a success: never succeeded is 0.
    assert_line 'lockrun_last_success_timestamp_seconds{job=m} 0'
    assert_line --regexp '^lockrun_fencing_token\{job=m\} [1-9][0-9.]*(e\+[0-9]+)?$'
    assert_line --regexp '^lockrun_run_seconds\{job=m\} 0\.[2-9]'
    assert_line --regexp '^lockrun_wait_seconds\{job=m\} '
    # The key is not a label unless asked: per-day keys would make a series a day.
    refute_output --partial 'key='
}

@test "--metrics-file carries the last success and the run counts across a success, a failure and a cache hit" {
    lockrun -k metrics:carry --metrics-file job.prom -c 'echo done' >/dev/null
    success=$(awk '/^lockrun_last_success_timestamp_seconds/ {print $2}' job.prom)
    [[ $success =~ ^1[0-9]{9}(\.[0-9]+)?$ ]]
    fence=$(awk '/^lockrun_fencing_token/ {print $2}' job.prom)
    [ "$fence" -gt 0 ]

    run lockrun --refresh -k metrics:carry --metrics-file job.prom -c 'exit 4'
    assert_status 4
    run parse_metrics job.prom
    assert_line "lockrun_last_success_timestamp_seconds{job=job} $(printf '%g' "$success")"
    assert_line 'lockrun_runs_total{job=job,outcome=ran} 2'
    assert_line 'lockrun_outcome{job=job,outcome=ran} 1'
    assert_line 'lockrun_exit_code{job=job} 4'

    # The failure was not stored: the first run's result is replayed, and that is a success.
    run --separate-stderr lockrun -k metrics:carry --metrics-file job.prom -c 'echo never'
    assert_output done
    run parse_metrics job.prom
    assert_line 'lockrun_outcome{job=job,outcome=cache_hit} 1'
    assert_line 'lockrun_runs_total{job=job,outcome=ran} 2'
    assert_line 'lockrun_runs_total{job=job,outcome=cache_hit} 1'
    assert_line 'lockrun_run_seconds{job=job} 0'
    # Every series in every file: the fence survives the hit (the last one seen).
    assert_line --regexp '^lockrun_fencing_token\{job=job\} [1-9]'
    new_success=$(awk '/^lockrun_last_success_timestamp_seconds/ {print $2}' job.prom)
    awk -v new="$new_success" -v old="$success" 'BEGIN { exit !(new > old) }'
}

@test "--metrics-file counts a conflict and a lost lock" {
    start_holder holder -k metrics:3
    run lockrun --no-cache -k metrics:3 --metrics-file c.prom -- true
    assert_status 75
    run lockrun --no-cache -k metrics:3 --metrics-file c.prom -- true
    assert_status 75
    release holder
    run parse_metrics c.prom
    assert_line 'lockrun_outcome{job=c,outcome=conflict} 1'
    assert_line 'lockrun_runs_total{job=c,outcome=conflict} 2'
    assert_line 'lockrun_exit_code{job=c} 75'

    spawn holder "$LOCKRUN" --no-cache --lease 1s -k metrics:4 --metrics-file lost.prom -c 'touch started; sleep 20'
    wait_until 10 test -e started
    force_release metrics:4
    assert_exit holder 76 10
    run parse_metrics lost.prom
    assert_line 'lockrun_outcome{job=lost,outcome=lost} 1'
    assert_line 'lockrun_runs_total{job=lost,outcome=lost} 1'
    assert_line 'lockrun_exit_code{job=lost} 76'
}

@test "--metrics-file: the same series in every file, HELP and TYPE once each" {
    lockrun --no-cache -k metrics:same --metrics-file a.prom -- true
    start_holder holder -k metrics:same
    run lockrun --no-cache -k metrics:same --metrics-file b.prom -- true
    release holder
    series() { grep -v '^#' "$1" | sed 's/[{ ].*//' | sort | uniq -c; }
    [ "$(series a.prom)" = "$(series b.prom)" ]
    run grep -c '^# TYPE' a.prom
    assert_output 8
    [ "$(grep '^# ' a.prom | sort | uniq -d)" = "" ]
}

@test "--metrics-file: two jobs' files read together by prometheus_client, no series twice" {
    lockrun --no-cache -k 'report:2026-11-22' --metrics-file report.prom -- true
    lockrun --no-cache -k 'backup:2026-11-22' --metrics-file backup.prom -- true
    # What node_exporter's textfile collector does: every *.prom of the directory together.
    run /usr/bin/python3 - <<'PY'
from prometheus_client.parser import text_string_to_metric_families
seen = set()
text = open("report.prom").read() + open("backup.prom").read()
families = {}
for family in text_string_to_metric_families(text):
    for s in family.samples:
        series = (s.name, tuple(sorted(s.labels.items())))
        assert series not in seen, f"duplicate series {series}"
        seen.add(series)
        families.setdefault(s.name, set()).add(s.labels["job"])
assert families["lockrun_last_success_timestamp_seconds"] == {"report", "backup"}, families
print(len(seen))
PY
    assert_success
    [ "$output" -ge 40 ]
}

@test "--metrics-label replaces the default job and can ask for the key" {
    lockrun --no-cache -k 'metrics:we"ird\key' --metrics-file m.prom \
        --metrics-label job=nightly --metrics-label team=ops --metrics-label key -- true
    run parse_metrics m.prom
    assert_success
    assert_line 'lockrun_outcome{job=nightly,key=metrics:we"ird\key,outcome=ran,team=ops} 1'
    assert_line 'lockrun_exit_code{job=nightly,key=metrics:we"ird\key,team=ops} 0'

    # From the environment (comma-separated) and the config file (an array); job is still
    # the file's name when none is given.
    LOCKRUN_METRICS_LABEL='team=ops,env=prod' lockrun --no-cache -k m:2 --metrics-file env.prom -- true
    run parse_metrics env.prom
    assert_line 'lockrun_exit_code{env=prod,job=env,team=ops} 0'
    printf 'metrics-label = ["team=db", "env=staging"]\n' >lockrun.toml
    lockrun --config lockrun.toml --no-cache -k m:3 --metrics-file file.prom -- true
    run parse_metrics file.prom
    assert_line 'lockrun_exit_code{env=staging,job=file,team=db} 0'
}

@test "--metrics-label: a bad label is one line and 64 (flag) or 78 (environment, file), and nothing runs" {
    for bad in 'team' 'te-am=x' '__name__=x' '0day=x' 'outcome=x' 'key=x' 'team='; do
        run --separate-stderr lockrun --no-cache -k m:bad --metrics-file m.prom --metrics-label "$bad" -c 'touch ran'
        assert_status 64
        assert_one_error_line 'metrics-label'
    done
    run --separate-stderr lockrun --no-cache -k m:bad --metrics-label a=1 --metrics-label a=2 -c 'touch ran'
    assert_status 64
    assert_one_error_line 'twice'
    LOCKRUN_METRICS_LABEL='team=ops,bad' run --separate-stderr lockrun --no-cache -k m:bad -c 'touch ran'
    assert_status 78
    assert_one_error_line 'LOCKRUN_METRICS_LABEL'
    printf 'metrics-label = [1]\n' >lockrun.toml
    run --separate-stderr lockrun --config lockrun.toml --no-cache -k m:bad -c 'touch ran'
    assert_status 78
    assert_one_error_line 'lockrun.toml:1'
    [ ! -e ran ]
    [ ! -e m.prom ]
    assert_nothing_held
}

@test "--metrics-file: a file lockrun cannot read is replaced, with one warning" {
    printf 'this is { not prometheus\n' >m.prom
    run --separate-stderr lockrun --no-cache -k m:junk --metrics-file m.prom -- echo ran
    assert_status 0
    assert_output ran
    assert_one_error_line 'start again'
    run parse_metrics m.prom
    assert_line 'lockrun_runs_total{job=m,outcome=ran} 1'
}

@test "--metrics-file: counts that are not lockrun's (infinite, negative) make the file unreadable, not carried" {
    printf 'lockrun_runs_total{job="m",outcome="ran"} +Inf\nlockrun_last_success_timestamp_seconds{job="m"} 5\n' >m.prom
    run --separate-stderr lockrun --no-cache -k m:inf --metrics-file m.prom -- true
    assert_status 0
    assert_one_error_line 'start again'
    run parse_metrics m.prom
    assert_line 'lockrun_runs_total{job=m,outcome=ran} 1'
}

@test "--metrics-file that is a symlink: the file it names is updated, and the link stays" {
    mkdir real
    lockrun --no-cache -k m:link --metrics-file real/target.prom -- true
    ln -s real/target.prom link.prom
    lockrun --no-cache -k m:link --metrics-file link.prom -- true
    [ -L link.prom ]
    run parse_metrics real/target.prom
    assert_line --regexp '^lockrun_runs_total\{job=(target|link),outcome=ran\} 2$'
}

@test "--metrics-file: a directory lock held too long is a warning, and the file is still written" {
    mkdir dir
    flock -x dir sleep 4 &
    local holder=$!
    sleep 0.2
    run --separate-stderr lockrun --no-cache -k m:locked --metrics-file dir/m.prom -- echo ran
    kill "$holder" 2>/dev/null || true
    wait "$holder" 2>/dev/null || true
    assert_status 0
    assert_output ran
    assert_one_error_line 'without its lock'
    run parse_metrics dir/m.prom
    assert_line 'lockrun_runs_total{job=m,outcome=ran} 1'
}

@test "--metrics-label: a value with a newline is refused, not split into two labels" {
    run --separate-stderr lockrun --no-cache -k m:nl --metrics-file m.prom --metrics-label $'env=a\nb=c' -- true
    assert_status 64
    [ ! -e m.prom ]
    printf 'metrics-label = "env=a\\nb=c"\n' >lockrun.toml
    run --separate-stderr lockrun --config lockrun.toml --no-cache -k m:nl -- true
    assert_status 78
}

@test "--metrics-file: runs that end together lose no count" {
    for i in $(seq 8); do
        lockrun --no-cache -k "m:together:$i" --metrics-file shared.prom -- true &
    done
    wait
    run parse_metrics shared.prom
    assert_line 'lockrun_runs_total{job=shared,outcome=ran} 8'
}

@test "--metrics-file escapes label values" {
    lockrun --no-cache -k m:esc --metrics-file m.prom --metrics-label 'note=a "quoted" \ value' -- true
    run parse_metrics m.prom
    assert_success
    assert_line 'lockrun_exit_code{job=m,note=a "quoted" \ value} 0'
}

@test "--metrics-file prints numbers in their shortest exact form" {
    lockrun --no-cache -k m:num --metrics-file m.prom -- sleep 0.05
    # No float noise such as 0.0070000000000000001: at most millisecond digits.
    run grep -E '^lockrun_(run|wait)_seconds' m.prom
    assert_success
    refute_output --regexp ' [0-9]*\.[0-9]{4,}'
    run grep -E '^lockrun_timestamp_seconds' m.prom
    assert_output --regexp '^lockrun_timestamp_seconds\{job="m"\} 1[0-9]{9}(\.[0-9]{1,3})?$'
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

@test "--log-format json: every stderr line is an object with level, msg, key, host and, once taken, the fence" {
    run --separate-stderr lockrun -vv --log-format json -k json:1 -- echo out
    assert_status 0
    assert_output out
    [ -n "$stderr" ]
    run jq -e -s --arg host "$(hostname)" 'length > 2 and all(.[];
        (.time | type == "string") and (.level | IN("debug", "info")) and (.msg | type == "string")
        and .key == "json:1" and .host == $host)' <<<"$stderr"
    assert_success
    # From the acquisition on, every line carries the run's fence; the last says the outcome.
    run jq -e -s '[.[] | select(.msg | startswith("acquired"))] as $acquired
        | ($acquired | length == 1) and ($acquired[0].fence | type == "number" and . > 0)
        and .[-1].fence == $acquired[0].fence
        and (.[-1] | .outcome == "ran" and .exit_code == 0 and (.waited_ms | type == "number")
             and (.ran_ms | type == "number"))' <<<"$stderr"
    assert_success
}

@test "--log-format json: a replay and a conflict carry the decision's fields" {
    lockrun -k json:2 -- echo cached >/dev/null
    run --separate-stderr lockrun --log-format json -k json:2 -- echo never
    assert_output cached
    run jq -e '.level == "notice" and .outcome == "cache_hit" and .exit_code == 0
        and (.fence | type == "number") and .result_host != null and (.waited_ms | type == "number")
        and (.msg | contains("replayed"))' <<<"$stderr"
    assert_success

    start_holder holder -k json:3
    run --separate-stderr lockrun --log-format json --no-cache -k json:3 -- true
    assert_status 75
    release holder
    run jq -e '.level == "warning" and .outcome == "conflict" and .exit_code == 75 and .key == "json:3"
        and (.holder_pid | type == "number") and (.fence | type == "number")' <<<"$stderr"
    assert_success
}

@test "--log-format json: an error is a JSON line with the run's outcome" {
    run --separate-stderr lockrun --log-format json --backend redis --redis 'redis://127.0.0.1:1' -k j -- true
    assert_status 69
    run jq -e 'select(.level == "error") | (.msg | contains("cannot reach")) and .outcome == "backend_error"
        and .exit_code == 69 and .key == "j"' <<<"$stderr"
    assert_success
}

@test "--log-format json: a usage or configuration error is a JSON line too" {
    run --separate-stderr lockrun --log-format json --lease nonsense -k j -- true
    assert_status 64
    assert_output ''
    run jq -e '.level == "error" and (.msg | contains("--lease")) and (.host | type == "string")' <<<"$stderr"
    assert_success
    # Asked for by the environment; the error is in the environment too.
    LOCKRUN_LOG_FORMAT=json LOCKRUN_LEASE=nonsense run --separate-stderr lockrun -k j -- true
    assert_status 78
    run jq -e '.level == "error" and (.msg | contains("LOCKRUN_LEASE"))' <<<"$stderr"
    assert_success
    run --separate-stderr lockrun --log-format=json --no-such-flag -k j -- true
    assert_status 64
    run jq -e '.level == "error" and (.msg | contains("--no-such-flag"))' <<<"$stderr"
    assert_success
    # The flag wins over the environment, as everywhere.
    LOCKRUN_LOG_FORMAT=json run --separate-stderr lockrun --log-format text --lease nonsense -k j -- true
    assert_status 64
    [[ $stderr == 'lockrun: '* ]]
    # The command's own words are not lockrun's: no JSON for a run's bad flag.
    run --separate-stderr lockrun -k j -w 5x gh pr list --json number --log-format json
    assert_status 64
    assert_output ''
    [[ $stderr == 'lockrun: '* ]]
}

@test "TRACEPARENT and TRACESTATE reach the command unchanged, and the log lines carry the trace" {
    tp=00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01
    TRACEPARENT=$tp TRACESTATE='vendor=opaque,x=y' run --separate-stderr \
        lockrun -v --log-format json --no-cache -k trace:1 -c 'echo "$TRACEPARENT|$TRACESTATE"'
    assert_status 0
    assert_output "$tp|vendor=opaque,x=y"
    run jq -e -s 'length > 0 and all(.[]; .trace_id == "4bf92f3577b34da6a3ce929d0e0e4736"
        and .span_id == "00f067aa0ba902b7")' <<<"$stderr"
    assert_success
}

@test "a malformed TRACEPARENT is ignored, never an error" {
    TRACEPARENT='00-NOT-A-TRACE' run --separate-stderr \
        lockrun -v --log-format json --no-cache -k trace:2 -c 'echo "$TRACEPARENT"'
    assert_status 0
    assert_output '00-NOT-A-TRACE'
    run jq -e -s 'length > 0 and all(.[]; has("trace_id") | not)' <<<"$stderr"
    assert_success
}

@test "-v ends a run with one line: its outcome and exit status" {
    run --separate-stderr lockrun -v --no-cache -k outcome:1 -c 'exit 3'
    assert_status 3
    [[ $stderr == *"lockrun: outcome:1: ran, exit 3" ]]
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
