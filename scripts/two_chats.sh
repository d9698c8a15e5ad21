#!/usr/bin/env bash
# Past one machine, measured on one: a Chroma server holds the data, one ingest writes there, and
# two web chats (separate processes, separate query caches) answer from it; ui.loadtest measures
# each chat with 1 and 5 simultaneous visitors. Everything listens on 127.0.0.1 and is stopped at
# the end. Usage: scripts/two_chats.sh   (after `make setup`; about a minute)
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
WORK=$(mktemp -d)
CHROMA_PORT=${CHROMA_PORT:-8765}
PORTS=(7881 7882)
export ANONYMIZED_TELEMETRY=False HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 GRADIO_ANALYTICS_ENABLED=False
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"; }
trap cleanup EXIT

wait_for() {  # url, what
  for _ in $(seq 120); do curl -sf -o /dev/null "$1" && return 0; sleep 1; done
  echo "$2 did not start (logs in $WORK)" >&2; exit 1
}

if curl -sf -o /dev/null "http://127.0.0.1:$CHROMA_PORT/api/v2/heartbeat"; then
  echo "port $CHROMA_PORT is taken by another server: set CHROMA_PORT" >&2; exit 1
fi
.venv/bin/chroma run --path "$WORK/chroma" --host 127.0.0.1 --port "$CHROMA_PORT" > "$WORK/chroma.log" 2>&1 &
pids+=($!)
wait_for "http://127.0.0.1:$CHROMA_PORT/api/v2/heartbeat" "the Chroma server"
export CHROMA_HOST=127.0.0.1 CHROMA_PORT
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
ASSISTANT_INDEX_DIR="$WORK/ingest" $PY -m ingest data/ --quiet

for port in "${PORTS[@]}"; do
  ASSISTANT_INDEX_DIR="$WORK/chat-$port" ASSISTANT_PORT=$port ASSISTANT_HOST=127.0.0.1 ASSISTANT_AUTH= \
    $PY -m ui > "$WORK/ui-$port.log" 2>&1 &
  pids+=($!)
done
for port in "${PORTS[@]}"; do wait_for "http://127.0.0.1:$port/" "the chat on port $port"; done

for port in "${PORTS[@]}"; do
  echo "chat on port $port (its own query cache: $(ls "$WORK/chat-$port" 2>/dev/null || echo 'built on first question')):"
  $PY -m ui.loadtest --url "http://127.0.0.1:$port" --users 1 5 --rounds 3
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
