#!/bin/bash
# Package the CI wrappers for their catalogs, from this checkout (the release workflow runs it on
# the release commit; the end-to-end tests run it on the working tree):
#   <out>/gitlab-component/  a GitLab CI/CD component project: templates/asc-publish.yml with the
#                            commit and the sha256 of the dist/ files it fetches filled in, README.md,
#                            .gitlab-ci.yml (creates a catalog release for each semver tag), and
#                            templates/asc-publish.yml.integrity (for `include: remote` + integrity)
#   <out>/bitrise-step/      a self-contained Bitrise step: step.yml at its root, step.sh, dist/
#                            (install.sh, run.sh, manifest.txt), README.md; for git:: and path::
# Usage: scripts/package-ci.sh <out> <commit of this checkout (40 hex)> [manifest]
#   manifest: the dist/manifest.txt released at that commit (default: this checkout's)
set -eEuo pipefail

out="${1:?usage: scripts/package-ci.sh <out> <commit> [manifest]}"
commit="${2:?usage: scripts/package-ci.sh <out> <commit> [manifest]}"
manifest="${3:-}"
mkdir -p -- "${out}"
out="$(cd -- "${out}" && pwd)"
if [[ -n "${manifest}" ]]; then manifest="$(cd -- "$(dirname -- "${manifest}")" && pwd)/$(basename -- "${manifest}")"; fi
cd "$(dirname "${BASH_SOURCE[0]}")/.."
manifest="${manifest:-dist/manifest.txt}"
[[ "${commit}" =~ ^[0-9a-f]{40}$ ]] || { echo "the commit must be 40 hex digits" >&2; exit 2; }

sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | awk '{print $1}'; else shasum -a 256 "$1" | awk '{print $1}'; fi
}

gl="${out}/gitlab-component"
rm -rf -- "${gl}" "${out}/bitrise-step"
mkdir -p -- "${gl}/templates"
pins="$(sha256 dist/install.sh)  install.sh,$(sha256 dist/run.sh)  run.sh,$(sha256 "${manifest}")  manifest.txt"
sed -e "s/@@COMMIT@@/${commit}/g" -e "s/@@SHA256@@/${pins}/g" plugins/gitlab/templates/asc-publish.yml \
  >"${gl}/templates/asc-publish.yml"
cp plugins/gitlab/README.md "${gl}/README.md"
cp plugins/gitlab/release.gitlab-ci.yml "${gl}/.gitlab-ci.yml"
# GitLab's `integrity:` is base64 of the raw digest (SRI); from the hex digest, without openssl.
hex="$(sha256 "${gl}/templates/asc-publish.yml")"
# shellcheck disable=SC2059 # the format is the digest as \xHH escapes, built just above
printf "$(printf '%s' "${hex}" | sed 's/../\\x&/g')" | base64 | tr -d '\n' |
  sed 's/^/sha256-/' >"${gl}/templates/asc-publish.yml.integrity"
echo >>"${gl}/templates/asc-publish.yml.integrity"

bs="${out}/bitrise-step"
mkdir -p -- "${bs}/dist"
cp plugins/bitrise/step.yml plugins/bitrise/step.sh plugins/bitrise/README.md "${bs}/"
cp dist/install.sh dist/run.sh "${bs}/dist/"
cp "${manifest}" "${bs}/dist/manifest.txt"
chmod 0755 "${bs}/step.sh" "${bs}/dist/install.sh" "${bs}/dist/run.sh"
printf '%s\n' "${gl}" "${bs}"
