#!/usr/bin/env bash
# Bitrise step: install asc-publish (checksum-pinned, through dist/install.sh), run it, and let it
# export ASC_* outputs with envman. Inputs arrive as environment variables named like step.yml's.
set -CeEuo pipefail

step_dir="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)"
# step.yml at the repo root (entry_file: plugins/bitrise/step.sh) or a path:: checkout of plugins/bitrise.
if [[ -f "${step_dir}/../../dist/install.sh" ]]; then
  repo_dir="$(cd -- "${step_dir}/../.." && pwd)"
elif [[ -f "${step_dir}/dist/install.sh" ]]; then
  repo_dir="${step_dir}"
else
  echo "asc-publish step: dist/install.sh not found next to ${step_dir}" >&2
  exit 1
fi

work="$(mktemp -d)"
trap 'rm -rf -- "${work}"' EXIT

GITHUB_ACTION_PATH="${repo_dir}" RUNNER_TEMP="${work}" INPUT_VERSION="${version:-}" \
  bash --noprofile --norc "${repo_dir}/dist/install.sh" >"${work}/install.log" || {
  cat "${work}/install.log"
  exit 1
}
bin="${work}/asc-publish/bin/asc-publish"

if [[ -n "${api_key_id:-}" ]]; then export ASC_KEY_ID="${api_key_id}"; fi
if [[ -n "${api_issuer_id:-}" ]]; then export ASC_ISSUER_ID="${api_issuer_id}"; fi
if [[ -n "${api_private_key:-}" ]]; then export ASC_PRIVATE_KEY="${api_private_key}"; fi
if [[ -n "${api_key_url:-}" ]]; then
  case "${api_key_url}" in
    file://*) export ASC_PRIVATE_KEY_PATH="${api_key_url#file://}" ;;
    https://*)
      curl --proto '=https' --tlsv1.2 -fsSL --retry 5 -o "${work}/AuthKey.p8" "${api_key_url}"
      export ASC_PRIVATE_KEY_PATH="${work}/AuthKey.p8"
      ;;
    *) export ASC_PRIVATE_KEY_PATH="${api_key_url}" ;;
  esac
fi

args=(upload "${ipa_path:?ipa_path is required}" --format text)
if [[ -n "${app_id:-}" ]]; then args+=(--app-id "${app_id}"); fi
if [[ -n "${groups:-}" ]]; then
  IFS='|' read -r -a group_list <<<"${groups}"
  for g in ${group_list[@]+"${group_list[@]}"}; do
    g="$(printf '%s' "${g}" | sed -e 's/^[[:space:]]*//' -e 's/[[:space:]]*$//')"
    if [[ -n "${g}" ]]; then args+=(--group "${g}"); fi
  done
fi
if [[ -n "${what_to_test:-}" ]]; then args+=(--what-to-test "${what_to_test}"); fi
if [[ "${wait:-yes}" == "no" ]]; then args+=(--no-wait); fi
if [[ -n "${timeout:-}" ]]; then args+=(--timeout "${timeout}"); fi
if [[ -n "${output_dir:-}" ]]; then export BITRISE_DEPLOY_DIR="${output_dir}"; fi

"${bin}" "${args[@]}"
