#!/usr/bin/env bash
# Walk one case of the "engage" methodology to its outcome over the HTTP API, with curl and jq only.
#
#   RESOLVEFLOW_URL=http://127.0.0.1:8000 RESOLVEFLOW_TOKEN=... examples/http/walk_case.sh [CASE_ID]
#
# Each step reads the case's view (GET /cases/ID), takes the ETag it came with, and fires the next
# action with that ETag in If-Match and a fresh Idempotency-Key, so that a stale screen gets 412 and
# a retried request records nothing twice. It prints the final outcome's id and exits 0, or prints
# the problem (RFC 9457) the server returned and exits 1.
set -euo pipefail

url="${RESOLVEFLOW_URL:?set RESOLVEFLOW_URL, e.g. http://127.0.0.1:8000}"
token="${RESOLVEFLOW_TOKEN:?set RESOLVEFLOW_TOKEN to a bearer token the server knows}"
case_id="${1:-WALK-$(date +%s)-$$}"
body="$(mktemp)"
headers="$(mktemp)"
trap 'rm -f "$body" "$headers"' EXIT

# call METHOD PATH [JSON] [extra curl args...]: the response body in $body, headers in $headers;
# fails (printing the problem) on any status but 2xx.
call() {
    local method="$1" path="$2" data="${3:-}"
    shift 3
    local args=(-sS -X "$method" -o "$body" -D "$headers" -w '%{http_code}'
        -H "Authorization: Bearer $token" -H "Accept: application/json")
    if [ -n "$data" ]; then args+=(-H "Content-Type: application/json" --data-binary "$data"); fi
    local status
    status="$(curl "${args[@]}" "$@" "$url$path")"
    if [ "${status:0:1}" != "2" ]; then
        echo "$method $path: HTTP $status" >&2
        jq . "$body" >&2 || cat "$body" >&2
        exit 1
    fi
}

etag() { grep -i '^etag:' "$headers" | head -n1 | cut -d' ' -f2- | tr -d '\r'; }

# The evidence each action of the walk records, as the action's form schema asks.
evidence_for() {
    case "$1" in
        engage_fully) jq -n '{notes: "The parcel arrived broken."}' ;;
        show_empathy) jq -n '{statement: "That must be really frustrating.", admits_fault: false}' ;;
        solution_accepted) jq -n '{solution: "A replacement by courier tomorrow.", customer_calmer: true, accepted: true}' ;;
        *) echo "no evidence known for $1" >&2; exit 1 ;;
    esac
}

call POST /cases "$(jq -n --arg id "$case_id" '{methodology: "engage", case_id: $id}')"
path="/cases/$(jq -rn --arg id "$case_id" '$id | @uri')"

for action in engage_fully show_empathy solution_accepted; do
    call GET "$path" ""
    tag="$(etag)"
    # Only an action the view says is enabled is offered to the agent.
    enabled="$(jq -r --arg a "$action" '.actions[] | select(.name == $a) | .enabled' "$body")"
    if [ "$enabled" != "true" ]; then
        echo "$action is not enabled at step $(jq -r .step.id "$body")" >&2
        jq '.actions[] | {name, refusals}' "$body" >&2
        exit 1
    fi
    request="$(jq -n --argjson e "$(evidence_for "$action")" '{evidence: $e}')"
    call POST "$path/actions/$action" "$request" -H "If-Match: $tag" -H "Idempotency-Key: $case_id-$action"
    echo "$action -> $(jq -r .entry.step "$body")" >&2
done

call GET "$path" ""
jq -r '.outcome.id // "open"' "$body"
