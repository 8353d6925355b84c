#!/bin/bash
# shellcheck shell=bash
# Bitrise step: install asc-publish (checksum-pinned, dist/install.sh), resolve credentials (the
# project's Apple Service connection unless `connection: off`), then hand the inputs to the shared
# wrapper core dist/run.sh as INPUT_* variables. Self-contained: the packaged step directory
# (scripts/package-ci.sh) holds dist/ next to this file, for both git:: and path:: use.
#
# Must run on bash 3.2 (/bin/bash on macOS stacks): scripts/check-bash32.sh checks it in CI.
set -eEuo pipefail

step_dir="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
if [[ ! -f "${step_dir}/dist/install.sh" || ! -f "${step_dir}/dist/run.sh" ]]; then
  echo "asc-publish step: ${step_dir}/dist is missing; use the packaged step (scripts/package-ci.sh), not plugins/bitrise from a source checkout" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf -- "${work}"' EXIT
umask 077

fail() {
  printf 'asc-publish step: %s\n' "$*" >&2
  exit 1
}

GITHUB_ACTION_PATH="${step_dir}" RUNNER_TEMP="${work}" INPUT_VERSION="${version:-}" \
  /bin/bash --noprofile --norc "${step_dir}/dist/install.sh" >"${work}/install.log" 2>&1 || {
  cat "${work}/install.log"
  exit 1
}
export ASC_PUBLISH_BIN="${work}/asc-publish/bin/asc-publish"

# Credentials: explicit inputs win; otherwise the Apple Service connection, read through the
# build's API (as Bitrise's own deploy steps do).
export INPUT_API_KEY_ID="${api_key_id:-}"
export INPUT_API_ISSUER_ID="${api_issuer_id:-}"
export INPUT_API_PRIVATE_KEY="${api_private_key:-}"
export INPUT_APPLE_ID="${apple_id:-}"
export INPUT_APPLE_ID_PASSWORD="${apple_id_password:-}"
key_path="${api_key_path:-}"
case "${key_path}" in
  file://*) key_path="${key_path#file://}" ;;
  https://*)
    curl --proto '=https' --tlsv1.2 -fsSL --retry 5 -o "${work}/AuthKey.p8" "${key_path}" ||
      fail "cannot download api_key_path"
    key_path="${work}/AuthKey.p8"
    ;;
esac
export INPUT_API_KEY_PATH="${key_path}"

connection="${connection:-automatic}"
have_key_input=""
if [[ -n "${INPUT_API_PRIVATE_KEY}${INPUT_API_KEY_PATH}" ]]; then have_key_input=1; fi

# Reads one string field of the connection JSON (python3, else ruby: one of them is on every stack).
json_field() { # <file> <field>
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import json,sys; v=json.load(open(sys.argv[1])).get(sys.argv[2]); sys.stdout.write(v if isinstance(v,str) else "")' "$1" "$2"
  elif command -v ruby >/dev/null 2>&1; then
    ruby -rjson -e 'v = JSON.parse(File.read(ARGV[0]))[ARGV[1]]; print(v.is_a?(String) ? v : "")' "$1" "$2"
  else
    fail "reading the Apple Service connection needs python3 or ruby"
  fi
}

