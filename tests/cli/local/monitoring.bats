#!/usr/bin/env bats
# The README's "Monitoring" section, followed as written: lockrun's metrics files in a
# textfile directory are served by the node exporter (Debian's prometheus-node-exporter)
# without a scrape error, and the README's alert rules pass promtool, fire when they should
# and name only series that the node exporter serves.

# The local backend, whatever LOCKRUN_TEST_BACKEND says: the metrics are the same on both.
LOCKRUN_TEST_BACKEND=local
load ../common
setup() { per_test_setup; }
teardown() { per_test_teardown; }

README=$BATS_TEST_DIRNAME/../../../README.md

# readme_rules: the alert rules of the README's Monitoring section (its yaml block).
readme_rules() {
    awk '/^### Monitoring/ { section = 1 }
         section && /^```yaml/ { rules = 1; next }
         rules && /^```/ { exit }
         rules' "$README"
}

# scrape PORT: the node exporter's /metrics.
scrape() {
    /usr/bin/python3 -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(f"http://127.0.0.1:{sys.argv[1]}/metrics", timeout=5).read().decode())' "$1"
}

# start_exporter DIR: Debian's node exporter serving DIR's *.prom on a free loopback port,
# which it prints once /metrics answers. A port that another test took meanwhile (the
# exporter then exits) means another port.
start_exporter() {
    local attempt port
    for attempt in 1 2 3 4 5; do
        port=$(free_port)
        spawn "exporter$attempt" prometheus-node-exporter --web.listen-address="127.0.0.1:$port" \
            --collector.disable-defaults --collector.textfile --collector.textfile.directory="$1"
        if poll_until 30 exporter_up "$port" "${SPAWNED[exporter$attempt]}" && scrape "$port" >/dev/null 2>&1; then
            echo "$port"
            return
        fi
    done
    echo "the node exporter never served /metrics: $(cat exporter*.err)" >&2
    return 1
}

# exporter_up PORT PID: /metrics answers, or the exporter has exited (so waiting is over).
exporter_up() { scrape "$1" >/dev/null 2>&1 || ! is_running "$2"; }

@test "the README's alert rules are valid Prometheus rules" {
    readme_rules >rules.yml
    run promtool check rules rules.yml
    assert_success
    assert_output --partial 'SUCCESS: 4 rules found'
}

@test "the README's rules fire for a job that stopped succeeding, stopped running, lost its lock or keeps conflicting, and not for one that is fine" {
    readme_rules >rules.yml
    cat >rules_test.yml <<'YAML'
rule_files: [rules.yml]
evaluation_interval: 1m
tests:
  - interval: 1m
    input_series:
      - series: 'lockrun_last_success_timestamp_seconds{job="stuck"}'
        values: '0x60'
      - series: 'lockrun_last_success_timestamp_seconds{job="fine"}'
        values: '0+60x60'
      - series: 'lockrun_outcome{job="fine",outcome="lost"}'
        values: '0 0 1 0'
      - series: 'node_textfile_mtime_seconds{file="/var/lib/node_exporter/textfile/report.prom"}'
        values: '0x60'
      - series: 'node_textfile_mtime_seconds{file="/var/lib/node_exporter/textfile/daily-report.prom"}'
        values: '0x60'
      - series: 'lockrun_runs_total{job="stuck",outcome="conflict"}'
        values: '0+1x60'
      - series: 'lockrun_runs_total{job="fine",outcome="conflict"}'
        values: '0x60'
    alert_rule_test:
      - eval_time: 40m
        alertname: JobNotSucceeding
        exp_alerts:
          - exp_labels: {job: stuck}
      - eval_time: 10m
        alertname: JobNotSucceeding
        exp_alerts: []
      - eval_time: 2m
        alertname: JobLostItsLock
        exp_alerts:
          - exp_labels: {job: fine, outcome: lost}
      - eval_time: 3m
        alertname: JobLostItsLock
        exp_alerts: []
      - eval_time: 40m
        alertname: JobNotRunning
        exp_alerts:
          - exp_labels: {file: /var/lib/node_exporter/textfile/report.prom}
      - eval_time: 10m
        alertname: JobNotRunning
        exp_alerts: []
      - eval_time: 59m
        alertname: JobKeepsConflicting
        exp_alerts:
          - exp_labels: {job: stuck, outcome: conflict}
YAML
    run promtool test rules rules_test.yml
    assert_success
}

@test "the node exporter serves two jobs' files, with every series the README's rules use" {
    mkdir textfile
    lockrun --no-cache -k "report:$(date +%F)" --metrics-file textfile/report.prom -- true
    run lockrun --no-cache -k backup --metrics-file textfile/backup.prom -c 'exit 2'
    assert_status 2
    local port
    port=$(start_exporter "$PWD/textfile") || fail "no node exporter"
    scrape "$port" >metrics.txt
    run grep -x 'node_textfile_scrape_error 0' metrics.txt
    assert_success
    run grep -E '^lockrun_last_success_timestamp_seconds\{job="report"\} [1-9]' metrics.txt
    assert_success
    run grep -x 'lockrun_last_success_timestamp_seconds{job="backup"} 0' metrics.txt
    assert_success
    run grep -E '^node_textfile_mtime_seconds\{file="[^"]*report.prom"\} ' metrics.txt
    assert_success
    # Every series a rule names is served.
    for name in $(readme_rules | grep -oE '(lockrun|node)_[a-z_]+' | sort -u); do
        grep -q "^$name{" metrics.txt || fail "the README's rules use $name, which is not served"
    done
}
