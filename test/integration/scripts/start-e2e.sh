#!/usr/bin/env bash
# npm start end to end: start, health 200, write an item, Ctrl-C (SIGINT to the process group), no process
# left (the Java child included), start again, the item is still there.
set -euo pipefail
cd "$(dirname "$0")/../../.."
export CODEGUARDIAN_DATA_DIR="$(mktemp -d)" API_PORT=18000 CODEGUARDIAN_DYNAMODB_PORT=18101 CODEGUARDIAN_S3_PORT=18102 \
  CODEGUARDIAN_SQS_PORT=18103 CODEGUARDIAN_SFN_PORT=18104
log="$CODEGUARDIAN_DATA_DIR/start.log"

start() {
  setsid npm start >"$log" 2>&1 &
  pid=$!
  for _ in $(seq 1 90); do curl -sf -o /dev/null "localhost:$API_PORT/api/health" && return 0; sleep 1; done
  echo "not up:"; cat "$log"; exit 1
}
stop() {
  kill -INT -- "-$pid"
  for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  if pgrep -f "dbPath $CODEGUARDIAN_DATA_DIR" >/dev/null || pgrep -g "$pid" >/dev/null; then echo "processes left behind"; exit 1; fi
  echo "stopped, no process left"
}
ddb() {
  AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x AWS_REGION=us-east-1 node --no-warnings --input-type=module -e "
    import { DynamoDBClient, PutItemCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
    const c = new DynamoDBClient({ endpoint: 'http://127.0.0.1:$CODEGUARDIAN_DYNAMODB_PORT' });
    const Key = { pk: { S: 'E2E' }, sk: { S: 'E2E' } };
    if ('$1' === 'put') await c.send(new PutItemCommand({ TableName: 'codeguardian-local', Item: { ...Key, v: { S: 'kept' } } }));
    else console.log((await c.send(new GetItemCommand({ TableName: 'codeguardian-local', Key }))).Item?.v?.S ?? 'missing');
  "
}

start
echo "health: $(curl -s -o /dev/null -w '%{http_code}' "localhost:$API_PORT/api/health")"
ddb put
stop
start
echo "after restart: $(ddb get)"
stop
rm -rf "$CODEGUARDIAN_DATA_DIR"
