#!/bin/bash
# shellcheck shell=bash
# Install asc-publish for the CI wrappers: the prebuilt binary for this machine from
# dist/manifest.txt, verified against the sha256 pinned there; else a build from source of this
# repository at the pinned revision (cached). Never anything from a registry by bare name.
#
# Inputs (environment):
#   GITHUB_ACTION_PATH       directory holding dist/manifest.txt (default: this script's parent's parent)
#   RUNNER_OS, RUNNER_ARCH   platform (GitHub names); falls back to uname
#   RUNNER_TEMP              install root parent (falls back to TMPDIR or /tmp)
#   ASC_PUBLISH_CACHE        source-build cache (default: ~/.cache/asc-publish)
#   GITHUB_PATH              when set, the bin directory is appended to it for later steps
#   GITHUB_OUTPUT            when set, receives `bin=<dir>` (the action's run step uses it)
#   INPUT_VERSION            optional; must be the version this ref pins (pin the wrapper instead)
#   INPUT_BUILD_FROM_SOURCE  "true" to skip the prebuilt binary
# Prints the bin directory on the last line of stdout as `asc-publish-bin=<dir>`.
#
# Must run on bash 3.2 (/bin/bash on macOS runners): scripts/check-bash32.sh checks it in CI.
set -eEuo pipefail

bail() {
  printf '::error title=asc-publish install::%s\n' "$*"
  exit 1
}

action_dir="${GITHUB_ACTION_PATH:-$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)}"
manifest="${action_dir}/dist/manifest.txt"
[[ -f "${manifest}" ]] || bail "${manifest} is missing"
os="${RUNNER_OS:-$(uname -s)}"
arch="${RUNNER_ARCH:-$(uname -m)}"
case "${os}:${arch}" in
  macOS:ARM64 | Darwin:arm64 | Darwin:aarch64) target=aarch64-apple-darwin ;;
  macOS:X64 | Darwin:x86_64) target=x86_64-apple-darwin ;;
  Linux:X64 | Linux:x86_64) target=x86_64-unknown-linux-musl ;;
  Linux:ARM64 | Linux:aarch64 | Linux:arm64) target=aarch64-unknown-linux-musl ;;
  *) target="" ;;
esac

# `version <semver>`, `source <git url> <commit>` and `<target> <sha256> <url>` lines.
field() { # <first word> -> the rest of the first such line
  awk -v k="$1" '$0 !~ /^[[:space:]]*#/ && $1 == k { $1 = ""; sub(/^ /, ""); print; exit }' "${manifest}"
}
pinned_version="$(field version)"
read -r source_url source_rev <<<"$(field source) " || true
version="${INPUT_VERSION:-}"
version="${version#v}"
if [[ -n "${version}" && "${version}" != "${pinned_version}" ]]; then
  bail "this wrapper ref pins asc-publish ${pinned_version:-(no release)}, not ${version}: pin the action, component or step to v${version} instead of setting version"
fi

root="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/asc-publish"
bin_dir="${root}/bin"
mkdir -p -- "${bin_dir}"

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

fetch() { # <url> <file>
  case "$1" in
    https://*) curl --proto '=https' --tlsv1.2 -fsSL --retry 5 -o "$2" "$1" ;;
    # A local mirror of the release (air-gapped runners, tests); the sha256 still decides.
    file://*) cp -- "${1#file://}" "$2" ;;
    *) return 1 ;;
  esac
}

# The installed binary must run, whatever produced it.
check_binary() { # <path> <what produced it>
  [[ -x "$1" ]] || bail "$2 produced no asc-publish binary"
  "$1" --version >/dev/null 2>&1 || bail "$2 produced an asc-publish that does not run on ${os}/${arch}"
}

line=""
if [[ "${INPUT_BUILD_FROM_SOURCE:-false}" != "true" && -n "${target}" ]]; then
  line="$(field "${target}")"
fi

if [[ -n "${line}" ]]; then
  read -r sha url <<<"${line}"
  [[ "${sha}" =~ ^[0-9a-f]{64}$ ]] || bail "malformed sha256 for ${target} in dist/manifest.txt"
  case "${url}" in
    https://* | file://*) ;;
    *) bail "refusing the URL for ${target} in dist/manifest.txt (https:// or file:// only)" ;;
  esac
  printf '::group::Install asc-publish %s (%s)\n' "${pinned_version}" "${target}"
  tmp="$(mktemp -d)"
  trap 'rm -rf -- "${tmp}"' EXIT
  fetch "${url}" "${tmp}/pkg.tar.gz" || bail "download failed: ${url}"
  sha256_check "${sha}" "${tmp}/pkg.tar.gz" ||
    bail "sha256 mismatch for ${url}: the download does not match dist/manifest.txt"
  mkdir -p -- "${tmp}/x"
  tar -xzf "${tmp}/pkg.tar.gz" -C "${tmp}/x" || bail "cannot extract ${url}"
  exe="$(find "${tmp}/x" -type f -name asc-publish | head -n 1)"
  [[ -n "${exe}" ]] || bail "the archive ${url} holds no asc-publish binary"
  rm -f -- "${bin_dir}/asc-publish"
  cp -- "${exe}" "${bin_dir}/asc-publish"
  chmod 0755 "${bin_dir}/asc-publish"
  check_binary "${bin_dir}/asc-publish" "the download"
  printf '::endgroup::\n'
else
  printf '::group::Build asc-publish from source\n'
  command -v cargo >/dev/null 2>&1 ||
    bail "no prebuilt binary for ${target:-${os}/${arch}} in dist/manifest.txt and cargo is not installed (install Rust, or use a supported runner)"
  if [[ -f "${action_dir}/Cargo.toml" && -d "${action_dir}/src" ]]; then
    # The GitHub Action's checkout is this repository at the pinned ref; not cached (a self-hosted
    # runner may check out another ref of it next time).
    cache="${root}/build"
    cargo install --locked --root "${cache}" --path "${action_dir}" || bail "cargo install --path ${action_dir} failed"
  elif [[ "${source_url}" == https://* && "${source_rev}" =~ ^[0-9a-f]{40}$ ]]; then
    rust="$(rustc --version 2>/dev/null | awk '{print $2}')"
    cache="${ASC_PUBLISH_CACHE:-${HOME:-/tmp}/.cache/asc-publish}/${pinned_version:-unreleased}-${source_rev}-${target:-${os}-${arch}}-rust${rust:-unknown}"
    if [[ -x "${cache}/bin/asc-publish" ]] && "${cache}/bin/asc-publish" --version >/dev/null 2>&1; then
      printf 'using the cached build %s\n' "${cache}"
    else
      cargo install --locked --root "${cache}" --git "${source_url}" --rev "${source_rev}" asc-publish ||
        bail "cargo install --git ${source_url} --rev ${source_rev} failed"
    fi
  else
    bail "no prebuilt binary for ${target:-${os}/${arch}} and dist/manifest.txt pins no source revision to build"
  fi
  check_binary "${cache}/bin/asc-publish" "the source build"
  rm -f -- "${bin_dir}/asc-publish"
  cp -- "${cache}/bin/asc-publish" "${bin_dir}/asc-publish"
  printf '::endgroup::\n'
fi

if [[ -n "${GITHUB_PATH:-}" ]]; then
  printf '%s\n' "${bin_dir}" >>"${GITHUB_PATH}"
fi
if [[ -n "${GITHUB_OUTPUT:-}" ]]; then
  printf 'bin=%s\n' "${bin_dir}" >>"${GITHUB_OUTPUT}"
fi
printf 'asc-publish-bin=%s\n' "${bin_dir}"
