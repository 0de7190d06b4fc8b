#!/usr/bin/env bash
# The newcomer walkthrough (README, "From a token to approved"): one contractor from a token
# to `approved` through the local stack and its provider sandboxes, with curl. Each step
# prints what it did. A test runs exactly this script (tests/e2e/newcomer.rs).
#   usage: scripts/walkthrough.sh [BASE_URL]     (default http://127.0.0.1:3000: `make dev`)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh
BASE="${1:-http://127.0.0.1:3000}"
say() { printf '\n==> %s\n' "$*"; }
# Reads a field from the JSON on stdin: json '["a"]["b"]'
json() { python3 -c 'import json, sys; d = json.load(sys.stdin); v = eval("d" + sys.argv[1]); print(v if not isinstance(v, (dict, list)) else json.dumps(v))' "$1"; }
api() { # METHOD PATH [BODY] [extra curl args...]
  local method="$1" path="$2" body="${3:-}"; shift 3 || shift $#
  curl -sS -X "$method" "$BASE$path" -H "authorization: Bearer $TOKEN" -H 'content-type: application/json' \
    -H "idempotency-key: $(date +%s%N)$RANDOM" ${body:+-d "$body"} "$@"
}
RUN="$(date +%s%N | tail -c 9)"
NAME="Walkthrough Lights $RUN LLC"

say "1. Where the sandboxes listen (GET /_local/health)"
PLAID="$(curl -sS "$BASE/_local/health" | json '["sandboxes"]["plaid"]["url"]')"
echo "Plaid sandbox: $PLAID"

say "2. A token for a new contractor (POST /_local/token)"
TOKEN="$(curl -sS -XPOST "$BASE/_local/token" -d "{\"sub\":\"auth0|walkthrough-$RUN\",\"roles\":[\"contractor\"]}" | json '["access_token"]')"

say "3. Register $NAME, serving Oregon (no state license needed there)"
ID="$(api POST /v1/contractors "{\"business_name\":\"$NAME\",\"contact\":{\"name\":\"Dana Reyes\",\"email\":\"dana@walkthrough.example\",\"phone\":\"(503) 555-0142\"},\"service_area\":{\"states\":[\"OR\"],\"zip_codes\":[\"97201\"]},\"trade\":{\"crew_size\":4,\"years_in_business\":6,\"services\":[\"residential_installation\"]}}" | json '["id"]')"
echo "contractor $ID"

say "4. Save the six wizard steps (PATCH /progress with If-Match)"
VERSION=1
for step in \
  '{"step":"business_profile","data":{"legal_name":"'"$NAME"'","entity_type":"llc","phone":"(503) 555-0142","address":{"line1":"1 Pine St","city":"Portland","state":"OR","zip":"97201"}}}' \
  '{"step":"tax_identity","data":{"tin_type":"ein","tin":"12-3456789","name_on_return":"'"$NAME"'","tax_classification":"llc_p"}}' \
  '{"step":"license","data":{"state":"OR","number":"NA-1","expires_on":"2030-12-31"}}' \
  '{"step":"insurance","data":{"carrier":"Acme Mutual","policy_number":"GL-778899","each_occurrence_limit":2000000,"general_aggregate_limit":4000000,"effective_on":"2026-01-01","expires_on":"2030-01-01"}}' \
  '{"step":"bank_account","data":{"account_holder_name":"'"$NAME"'","link_method":"plaid"}}' \
  '{"step":"agreements","data":{"terms_version":"2026-09","privacy_version":"2026-09"}}'; do
  VERSION="$(api PATCH "/v1/contractors/$ID/progress" "$step" -H "if-match: \"$VERSION\"" | json '["version"]')"
  echo "saved $(echo "$step" | json '["step"]') -> version $VERSION"
done

say "5. Submit for review (POST /submit)"
api POST "/v1/contractors/$ID/submit" "" -H "if-match: \"$VERSION\"" | json '["status"]'

say "6. Upload a certificate of insurance naming the business (intent, then the presigned PUT)"
DIR="$(mktemp -d)"
"$MOTO_PYTHON" tests/corpus/generate.py "$DIR" --per-kind 1 --tiers text_pdf --kinds insurance_certificate \
  --compliant-cois --business "$NAME" --seed "$RUN" >/dev/null
PDF="$DIR/insurance_certificate-000-text_pdf.pdf"
SIZE="$(stat -c %s "$PDF")"; SHA="$(sha256sum "$PDF" | cut -d' ' -f1)"
INTENT="$(api POST "/v1/contractors/$ID/documents" "{\"kind\":\"insurance_certificate\",\"file_name\":\"coi.pdf\",\"content_type\":\"application/pdf\",\"size\":$SIZE,\"sha256\":\"$SHA\"}")"
URL="$(echo "$INTENT" | json '["upload"]["url"]')"
HEADERS=()
while IFS= read -r h; do [ -n "$h" ] && HEADERS+=(-H "$h"); done < <(echo "$INTENT" | python3 -c 'import json, sys; [print(f"{k}: {v}") for k, v in json.load(sys.stdin)["upload"]["headers"].items() if k != "content-length"]')
curl -sS -X PUT "$URL" "${HEADERS[@]}" --data-binary "@$PDF" -o /dev/null -w 'PUT %{http_code}\n'

say "7. Link the payout account (link token, Plaid's public token for user_good, exchange)"
api POST "/v1/contractors/$ID/bank/link-token" "" >/dev/null
PUBLIC="$(curl -sS -XPOST "$PLAID/sandbox/public_token/create" -H 'content-type: application/json' \
  -d '{"client_id":"local-plaid-client","secret":"local-plaid-secret","institution_id":"ins_109508","initial_products":["auth"],"options":{"override_username":"user_good"}}' | json '["public_token"]')"
api POST "/v1/contractors/$ID/bank/exchange" "{\"public_token\":\"$PUBLIC\",\"institution\":{\"institution_id\":\"ins_109508\",\"name\":\"First Platypus Bank\"}}" | json '["account"]["verification"]'

say "8. Wait for the verdicts: scan, extraction, rules, the insurance verifier, Plaid -> approved"
for _ in $(seq 1 120); do
  ME="$(api GET "/v1/contractors/$ID" "")"
  STATUS="$(echo "$ME" | json '["status"]')"
  [ "$STATUS" = approved ] && break
  sleep 1
done
echo "$ME" | json '["requirements"]'
echo "status: $STATUS"
[ "$STATUS" = approved ]
