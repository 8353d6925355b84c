//! Recorded App Store Connect responses (`tests/fixtures/recorded/asc`) and resource shapes: for
//! each resource type, every attribute path seen with the JSON kinds it had, and how many complete
//! recordings carried it. Used by the contract tests (simulator vs. Apple) and the replay test.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde_json::Value;

/// One recorded response body.
pub struct Recording {
    /// `<resource dir>/<file>`, e.g. `builds/fastlane-builds.json`.
    pub name: String,
    /// Answered a `fields[...]` request: attributes were left out on purpose.
    pub sparse: bool,
    pub body: Value,
}

pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/recorded/asc")
}

/// Every recording, sorted by name.
pub fn load() -> Vec<Recording> {
    let mut out = Vec::new();
    for sub in std::fs::read_dir(dir()).expect("recorded/asc exists") {
        let sub = sub.unwrap().path();
        if !sub.is_dir() {
            continue;
        }
        for f in std::fs::read_dir(&sub).unwrap() {
            let f = f.unwrap().path();
            if f.extension().and_then(|e| e.to_str()) != Some("json") {
                continue;
            }
            let name = format!(
                "{}/{}",
                sub.file_name().unwrap().to_string_lossy(),
                f.file_name().unwrap().to_string_lossy()
            );
            let text = std::fs::read_to_string(&f).unwrap();
            let body: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{name}: {e}"));
            out.push(Recording {
                sparse: name.ends_with("-sparse.json"),
                name,
                body,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

/// One recording by name.
pub fn get(name: &str) -> Value {
    load()
        .into_iter()
        .find(|r| r.name == name)
        .unwrap_or_else(|| panic!("no recording {name}"))
        .body
}

/// The resource objects of a body: `data` (one or a list) and `included`, or the body itself when
/// it is a bare resource (some projects keep those).
pub fn resources(body: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    match body.get("data") {
        Some(Value::Array(items)) => out.extend(items.iter()),
        Some(v @ Value::Object(_)) => out.push(v),
        _ if body.get("type").is_some() && body.get("id").is_some() => out.push(body),
        _ => {}
    }
    if let Some(Value::Array(items)) = body.get("included") {
        out.extend(items.iter());
    }
    out
}

pub fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "bool",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// `attributes` flattened: `state`, `state.errors`, `uploadOperations[].url`, …
pub fn flatten(v: &Value, prefix: &str, out: &mut Vec<(String, &'static str)>) {
    let Value::Object(map) = v else { return };
    for (k, v) in map {
        let path = format!("{prefix}{k}");
        out.push((path.clone(), kind(v)));
        match v {
            Value::Object(_) => flatten(v, &format!("{path}."), out),
            Value::Array(items) => {
                for item in items {
                    flatten(item, &format!("{path}[]."), out);
                }
            }
            _ => {}
        }
    }
}

/// What was seen of one resource type.
#[derive(Debug, Default, Clone)]
pub struct Shape {
    pub kinds: BTreeMap<String, BTreeSet<&'static str>>,
    /// Complete (not sparse) resources seen.
    pub full: usize,
    /// Path → how many complete resources carried it.
    pub present: BTreeMap<String, usize>,
}

pub type Shapes = BTreeMap<String, Shape>;

/// Adds a resource's attributes (or an error entry, under type `errors`) to `shapes`.
pub fn add(shapes: &mut Shapes, kind_name: &str, fields: &Value, sparse: bool) {
    let mut flat = Vec::new();
    flatten(fields, "", &mut flat);
    let shape = shapes.entry(kind_name.to_string()).or_default();
    let mut seen = BTreeSet::new();
    for (path, k) in flat {
        shape.kinds.entry(path.clone()).or_default().insert(k);
        seen.insert(path);
    }
    if !sparse {
        shape.full += 1;
        for p in seen {
            *shape.present.entry(p).or_default() += 1;
        }
    }
}

/// Adds every resource and error entry of a response body.
pub fn add_body(shapes: &mut Shapes, body: &Value, sparse: bool) {
    for r in resources(body) {
        let t = r["type"].as_str().unwrap_or("?");
        let attrs = r
            .get("attributes")
            .cloned()
            .unwrap_or(Value::Object(Default::default()));
        add(shapes, t, &attrs, sparse);
    }
    if let Some(Value::Array(errors)) = body.get("errors") {
        for e in errors {
            add(shapes, "errors", e, sparse);
        }
    }
}

/// The recorded shapes.
pub fn recorded_shapes() -> Shapes {
    let mut shapes = Shapes::new();
    for r in load() {
        add_body(&mut shapes, &r.body, r.sparse);
    }
    shapes
}

/// Apple's OpenAPI (the trimmed copy the tests carry): which attribute paths a resource declares.
pub struct Declared(Value);

impl Declared {
    pub fn load() -> Declared {
        let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/asc-openapi-subset.json");
        Declared(serde_json::from_str(&std::fs::read_to_string(p).unwrap()).unwrap())
    }

    fn resolve<'a>(&'a self, mut v: &'a Value) -> &'a Value {
        for _ in 0..16 {
            match v.get("$ref").and_then(Value::as_str) {
                Some(r) => {
                    let name = r.rsplit('/').next().unwrap_or("");
                    v = &self.0["components"]["schemas"][name];
                }
                None => break,
            }
        }
        v
    }

    fn root(&self, kind_name: &str) -> Option<&Value> {
        let schema = match kind_name {
            "apps" => "App",
            "builds" => "Build",
            "buildUploads" => "BuildUpload",
            "buildUploadFiles" => "BuildUploadFile",
            "betaGroups" => "BetaGroup",
            "betaBuildLocalizations" => "BetaBuildLocalization",
            "buildBetaDetails" => "BuildBetaDetail",
            "preReleaseVersions" => "PrereleaseVersion",
            "errors" => {
                return Some(
                    self.resolve(&self.0["components"]["schemas"]["ErrorResponse"]["properties"]["errors"]["items"]),
                );
            }
            _ => return None,
        };
        Some(self.resolve(&self.0["components"]["schemas"][schema]["properties"]["attributes"]))
    }

    /// Whether Apple's schema for `kind_name` declares the attribute path (a free-form object
    /// declares everything under it).
    pub fn declares(&self, kind_name: &str, path: &str) -> bool {
        let Some(mut node) = self.root(kind_name) else {
            return false;
        };
        for seg in path.split('.') {
            let (name, array) = match seg.strip_suffix("[]") {
                Some(n) => (n, true),
                None => (seg, false),
            };
            node = self.resolve(node);
            let Some(props) = node.get("properties").and_then(Value::as_object) else {
                return node.get("type").and_then(Value::as_str) == Some("object")
                    || node.get("additionalProperties").is_some();
            };
            let Some(next) = props.get(name) else { return false };
            node = self.resolve(next);
            if array {
                node = self.resolve(&node["items"]);
            }
        }
        true
    }
}

/// Attribute paths where the simulator may answer `null` (or leave the attribute out) although no
/// recording shows Apple doing so, each with the reason.
pub const NULL_WITHOUT_RECORDING: &[(&str, &str, &str)] = &[
    (
        "builds",
        "usesNonExemptEncryption",
        "export compliance not answered yet (every recorded build had answered it)",
    ),
    (
        "builds",
        "iconAssetToken",
        "the simulator's builds come from sample IPAs without an icon; nothing to point a template URL at",
    ),
    (
        "buildUploadFiles",
        "uploadOperations[].entityTag",
        "the simulator gives a part's ETag once the part is received; the only recording with a value (eas-cli) \
         was shortened to \"tag\" by its authors, so what Apple puts there before a PUT is unknown",
    ),
];

/// The simulator's shapes that disagree with the recorded ones: attributes neither recorded nor
/// declared by Apple (invented), attributes every complete recording carries and Apple declares but
/// the simulator lacks (missing), `null` where Apple was only recorded with values, other kinds.
pub fn diff(recorded: &Shapes, sim: &Shapes, declared: &Declared) -> Vec<String> {
    let mut out = Vec::new();
    for (t, s) in sim {
        let Some(r) = recorded.get(t) else {
            out.push(format!("{t}: the simulator serves it but nothing of it is recorded"));
            continue;
        };
        for (path, kinds) in &s.kinds {
            match r.kinds.get(path) {
                None => {
                    if !declared.declares(t, path) {
                        out.push(format!(
                            "{t}.{path}: invented (neither recorded nor in Apple's OpenAPI)"
                        ));
                    }
                }
                Some(rk) => {
                    for k in kinds {
                        if *k == "null" {
                            let allowed = NULL_WITHOUT_RECORDING.iter().any(|(a, b, _)| *a == t && *b == path);
                            if !rk.contains("null") && !allowed {
                                out.push(format!("{t}.{path}: null, but Apple was recorded only with {rk:?}"));
                            }
                        } else if !rk.contains(k) && rk.iter().any(|x| *x != "null") {
                            out.push(format!("{t}.{path}: {k}, but Apple was recorded with {rk:?}"));
                        }
                    }
                }
            }
        }
        for (path, n) in &r.present {
            // Required in every simulator resource of the type, not just somewhere.
            let in_every = s.present.get(path).copied().unwrap_or(0) == s.full;
            if *n < r.full || r.full == 0 || in_every || !declared.declares(t, path) {
                continue;
            }
            // The simulator leaves `null`s out (Apple's OpenAPI declares nothing nullable, and its
            // answers must pass a validating proxy; see `sim::server::without_nulls`): absent stands
            // for null, which is right where Apple was recorded answering null.
            let allowed = NULL_WITHOUT_RECORDING.iter().any(|(a, b, _)| a == t && b == path);
            if allowed || r.kinds.get(path).is_some_and(|k| k.contains("null")) {
                continue;
            }
            // A nested field is required only where the simulator answers its parent as a value.
            let parent = path.rsplit_once('.').map(|(p, _)| p.trim_end_matches("[]"));
            let parent_has_value = parent.is_none_or(|p| {
                s.kinds
                    .get(p)
                    .is_some_and(|k| k.contains("object") || k.contains("array"))
            });
            if parent_has_value {
                out.push(format!(
                    "{t}.{path}: missing from {} of the simulator's {} (every complete recording of {t} has it, {n} of {})",
                    s.full - s.present.get(path).copied().unwrap_or(0),
                    s.full,
                    r.full
                ));
            }
        }
    }
    out
}
