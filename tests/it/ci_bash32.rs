//! scripts/check-bash32.sh, the CI check that the wrapper scripts stay bash 3.2 (macOS's
//! /bin/bash): it flags each bash 4+ construct on its own line, passes the safe spellings, and
//! passes the wrappers themselves (dist/*.sh, the Bitrise step, the GitLab job script).

#![cfg(unix)]

use std::path::Path;
use std::process::Command;

fn check(files: &[&Path]) -> (i32, String) {
    let out = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/check-bash32.sh"))
        .args(files)
        .output()
        .unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

const BASH4: &[&str] = &[
    "declare -A map",
    "local -n ref=x",
    "declare -g G=1",
    "mapfile -t lines < f",
    "readarray lines < f",
    "coproc cat",
    "echo \"${name,,}\"",
    "echo \"${name^^}\"",
    "echo \"${name@Q}\"",
    "echo \"${arr[-1]}\"",
    "if [[ -v name ]]; then :; fi",
    "case x in a) echo ;& b) echo ;; esac",
    "case x in a) echo ;;& b) echo ;; esac",
    "echo hi &>> log",
    "echo hi |& cat",
    "shopt -s globstar",
    "wait -n",
    "read -i def -p x v",
    "echo $EPOCHSECONDS",
    "echo {1..10..2}",
    "echo {01..10}",
    "printf '%(%s)T' -1",
    "cmd \"${args[@]}\"",
];

#[test]
fn every_bash4_construct_is_flagged_on_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("bad.sh");
    std::fs::write(&file, BASH4.join("\n")).unwrap();
    let (code, out) = check(&[&file]);
    assert_eq!(code, 1);
    for (i, line) in BASH4.iter().enumerate() {
        assert!(
            out.contains(&format!("bad.sh:{}: ", i + 1)),
            "not flagged: {line}\n{out}"
        );
    }
}

#[test]
fn bash32_spellings_pass() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("good.sh");
    std::fs::write(
        &file,
        "x=${arr[@]+\"${arr[@]}\"}\necho \"${#name}\" # a comment about ${x,,}\ncase a in a) echo ;; esac\n\
         echo \"${args[@]:1}\"\nread -r line\necho {1..3}\nprintf -v v '%s' x\n[[ $a =~ ^x ]]\n",
    )
    .unwrap();
    let (code, out) = check(&[&file]);
    assert_eq!(code, 0, "{out}");
}

#[test]
fn the_wrapper_scripts_are_bash32() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    // The GitLab job's script, as the job runs it.
    let template = std::fs::read_to_string(root.join("plugins/gitlab/templates/asc-publish.yml")).unwrap();
    let docs = yaml_rust2::YamlLoader::load_from_str(&template).unwrap();
    let (_, job) = docs[1].as_hash().unwrap().iter().next().unwrap();
    let script: Vec<&str> = job["script"]
        .as_vec()
        .unwrap()
        .iter()
        .map(|l| l.as_str().unwrap())
        .collect();
    let gitlab = dir.path().join("gitlab-job.sh");
    std::fs::write(&gitlab, script.join("\n")).unwrap();
    let files = [
        root.join("dist/run.sh"),
        root.join("dist/install.sh"),
        root.join("plugins/bitrise/step.sh"),
        gitlab,
    ];
    let refs: Vec<&Path> = files.iter().map(|p| p.as_path()).collect();
    let (code, out) = check(&refs);
    assert_eq!(code, 0, "{out}");
}
