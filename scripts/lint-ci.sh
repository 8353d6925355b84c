#!/usr/bin/env bash
# Lint the CI packaging offline: action.yml and workflows (action-validator, check-jsonschema,
# zizmor), shell scripts (shellcheck; bash 3.2 compatibility with scripts/check-bash32.sh), the Bitrise step (hand-written schema, see
# tests/fixtures/bitrise-step.schema.md) and the GitLab templates (check-jsonschema vendor.gitlab-ci
# after splitting the component's two YAML documents). Tools are installed from the package
# registries into a cache directory on first use.
set -CeEuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

cache="${ASC_LINT_CACHE:-target/lint-ci}"
mkdir -p "${cache}"
cache="$(cd "${cache}" && pwd)"
venv="${cache}/venv"
ZIZMOR_VERSION=1.32.0
CHECK_JSONSCHEMA_VERSION=0.39.0
ACTION_VALIDATOR_VERSION=0.6.0

step() { printf '== %s\n' "$*"; }

if [[ ! -x "${venv}/bin/zizmor" || ! -x "${venv}/bin/check-jsonschema" ]]; then
  step "install zizmor ${ZIZMOR_VERSION}, check-jsonschema ${CHECK_JSONSCHEMA_VERSION} (pip)"
  python3 -m venv "${venv}"
  "${venv}/bin/pip" install -q --disable-pip-version-check \
    "zizmor==${ZIZMOR_VERSION}" "check-jsonschema==${CHECK_JSONSCHEMA_VERSION}"
fi
action_validator="${cache}/node_modules/.bin/action-validator"
if [[ ! -x "${action_validator}" ]]; then
  step "install @action-validator/cli ${ACTION_VALIDATOR_VERSION} (npm)"
  npm install --silent --no-save --no-audit --no-fund --prefix "${cache}" "@action-validator/cli@${ACTION_VALIDATOR_VERSION}"
fi
if ! command -v shellcheck >/dev/null 2>&1; then
  step "install shellcheck (apt)"
  sudo_cmd=()
  if [[ "$(id -u)" != 0 ]]; then sudo_cmd=(sudo); fi
  "${sudo_cmd[@]}" apt-get install -y -qq shellcheck >/dev/null 2>&1 ||
    { "${sudo_cmd[@]}" apt-get update -qq >/dev/null && "${sudo_cmd[@]}" apt-get install -y -qq shellcheck >/dev/null; }
fi

workflows=(.github/workflows/*.yml)

step "action-validator"
"${action_validator}" action.yml
for w in "${workflows[@]}"; do "${action_validator}" "${w}"; done

step "check-jsonschema (GitHub)"
"${venv}/bin/check-jsonschema" --builtin-schema vendor.github-actions action.yml
"${venv}/bin/check-jsonschema" --builtin-schema vendor.github-workflows "${workflows[@]}"

step "zizmor --offline"
"${venv}/bin/zizmor" --offline --quiet action.yml "${workflows[@]}"

step "shellcheck"
shellcheck dist/*.sh plugins/bitrise/step.sh scripts/*.sh

step "bash 3.2 (macOS /bin/bash) compatibility of the wrapper scripts"
scripts/check-bash32.sh dist/*.sh plugins/bitrise/step.sh

step "check-jsonschema (Bitrise step.yml)"
"${venv}/bin/check-jsonschema" --schemafile tests/fixtures/bitrise-step.schema.json plugins/bitrise/step.yml

step "check-jsonschema (GitLab)"
split="$(mktemp -d)"
trap 'rm -rf -- "${split}"' EXIT
# The component is two YAML documents (spec header, then the jobs); validate each, and
# run the job scripts through shellcheck as bash.
"${venv}/bin/python" - "${split}" plugins/gitlab/templates/*.yml plugins/gitlab/*.yml <<'PY'
import json, os, sys
from ruamel.yaml import YAML
out, files = sys.argv[1], sys.argv[2:]
yaml = YAML(typ="safe")
for f in files:
    base = os.path.basename(f).rsplit(".", 1)[0]
    with open(f) as fh:
        docs = list(yaml.load_all(fh))
    for i, doc in enumerate(docs):
        with open(os.path.join(out, f"{base}.{i}.json"), "w") as o:
            json.dump(doc, o)
        for job, body in (doc or {}).items():
            if isinstance(body, dict) and isinstance(body.get("script"), list):
                with open(os.path.join(out, f"{base}.{i}.sh"), "w") as o:
                    o.write("#!/usr/bin/env bash\n" + "\n".join(body["script"]) + "\n")
PY
"${venv}/bin/check-jsonschema" --builtin-schema vendor.gitlab-ci "${split}"/*.json
shellcheck -s bash "${split}"/*.sh
scripts/check-bash32.sh "${split}"/*.sh

step "packaged wrappers (scripts/package-ci.sh)"
scripts/package-ci.sh "${split}/packaged" 0000000000000000000000000000000000000000 >/dev/null
"${venv}/bin/check-jsonschema" --schemafile tests/fixtures/bitrise-step.schema.json "${split}/packaged/bitrise-step/step.yml"

step "lint-ci: ok"
