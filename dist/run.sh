#!/usr/bin/env bash
# The GitHub Action's run step: turn the action's inputs (INPUT_* environment variables, never
# template-expanded into the script) into asc-publish flags and environment, then run it.
#
# Key inputs are exported as ASC_KEY_ID / ASC_ISSUER_ID / ASC_PRIVATE_KEY only when non-empty, so
# a workflow that already sets ASC_* or APP_STORE_CONNECT_API_KEY_* variables keeps working.
set -CeEuo pipefail

usage_error() {
  printf '::error title=asc-publish::%s\n' "$*"
  exit 2
}

# Mask the private key line by line before anything else is printed (PEM keys are multi-line).
if [[ -n "${INPUT_API_PRIVATE_KEY:-}" ]]; then
  while IFS= read -r key_line || [[ -n "${key_line}" ]]; do
    key_line="${key_line%$'\r'}"
    if [[ -n "${key_line//[[:space:]]/}" ]]; then
      key_line="${key_line//%/%25}"
      printf '::add-mask::%s\n' "${key_line}"
    fi
  done <<<"${INPUT_API_PRIVATE_KEY}"
  export ASC_PRIVATE_KEY="${INPUT_API_PRIVATE_KEY}"
fi
if [[ -n "${INPUT_API_KEY_ID:-}" ]]; then export ASC_KEY_ID="${INPUT_API_KEY_ID}"; fi
if [[ -n "${INPUT_API_ISSUER_ID:-}" ]]; then export ASC_ISSUER_ID="${INPUT_API_ISSUER_ID}"; fi
if [[ -n "${INPUT_GITHUB_TOKEN:-}" ]]; then export GITHUB_TOKEN="${INPUT_GITHUB_TOKEN}"; fi

[[ -n "${INPUT_IPA_PATH:-}" ]] || usage_error "the ipa-path input is required"
args=(upload "${INPUT_IPA_PATH}" --format text)

if [[ -n "${INPUT_APP_ID:-}" ]]; then args+=(--app-id "${INPUT_APP_ID}"); fi
# groups: comma- or newline-separated names (or ids), one --group each.
if [[ -n "${INPUT_GROUPS:-}" ]]; then
  while IFS= read -r group; do
    group="$(printf '%s' "${group}" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//')"
    if [[ -n "${group}" ]]; then args+=(--group "${group}"); fi
  done < <(printf '%s\n' "${INPUT_GROUPS}" | tr ',' '\n')
fi
if [[ -n "${INPUT_WHAT_TO_TEST:-}" ]]; then args+=(--what-to-test "${INPUT_WHAT_TO_TEST}"); fi
case "${INPUT_WAIT:-true}" in
  true | "") ;;
  false) args+=(--no-wait) ;;
  *) usage_error "the wait input must be true or false, not '${INPUT_WAIT}'" ;;
esac
if [[ -n "${INPUT_TIMEOUT:-}" ]]; then args+=(--timeout "${INPUT_TIMEOUT}"); fi
case "${INPUT_REPORT:-auto}" in
  auto | "") ;;
  github | none) args+=(--report "${INPUT_REPORT}") ;;
  *) usage_error "the report input must be auto, github or none, not '${INPUT_REPORT}'" ;;
esac

exec "${ASC_PUBLISH_BIN:-asc-publish}" "${args[@]}"
