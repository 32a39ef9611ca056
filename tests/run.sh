#!/usr/bin/env bash
# The test command: installs what the tests need (Debian packages, Python packages), starts the ClickHouse
# server if it is not running, checks the import contracts (lint-imports) and runs pytest. The Kafka-protocol
# broker (tansu) and chDB are started by the tests themselves.
#
#   bash tests/run.sh [--strict] [pytest args…]
#
# --strict (used by .ci/run): a missing server or browser fails the run instead of skipping tests.
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "--strict" ]]; then
    export COCKPIT_TEST_REQUIRE_SERVERS=1
    shift
fi

as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

missing=()
command -v clickhouse-server >/dev/null || missing+=(clickhouse-server clickhouse-client)
[[ -x /usr/bin/chromium ]] || missing+=(chromium)
[[ -x /usr/bin/chromedriver ]] || missing+=(chromium-driver)
fc-list 2>/dev/null | grep -qi "Noto Sans CJK" || missing+=(fonts-noto-cjk)
if (( ${#missing[@]} )); then
    echo "tests/run.sh: installing ${missing[*]}"
    as_root apt-get update -q
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}"
fi

python -m pip install -q --disable-pip-version-check -r requirements.txt -r requirements-dev.txt

clickhouse_up() { (exec 3<>/dev/tcp/127.0.0.1/9000) 2>/dev/null; }
if ! clickhouse_up; then
    echo "tests/run.sh: starting clickhouse-server"
    if [[ $(id -u) -eq 0 ]]; then
        clickhouse-server --config-file=/etc/clickhouse-server/config.xml --daemon
    else
        sudo -u clickhouse clickhouse-server --config-file=/etc/clickhouse-server/config.xml --daemon
    fi
    for _ in $(seq 60); do clickhouse_up && break; sleep 0.5; done
    clickhouse_up || { echo "tests/run.sh: clickhouse-server did not start (see /var/log/clickhouse-server/)"; exit 1; }
fi

# the import contracts of pyproject.toml: an arrow against the stages' direction fails the run
lint-imports --no-cache
exec python -m pytest "$@"
