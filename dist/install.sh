#!/usr/bin/env bash
# Install asc-publish for the GitHub Action (and the Bitrise step): the prebuilt binary for this
# runner from dist/manifest.txt, verified against the sha256 pinned there, else a build from source.
#
# Inputs (environment):
#   GITHUB_ACTION_PATH       the action checkout (defaults to this script's parent directory)
#   RUNNER_OS, RUNNER_ARCH   platform (GitHub names); falls back to uname
#   RUNNER_TEMP              install root parent (falls back to TMPDIR or /tmp)
#   GITHUB_PATH              when set, the bin directory is appended to it for later steps
#   GITHUB_OUTPUT            when set, receives `bin=<dir>` (the action's run step uses it)
#   INPUT_VERSION            optional version; one not pinned in the manifest is installed from crates.io
#   INPUT_BUILD_FROM_SOURCE  "true" to skip the prebuilt binary
# Prints the bin directory on the last line of stdout as `asc-publish-bin=<dir>`.
set -CeEuo pipefail

bail() {
  printf '::error title=asc-publish install::%s\n' "$*"
  exit 1
}

action_dir="${GITHUB_ACTION_PATH:-$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)}"
manifest="${action_dir}/dist/manifest.txt"
os="${RUNNER_OS:-$(uname -s)}"
arch="${RUNNER_ARCH:-$(uname -m)}"
case "${os}:${arch}" in
  macOS:ARM64 | Darwin:arm64 | Darwin:aarch64) target=aarch64-apple-darwin ;;
  macOS:X64 | Darwin:x86_64) target=x86_64-apple-darwin ;;
  Linux:X64 | Linux:x86_64) target=x86_64-unknown-linux-musl ;;
  Linux:ARM64 | Linux:aarch64 | Linux:arm64) target=aarch64-unknown-linux-musl ;;
  *) target="" ;;
esac

root="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/asc-publish"
bin_dir="${root}/bin"
mkdir -p -- "${bin_dir}"
version="${INPUT_VERSION:-}"
version="${version#v}"

line=""
if [[ "${INPUT_BUILD_FROM_SOURCE:-false}" != "true" && -n "${target}" && -f "${manifest}" ]]; then
  line="$(awk -v t="${target}" '$0 !~ /^[[:space:]]*#/ && $1 == t { print; exit }' "${manifest}")"
fi
sha=""
url=""
if [[ -n "${line}" ]]; then
  read -r _ sha url <<<"${line}"
  if [[ -n "${version}" && "${url}" != *"/v${version}/"* ]]; then
    # The manifest pins only the version of this action ref; another version has no pinned hash.
    line=""
  fi
fi

sha256_check() { # <expected> <file>
  if command -v sha256sum >/dev/null 2>&1; then
    printf '%s  %s\n' "$1" "$2" | sha256sum -c - >/dev/null 2>&1
  elif command -v shasum >/dev/null 2>&1; then
    # GitHub's macOS runners have no GNU coreutils.
    printf '%s  %s\n' "$1" "$2" | shasum -a 256 -c - >/dev/null 2>&1
  else
    bail "neither sha256sum nor shasum is available to verify the download"
  fi
}

if [[ -n "${line}" ]]; then
  [[ "${sha}" =~ ^[0-9a-f]{64}$ ]] || bail "malformed sha256 for ${target} in dist/manifest.txt"
  [[ "${url}" == https://* ]] || bail "refusing a non-https URL for ${target} in dist/manifest.txt"
  printf '::group::Install asc-publish (%s)\n' "${target}"
  tmp="$(mktemp -d)"
  trap 'rm -rf -- "${tmp}"' EXIT
  curl --proto '=https' --tlsv1.2 -fsSL --retry 5 -o "${tmp}/pkg.tar.gz" "${url}" || bail "download failed: ${url}"
  sha256_check "${sha}" "${tmp}/pkg.tar.gz" || bail "sha256 mismatch for ${url}: the download does not match dist/manifest.txt"
  mkdir -p -- "${tmp}/x"
  tar -xzf "${tmp}/pkg.tar.gz" -C "${tmp}/x" || bail "cannot extract ${url}"
  exe="$(find "${tmp}/x" -type f -name asc-publish | head -n 1)"
  [[ -n "${exe}" ]] || bail "the archive ${url} holds no asc-publish binary"
  rm -f -- "${bin_dir}/asc-publish"
  install -m 0755 "${exe}" "${bin_dir}/asc-publish"
  printf '::endgroup::\n'
else
  printf '::group::Build asc-publish from source\n'
  command -v cargo >/dev/null 2>&1 ||
    bail "no prebuilt binary for ${target:-${os}/${arch}} and cargo is not installed (install Rust, or use a supported runner)"
  if [[ -n "${version}" && "${url}" != *"/v${version}/"* ]]; then
    cargo install --locked --root "${root}" --version "${version}" asc-publish
  elif [[ -f "${action_dir}/Cargo.toml" ]]; then
    cargo install --locked --root "${root}" --path "${action_dir}"
  else
    # GitLab and Bitrise fetch only dist/; there is no source tree to build.
    cargo install --locked --root "${root}" asc-publish
  fi
  printf '::endgroup::\n'
fi

if [[ -n "${GITHUB_PATH:-}" ]]; then
  printf '%s\n' "${bin_dir}" >>"${GITHUB_PATH}"
fi
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
  printf 'bin=%s\n' "${bin_dir}" >>"${GITHUB_OUTPUT}"
fi
printf 'asc-publish-bin=%s\n' "${bin_dir}"
