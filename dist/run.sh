#!/bin/bash
# shellcheck shell=bash
# The one wrapper core every CI runs (the GitHub Action's run step, the GitLab component's job, the
# Bitrise step): INPUT_* environment variables in, one `asc-publish upload` out. The wrappers only
# rename their inputs to INPUT_*; names, meaning and separators are therefore the same everywhere.
#
# Every value reaches the binary as `--flag=value` (never `--flag value`), so a What to Test of
# "- Fixed login" or a group called "-nightly" cannot be read as a flag, and no value is ever
# evaluated: a `$` arrives as a `$`.
#
# Must run on bash 3.2 (/bin/bash on macOS runners): scripts/check-bash32.sh checks it in CI.
set -eEuo pipefail

ci="${ASC_PUBLISH_CI:-}"
if [[ -z "${ci}" ]]; then
  if [[ "${GITHUB_ACTIONS:-}" == "true" ]]; then
    ci=github
  elif [[ "${GITLAB_CI:-}" == "true" ]]; then
    ci=gitlab
  elif [[ -n "${BITRISE_BUILD_NUMBER:-}${BITRISE_IO:-}" ]]; then
    ci=bitrise
  fi
fi

# $'..' inside a double-quoted ${..} depends on bash's extquote; plain variables do not.
CR=$'\r'
NL=$'\n'

usage_error() {
  if [[ "${ci}" == "github" ]]; then
    printf '::error title=asc-publish::%s\n' "$*"
  else
    printf 'asc-publish: %s\n' "$*" >&2
  fi
  exit 2
}

# Input names as each CI spells them, for messages.
input_name() {
  case "${ci}" in
    bitrise) printf '%s' "$1" | tr '-' '_' ;;
    *) printf '%s' "$1" ;;
  esac
}

# A yes/no input into $flag: true/yes/1 or false/no/0 (GitHub and GitLab say true/false, Bitrise
# yes/no); empty is the default. Sets a variable: a usage error in $(...) would not stop the script.
flag=""
flag_input() { # <input-name> <value> <default>
  local v="${2:-$3}"
  case "${v}" in
    true | True | TRUE | yes | Yes | YES | 1) flag=true ;;
    false | False | FALSE | no | No | NO | 0) flag=false ;;
    *) usage_error "the $(input_name "$1") input must be true or false, not '${v}'" ;;
  esac
}

# Splits on commas and newlines, trims each item, drops empty ones; prints them comma-joined.
list_input() {
  local raw="${1//${CR}/}" item out=""
  raw="${raw//${NL}/,}"
  while [[ -n "${raw}" ]]; do
    item="${raw%%,*}"
    if [[ "${raw}" == *,* ]]; then raw="${raw#*,}"; else raw=""; fi
    item="${item#"${item%%[![:space:]]*}"}"
    item="${item%"${item##*[![:space:]]}"}"
    if [[ -n "${item}" ]]; then out="${out:+${out},}${item}"; fi
  done
  printf '%s' "${out}"
}

# On GitHub, mask every line of a secret before anything could print it.
mask() {
  local line
  [[ "${ci}" == "github" && -n "${1:-}" ]] || return 0
  while IFS= read -r line || [[ -n "${line}" ]]; do
    line="${line%"${CR}"}"
    if [[ -n "${line//[[:space:]]/}" ]]; then
      line="${line//%/%25}"
      printf '::add-mask::%s\n' "${line}"
    fi
  done <<<"$1"
}

mask "${INPUT_API_PRIVATE_KEY:-}"
mask "${INPUT_APPLE_ID_PASSWORD:-}"

# Endpoints and trust roots come from explicit inputs only: an earlier step that can write the job
# environment (GITHUB_ENV, a dotenv artifact, envman) must not send the key or password elsewhere.
unset ASC_API_URL ASC_CONTENT_DELIVERY_URL ASC_TLS_ROOT_CA ASC_EXTRA_ROOT_CA

if [[ -n "${INPUT_API_PRIVATE_KEY:-}" ]]; then export ASC_PRIVATE_KEY="${INPUT_API_PRIVATE_KEY}"; fi
if [[ -n "${INPUT_API_KEY_PATH:-}" ]]; then
  # A fastlane API key JSON file ({"key_id", "issuer_id", "key", ...}) or the .p8 itself.
  case "${INPUT_API_KEY_PATH}" in
    *.json | *.JSON) export APP_STORE_CONNECT_API_KEY_PATH="${INPUT_API_KEY_PATH}" ;;
    *) export ASC_PRIVATE_KEY_PATH="${INPUT_API_KEY_PATH}" ;;
  esac
fi
if [[ -n "${INPUT_API_KEY_ID:-}" ]]; then export ASC_KEY_ID="${INPUT_API_KEY_ID}"; fi
if [[ -n "${INPUT_API_ISSUER_ID:-}" ]]; then export ASC_ISSUER_ID="${INPUT_API_ISSUER_ID}"; fi
if [[ -n "${INPUT_APPLE_ID_PASSWORD:-}" ]]; then export ASC_APP_SPECIFIC_PASSWORD="${INPUT_APPLE_ID_PASSWORD}"; fi
if [[ -n "${INPUT_GITHUB_TOKEN:-}" ]]; then export GITHUB_TOKEN="${INPUT_GITHUB_TOKEN}"; fi

[[ -n "${INPUT_IPA_PATH:-}" ]] || usage_error "the $(input_name ipa-path) input is required"
args=(upload "--format=text" "--" "${INPUT_IPA_PATH}")
# Options go before `--` (the IPA path is the only positional); collected separately.
opts=()

app_id="${INPUT_APP_ID:-${ASC_APP_ID:-}}"
if [[ -n "${app_id}" ]]; then opts+=("--app-id=${app_id}"); fi

