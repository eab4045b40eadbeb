#!/usr/bin/env bash
# The README's first command ends here: import the bundled sample into an embedded store, show what it
# holds, create a bot token for it, and start the compat API on it.
#   scripts/run-sample.sh BUILD_DIR STORE LISTEN
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-build}
STORE=${2:-$BUILD/sample.db}
LISTEN=${3:-127.0.0.1:8080}
FERRY=$BUILD/ferry
TOKEN_FILE=$STORE.bot-token

echo "== importing fixtures/dce/sample into $STORE"
"$FERRY" import dce fixtures/dce/sample --store "$STORE"
echo
echo "== what the store holds"
"$FERRY" stats --store "$STORE"
echo
echo "== searching it: ferry search --store $STORE \"release\""
"$FERRY" search --store "$STORE" "release" --limit 3 || true
echo

# The token is shown only when a bot is created; keep it beside the store so reruns reuse the same bot.
if [ ! -s "$TOKEN_FILE" ] || ! "$FERRY" bot list --store "$STORE" 2>/dev/null | grep -q "Sample Bot"; then
  "$FERRY" bot create --store "$STORE" --name "Sample Bot" --permissions 8 > "$TOKEN_FILE"
fi
TOKEN=$(cat "$TOKEN_FILE")
cat <<TXT
== starting the Discord-compatible API on http://$LISTEN
   API base URL : http://$LISTEN/api        (discord.js: rest: { api: 'http://$LISTEN/api' })
   Gateway      : ws://$LISTEN/              (discord.py: DiscordWebSocket.DEFAULT_GATEWAY)
   Bot token    : $TOKEN
   Stop with Ctrl-C.
TXT
exec "$FERRY" serve --store "$STORE" --listen "$LISTEN"
