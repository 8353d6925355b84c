#!/usr/bin/env bash
# Runs a full upload, an App Store release (and whatever else asc-publish calls) through Prism loaded with Apple's App
# Store Connect OpenAPI description, in front of the simulator, and counts the requests or
# responses Prism rejects. Expected: 0.
#
#   scripts/conformance.sh            # uses ../shared/tools/asc-conformance (needs Node and npm)
#   ASC_CONFORMANCE_TOOL=/path/to/asc-conformance scripts/conformance.sh
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tool=${ASC_CONFORMANCE_TOOL:-../shared/tools/asc-conformance}
[[ -x $tool ]] || { echo "conformance: $tool not found (set ASC_CONFORMANCE_TOOL)" >&2; exit 2; }
bin=${ASC_PUBLISH_BIN:-target/release/asc-publish}
[[ -x $bin ]] || bin=target/debug/asc-publish
[[ -x $bin ]] || cargo build --quiet --bin asc-publish
work=$(mktemp -d)
pids=()
keep=0
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [[ $keep == 1 ]]; then echo "logs kept in $work" >&2; else rm -rf "$work"; fi
}
trap cleanup EXIT

wait_line() { # file, seconds
  for _ in $(seq 1 "$(( $2 * 4 ))"); do [[ -s $1 ]] && return 0; sleep 0.25; done
  echo "conformance: timed out waiting for $1" >&2; return 1
}

"$bin" sim --processing-seconds 2 --review-seconds 1 --group "Beta Testers=external" --group "QA=internal" \
  >"$work/sim.json" 2>"$work/sim.log" &
pids+=($!)
wait_line "$work/sim.json" 30
field() { python3 -c "import json,sys; print(json.load(open(sys.argv[1]))[sys.argv[2]])" "$work/sim.json" "$1"; }
api=$(field api_url)

ASC_CONFORMANCE_LOG="$work/prism.log" "$tool" "$api" >"$work/proxy.url" 2>"$work/proxy.err" &
pids+=($!)
wait_line "$work/proxy.url" 180
proxy=$(head -1 "$work/proxy.url")

# A valid sample IPA and its test root (the demo writes both and runs against its own simulator).
"$bin" demo --processing-seconds 1 --keep "$work/demo" >/dev/null 2>&1

set +e
"$bin" upload "$work/demo/Demo.ipa" --extra-root-ca "$work/demo/test-root-ca.pem" \
  --api-url "$proxy" --key-id "$(field key_id)" --issuer-id "$(field issuer_id)" \
  --private-key "$(field private_key_path)" --poll-interval 1s --format json \
  --groups QA --what-to-test "Conformance run" --notify --report none >"$work/outcome.json" 2>"$work/upload.log"
code=$?
# Build management through the proxy too.
conn=(--api-url "$proxy" --key-id "$(field key_id)" --issuer-id "$(field issuer_id)" --private-key "$(field private_key_path)")
"$bin" builds list --bundle-id com.example.demo "${conn[@]}" >/dev/null 2>>"$work/upload.log" || code=$?
build_id=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get('build_id') or '')" "$work/outcome.json" 2>/dev/null || true)
if [[ -n $build_id ]]; then
  "$bin" builds status "$build_id" "${conn[@]}" >/dev/null 2>>"$work/upload.log" || code=$?
  # The App Store release: version, build, What's New, release type, phased release, review
  # submission, the wait through App Review, and the status.
  "$bin" release --build-id "$build_id" --whats-new "Conformance run" --release-type manual \
    --phased-release on --wait-for-review --poll-interval 1s --report none "${conn[@]}" \
    >/dev/null 2>>"$work/upload.log" || code=$?
  "$bin" release status --bundle-id com.example.demo "${conn[@]}" >/dev/null 2>>"$work/upload.log" || code=$?
fi
set -e
status=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1])).get('status'))" "$work/outcome.json" 2>/dev/null || echo "?")
requests=$(grep -c 'Request received' "$work/prism.log" || true)
violations=$(grep -ciE 'violation|✖ +error' "$work/prism.log" || true)
echo "upload and release through Prism: exit $code, status $status; requests seen by Prism: $requests; violations: $violations"
if [[ $violations != 0 || $code != 0 ]]; then
  keep=1
  grep -iE -B2 -A6 'violation|✖ +error' "$work/prism.log" | head -80
fi
[[ $code == 0 && $violations == 0 ]]