groups="$(list_input "${INPUT_GROUPS:-}")"
if [[ -n "${groups}" ]]; then opts+=("--groups=${groups}"); fi
testers="$(list_input "${INPUT_TESTERS:-}")"
if [[ -n "${testers}" ]]; then opts+=("--testers=${testers}"); fi

if [[ -n "${INPUT_WHAT_TO_TEST:-}" && -n "${INPUT_WHAT_TO_TEST_FILE:-}" ]]; then
  usage_error "set either $(input_name what-to-test) or $(input_name what-to-test-file), not both"
fi
if [[ -n "${INPUT_WHAT_TO_TEST:-}" ]]; then opts+=("--what-to-test=${INPUT_WHAT_TO_TEST}"); fi
if [[ -n "${INPUT_WHAT_TO_TEST_FILE:-}" ]]; then opts+=("--what-to-test-file=${INPUT_WHAT_TO_TEST_FILE}"); fi
if [[ -n "${INPUT_LOCALE:-}" ]]; then opts+=("--locale=${INPUT_LOCALE}"); fi

flag_input notify "${INPUT_NOTIFY:-}" false
if [[ "${flag}" == true ]]; then opts+=(--notify); fi
flag_input submit-beta-review "${INPUT_SUBMIT_BETA_REVIEW:-}" false
if [[ "${flag}" == true ]]; then opts+=(--submit-beta-review); fi
flag_input expire-previous "${INPUT_EXPIRE_PREVIOUS:-}" false
if [[ "${flag}" == true ]]; then opts+=(--expire-previous); fi
# App Store release after processing (`upload --release`).
flag_input release "${INPUT_RELEASE:-}" false
if [[ "${flag}" == true ]]; then
  opts+=(--release)
  if [[ -n "${INPUT_LOCALE:-}" ]]; then opts+=("--whats-new-locale=${INPUT_LOCALE}"); fi
fi
if [[ -n "${INPUT_WHATS_NEW:-}" && -n "${INPUT_WHATS_NEW_FILE:-}" ]]; then
  usage_error "set either $(input_name whats-new) or $(input_name whats-new-file), not both"
fi
if [[ -n "${INPUT_WHATS_NEW:-}" ]]; then opts+=("--whats-new=${INPUT_WHATS_NEW}"); fi
if [[ -n "${INPUT_WHATS_NEW_FILE:-}" ]]; then opts+=("--whats-new-file=${INPUT_WHATS_NEW_FILE}"); fi
case "${INPUT_RELEASE_TYPE:-}" in
  "") ;;
  manual | after-approval | scheduled) opts+=("--release-type=${INPUT_RELEASE_TYPE}") ;;
  *) usage_error "the $(input_name release-type) input must be manual, after-approval or scheduled, not '${INPUT_RELEASE_TYPE}'" ;;
esac
if [[ -n "${INPUT_RELEASE_DATE:-}" ]]; then opts+=("--release-date=${INPUT_RELEASE_DATE}"); fi
if [[ -n "${INPUT_PHASED_RELEASE:-}" ]]; then
  flag_input phased-release "${INPUT_PHASED_RELEASE}" false
  if [[ "${flag}" == true ]]; then opts+=(--phased-release=on); else opts+=(--phased-release=off); fi
fi
flag_input dry-run "${INPUT_DRY_RUN:-}" false
if [[ "${flag}" == true ]]; then opts+=(--dry-run); fi
flag_input wait "${INPUT_WAIT:-}" true
if [[ "${flag}" == false ]]; then opts+=(--no-wait); fi
if [[ -n "${INPUT_USES_NON_EXEMPT_ENCRYPTION:-}" ]]; then
  flag_input uses-non-exempt-encryption "${INPUT_USES_NON_EXEMPT_ENCRYPTION}" false
  opts+=("--uses-non-exempt-encryption=${flag}")
fi

case "${INPUT_VALIDATION:-}" in
  "" | normal) ;;
  strict) opts+=(--strict) ;;
  skip) opts+=(--skip-validation) ;;
  *) usage_error "the $(input_name validation) input must be normal, strict or skip, not '${INPUT_VALIDATION}'" ;;
esac

if [[ -n "${INPUT_TIMEOUT:-}" ]]; then opts+=("--timeout=${INPUT_TIMEOUT}"); fi
case "${INPUT_REPORT:-auto}" in
  auto | "") ;;
  github | gitlab | bitrise | none) opts+=("--report=${INPUT_REPORT}") ;;
  *) usage_error "the $(input_name report) input must be auto, github, gitlab, bitrise or none, not '${INPUT_REPORT}'" ;;
esac
if [[ -n "${INPUT_APPLE_ID:-}" ]]; then opts+=("--apple-id=${INPUT_APPLE_ID}"); fi
if [[ -n "${INPUT_API_URL:-}" ]]; then opts+=("--api-url=${INPUT_API_URL}"); fi
if [[ -n "${INPUT_CONTENT_DELIVERY_URL:-}" ]]; then opts+=("--content-delivery-url=${INPUT_CONTENT_DELIVERY_URL}"); fi
if [[ -n "${INPUT_TLS_ROOT_CA:-}" ]]; then opts+=("--tls-root-ca=${INPUT_TLS_ROOT_CA}"); fi
if [[ -n "${INPUT_EXTRA_ROOT_CA:-}" ]]; then opts+=("--extra-root-ca=${INPUT_EXTRA_ROOT_CA}"); fi

bin="${ASC_PUBLISH_BIN:-}"
[[ -n "${bin}" && -x "${bin}" ]] || usage_error "asc-publish is not installed (ASC_PUBLISH_BIN='${bin}')"
exec "${bin}" "${args[0]}" ${opts[@]+"${opts[@]}"} "${args[@]:1}"
