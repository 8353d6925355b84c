#!/bin/bash
# Write dist/manifest.txt for a release (the release workflow runs it; tests/it/install_script.rs
# checks that dist/install.sh installs from its output): the header comments of the current
# manifest, then `version`, `source` and one `<target> <sha256> <url>` line per archive.
# Usage: scripts/write-manifest.sh <version> <source git URL> <source commit> <download base URL> <archive dir>
#   archives are named asc-publish-v<version>-<target>.tar.gz; prints the manifest on stdout.
set -euo pipefail
version="${1:?version}" source_url="${2:?source URL}" commit="${3:?commit}" base="${4:?download base}" dir="${5:?archive dir}"
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[[ "${version}" =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || { echo "version must be x.y.z" >&2; exit 2; }
[[ "${commit}" =~ ^[0-9a-f]{40}$ ]] || { echo "commit must be 40 hex digits" >&2; exit 2; }
sha256() {
  if command -v sha256sum >/dev/null 2>&1; then sha256sum "$1" | awk '{print $1}'; else shasum -a 256 "$1" | awk '{print $1}'; fi
}
grep '^#' dist/manifest.txt
echo "version ${version}"
echo "source ${source_url} ${commit}"
n=0
for archive in "${dir}"/asc-publish-v"${version}"-*.tar.gz; do
  [[ -f "${archive}" ]] || continue
  file="$(basename -- "${archive}")"
  target="${file#asc-publish-v"${version}"-}"
  printf '%s %s %s/%s\n' "${target%.tar.gz}" "$(sha256 "${archive}")" "${base%/}" "${file}"
  n=$((n + 1))
done
[[ "${n}" -gt 0 ]] || { echo "no asc-publish-v${version}-*.tar.gz in ${dir}" >&2; exit 1; }
