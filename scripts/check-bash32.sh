#!/bin/bash
# Fails when a wrapper script uses a bash feature newer than bash 3.2, the /bin/bash of macOS
# runners (GitHub's macOS images, Bitrise's macOS stacks, GitLab's SaaS macOS runners). No bash 3.2
# build is available from the package registries, so this checks the script text for the
# constructs 3.2 lacks (and the one 3.2 behaviour that bites: "${a[@]}" of an empty array under
# `set -u` is an error before bash 4.4; write ${a[@]+"${a[@]}"}). Comments are ignored; a line
# ending in `# bash32: ok` is exempt.
# Usage: scripts/check-bash32.sh FILE...   (each rule: '<extended regex> => <what it is>')
set -euo pipefail

# shellcheck disable=SC2016 # the patterns are regular expressions, never expanded
rules=(
  '(declare|local|typeset)[[:space:]]+-[a-zA-Z]*A => associative array (bash 4.0)'
  '(declare|local|typeset)[[:space:]]+-[a-zA-Z]*n[[:space:]] => nameref (bash 4.3)'
  '(declare|typeset)[[:space:]]+-[a-zA-Z]*g => declare -g (bash 4.2)'
  '(^|[;&|[:space:]])(mapfile|readarray)([[:space:]]|$) => mapfile/readarray (bash 4.0)'
  '(^|[;&|[:space:]])coproc([[:space:]]|$) => coproc (bash 4.0)'
  '\$\{[#!]?[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?(,,?|\^\^?)[^}]*\} => case conversion ${v,,} ${v^^} (bash 4.0)'
  '\$\{[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?@[QEPAaUuLK]\} => ${v@op} transformation (bash 4.4)'
  '\$\{[A-Za-z_][A-Za-z0-9_]*\[[[:space:]]*-[0-9]+[[:space:]]*\]\} => negative array index (bash 4.3)'
  '\[\[[[:space:]]+(!?[[:space:]]*)-v[[:space:]] => [[ -v name ]] (bash 4.2)'
  ';;&|[^;];&([[:space:]]|$) => case fall-through ;& ;;& (bash 4.0)'
  '&>> => append both streams &>> (bash 4.0)'
  '\|& => pipe both streams |& (bash 4.0)'
  'shopt[[:space:]]+-s[[:space:]]+(globstar|lastpipe|autocd|direxpand|checkjobs) => shopt option (bash 4+)'
  'wait[[:space:]]+-n => wait -n (bash 4.3)'
  'read[[:space:]]+(-[a-zA-Z]*[[:space:]]+)*-[a-zA-Z]*[iN] => read -i / -N (bash 4.0/4.1)'
  '\$\{?(EPOCHSECONDS|EPOCHREALTIME|BASHPID|BASH_ARGV0) => bash 4+/5 variable'
  '\{[-+]?[0-9a-zA-Z]+\.\.[-+]?[0-9a-zA-Z]+\.\.[-+]?[0-9]+\} => brace expansion step {a..b..n} (bash 4.0)'
  '\{0[0-9]+\.\.[0-9]+\} => zero-padded brace expansion (bash 4.0)'
  'printf[[:space:]].*%\([^)]*\)T => printf %(fmt)T (bash 4.2)'
  '"\$\{[A-Za-z_][A-Za-z0-9_]*\[@\]\}" => "${a[@]}" fails on an empty array under set -u before bash 4.4: ${a[@]+"${a[@]}"}'
)

status=0
for file in "$@"; do
  n=0
  while IFS= read -r line || [[ -n "${line}" ]]; do
    n=$((n + 1))
    case "${line}" in *'# bash32: ok') continue ;; esac
    # Drop whole-line comments and trailing `  # text` comments (not ${#x}, $#).
    code="$(printf '%s' "${line}" | sed -E 's/^[[:space:]]*#.*$//; s/[[:space:]]+#[[:space:]].*$//')"
    # The safe empty-array form contains the unsafe one: remove it first.
    code="$(printf '%s' "${code}" | sed -E 's/\$\{[A-Za-z_][A-Za-z0-9_]*\[@\]\+"\$\{[A-Za-z_][A-Za-z0-9_]*\[@\]\}"\}//g')"
    [[ -n "${code//[[:space:]]/}" ]] || continue
    for rule in "${rules[@]}"; do
      if printf '%s\n' "${code}" | grep -Eq -- "${rule%% => *}"; then
        printf '%s:%d: %s\n' "${file}" "${n}" "${rule#* => }"
        status=1
      fi
    done
  done <"${file}"
done
exit "${status}"