case "${connection}" in
  off) ;;
  automatic | api_key | apple_id)
    conn="${work}/apple_developer_portal_data.json"
    got=""
    if [[ -n "${BITRISE_BUILD_URL:-}" && -n "${BITRISE_BUILD_API_TOKEN:-}" ]]; then
      url="${BITRISE_BUILD_URL%/}/apple_developer_portal_data.json"
      case "${url}" in
        https://* | http://127.0.0.1:* | http://localhost:*) ;;
        *) fail "BITRISE_BUILD_URL must be an https URL" ;;
      esac
      if curl -fsS --retry 3 -H "BUILD_API_TOKEN: ${BITRISE_BUILD_API_TOKEN}" -o "${conn}" "${url}" 2>"${work}/conn.err"; then
        got=1
      fi
    fi
    if [[ -z "${got}" ]]; then
      # A pull request build of a public app gets 401 by design: the secrets stay with the project.
      if [[ "${connection}" != automatic ]]; then
        fail "connection is ${connection} but the Apple Service connection could not be read ($(cat "${work}/conn.err" 2>/dev/null || echo "no BITRISE_BUILD_URL / BITRISE_BUILD_API_TOKEN")); connect an Apple service in the project settings or set connection: off"
      fi
    else
      conn_key_id="$(json_field "${conn}" key_id)"
      conn_apple_id="$(json_field "${conn}" apple_id)"
      if [[ "${connection}" != apple_id && -z "${have_key_input}" && -n "${conn_key_id}" ]]; then
        # fastlane-style JSON; asc-publish reads Bitrise's `private_key` as well as `key`.
        export INPUT_API_KEY_PATH="${conn}"
        INPUT_API_KEY_ID="${INPUT_API_KEY_ID:-${conn_key_id}}"
        INPUT_API_ISSUER_ID="${INPUT_API_ISSUER_ID:-$(json_field "${conn}" issuer_id)}"
        echo "asc-publish step: using the project's App Store Connect API key connection (${conn_key_id})"
      elif [[ "${connection}" != api_key && -z "${have_key_input}" && -z "${INPUT_APPLE_ID}" && -n "${conn_apple_id}" ]]; then
        INPUT_APPLE_ID="${conn_apple_id}"
        INPUT_APPLE_ID_PASSWORD="$(json_field "${conn}" app_specific_password)"
        [[ -n "${INPUT_APPLE_ID_PASSWORD}" ]] ||
          fail "the Apple ID connection has no app-specific password; add one in the project's Apple Service connection"
        echo "asc-publish step: using the project's Apple ID connection"
      elif [[ "${connection}" == api_key && -z "${have_key_input}" ]]; then
        fail "connection is api_key but the project has no API key connection"
      elif [[ "${connection}" == apple_id && -z "${INPUT_APPLE_ID}" ]]; then
        fail "connection is apple_id but the project has no Apple ID connection"
      fi
    fi
    ;;
  *) fail "connection must be automatic, api_key, apple_id or off, not '${connection}'" ;;
esac

export INPUT_IPA_PATH="${ipa_path:-}"
export INPUT_APP_ID="${app_id:-}"
export INPUT_GROUPS="${groups:-}"
export INPUT_TESTERS="${testers:-}"
export INPUT_WHAT_TO_TEST="${what_to_test:-}"
export INPUT_WHAT_TO_TEST_FILE="${what_to_test_file:-}"
export INPUT_LOCALE="${locale:-}"
export INPUT_NOTIFY="${notify:-no}"
export INPUT_SUBMIT_BETA_REVIEW="${submit_beta_review:-no}"
export INPUT_EXPIRE_PREVIOUS="${expire_previous:-no}"
export INPUT_RELEASE="${release:-no}"
export INPUT_WHATS_NEW="${whats_new:-}"
export INPUT_WHATS_NEW_FILE="${whats_new_file:-}"
export INPUT_RELEASE_TYPE="${release_type:-}"
export INPUT_RELEASE_DATE="${release_date:-}"
export INPUT_PHASED_RELEASE="${phased_release:-}"
export INPUT_USES_NON_EXEMPT_ENCRYPTION="${uses_non_exempt_encryption:-}"
export INPUT_DRY_RUN="${dry_run:-no}"
export INPUT_VALIDATION="${validation:-normal}"
export INPUT_WAIT="${wait:-yes}"
export INPUT_TIMEOUT="${timeout:-}"
export INPUT_REPORT="${report:-auto}"
export INPUT_API_URL="${api_url:-}"
export INPUT_CONTENT_DELIVERY_URL="${content_delivery_url:-}"
export INPUT_TLS_ROOT_CA="${tls_root_ca:-}"
export INPUT_EXTRA_ROOT_CA="${extra_root_ca:-}"
if [[ -n "${output_dir:-}" ]]; then export BITRISE_DEPLOY_DIR="${output_dir}"; fi

# Not exec: the EXIT trap must remove the work directory (it may hold the connection's key).
ASC_PUBLISH_CI=bitrise /bin/bash --noprofile --norc "${step_dir}/dist/run.sh"
