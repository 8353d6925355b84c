//! A small OpenAPI 3.0 schema validator for the subset of Apple's spec the tests use: `$ref`,
//! `type`, `nullable`, `enum`, `properties`, `required`, `items`, `additionalProperties`,
//! `oneOf`/`anyOf`/`allOf` (with `discriminator`), loose `format` checks, `minimum`/`maximum`.
//!
//! Strict on purpose: undeclared properties fail too (unless `additionalProperties` allows them),
//! so a misspelt attribute in the simulator or a test body is caught. As strict as Prism's
//! validating proxy about `null`: only where the spec says `nullable` (Apple's live API sends more
//! nulls than its description allows; the simulator omits those properties instead).

use serde_json::Value;

/// Whether a document is something we send (strict) or something the server answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Request,
    Response,
}

pub struct Spec {
    doc: Value,
}

impl Spec {
    /// The trimmed Apple spec in `tests/fixtures/asc-openapi-subset.json`.
    pub fn load() -> Spec {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/asc-openapi-subset.json");
        let text = std::fs::read_to_string(path).expect("read OpenAPI subset");
        Spec::from_value(serde_json::from_str(&text).expect("parse OpenAPI subset"))
    }

    pub fn from_value(doc: Value) -> Spec {
        Spec { doc }
    }

    pub fn doc(&self) -> &Value {
        &self.doc
    }

    /// `{"$ref": "#/components/schemas/NAME"}`.
    pub fn named(name: &str) -> Value {
        serde_json::json!({ "$ref": format!("#/components/schemas/{name}") })
    }

    pub fn resolve(&self, reference: &str) -> Option<&Value> {
        let mut node = &self.doc;
        for part in reference.strip_prefix("#/")?.split('/') {
            node = node.get(part)?;
        }
        Some(node)
    }

    /// Validates `value` against `schema`; every problem, each with its JSON path.
    pub fn validate(&self, schema: &Value, value: &Value, mode: Mode) -> Result<(), Vec<String>> {
        let mut errors = Vec::new();
        self.check(schema, value, mode, "$", &mut errors);
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }

    pub fn validate_named(&self, name: &str, value: &Value, mode: Mode) -> Result<(), Vec<String>> {
        self.validate(&Spec::named(name), value, mode)
    }

    /// The operation for `method` on a concrete path (query ignored), matching `{id}` templates.
    pub fn operation(&self, method: &str, path: &str) -> Option<&Value> {
        let path = path.split('?').next().unwrap_or(path);
        let segments: Vec<&str> = path.split('/').collect();
        let paths = self.doc.get("paths")?.as_object()?;
        for (template, item) in paths {
            let t: Vec<&str> = template.split('/').collect();
            let matches = t.len() == segments.len()
                && t.iter()
                    .zip(&segments)
                    .all(|(a, b)| (a.starts_with('{') && a.ends_with('}') && !b.is_empty()) || a == b);
            if matches {
                return item.get(method.to_ascii_lowercase());
            }
        }
        None
    }

    pub fn request_schema(&self, method: &str, path: &str) -> Option<Value> {
        self.operation(method, path)?
            .pointer("/requestBody/content/application~1json/schema")
            .cloned()
    }

    /// The schema of the documented response for `status`; `Err` when the status is not
    /// documented for that operation (that is a conformance failure too).
    pub fn response_schema(&self, method: &str, path: &str, status: u16) -> Result<Option<Value>, String> {
        let op = self
            .operation(method, path)
            .ok_or_else(|| format!("{method} {path} is not an operation of the spec"))?;
        let responses = op.get("responses").ok_or("operation without responses")?;
        let resp = responses
            .get(status.to_string())
            .or_else(|| responses.get("default"))
            .ok_or_else(|| format!("{method} {path}: status {status} is not documented"))?;
        Ok(resp.pointer("/content/application~1json/schema").cloned())
    }

    fn check(&self, schema: &Value, value: &Value, mode: Mode, path: &str, errors: &mut Vec<String>) {
        let Some(schema) = schema.as_object() else {
            return;
        };
        if value.is_null() {
            let nullable = schema.get("nullable").and_then(Value::as_bool).unwrap_or(false);
            if nullable {
                return;
            }
            if schema.is_empty() {
                return;
            }
            errors.push(format!("{path}: null is not allowed"));
            return;
        }
        if let Some(reference) = schema.get("$ref").and_then(Value::as_str) {
            match self.resolve(reference) {
                Some(target) => self.check(target, value, mode, path, errors),
                None => errors.push(format!("{path}: unresolvable $ref {reference}")),
            }
            return;
        }
        if let Some(all) = schema.get("allOf").and_then(Value::as_array) {
            for s in all {
                self.check(s, value, mode, path, errors);
            }
        }
        if let Some(any) = schema.get("anyOf").and_then(Value::as_array) {
            if !any.iter().any(|s| self.passes(s, value, mode, path)) {
                errors.push(format!("{path}: matches none of anyOf"));
            }
        }
        if let Some(one) = schema.get("oneOf").and_then(Value::as_array) {
            self.check_one_of(schema, one, value, mode, path, errors);
        }
        if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
            if !allowed.contains(value) {
                errors.push(format!(
                    "{path}: {value} is not one of {}",
                    Value::Array(allowed.clone())
                ));
            }
        }
        let ty = schema.get("type").and_then(Value::as_str).or_else(|| {
            (schema.contains_key("properties") || schema.contains_key("additionalProperties")).then_some("object")
        });
        match ty {
            Some("object") => self.check_object(schema, value, mode, path, errors),
            Some("array") => match value.as_array() {
                Some(items) => {
                    if let Some(item_schema) = schema.get("items") {
                        for (i, item) in items.iter().enumerate() {
                            self.check(item_schema, item, mode, &format!("{path}[{i}]"), errors);
                        }
                    }
                }
                None => errors.push(format!("{path}: expected an array, got {value}")),
            },
            Some("string") => match value.as_str() {
                Some(s) => {
                    if let Some(format) = schema.get("format").and_then(Value::as_str) {
                        if let Err(e) = check_format(format, s) {
                            errors.push(format!("{path}: {e}"));
                        }
                    }
                }
                None => errors.push(format!("{path}: expected a string, got {value}")),
            },
            Some("integer") => {
                if value.is_i64() || value.is_u64() {
                    check_bounds(schema, value, path, errors);
                } else {
                    errors.push(format!("{path}: expected an integer, got {value}"));
                }
            }
            Some("number") => {
                if value.is_number() {
                    check_bounds(schema, value, path, errors);
                } else {
                    errors.push(format!("{path}: expected a number, got {value}"));
                }
            }
            Some("boolean") if !value.is_boolean() => {
                errors.push(format!("{path}: expected a boolean, got {value}"));
            }
            Some("boolean") => {}
            Some(other) => errors.push(format!("{path}: unsupported schema type {other}")),
            None => {}
        }
    }

    fn passes(&self, schema: &Value, value: &Value, mode: Mode, path: &str) -> bool {
        let mut errs = Vec::new();
        self.check(schema, value, mode, path, &mut errs);
        errs.is_empty()
    }

    fn check_one_of(
        &self,
        schema: &serde_json::Map<String, Value>,
        options: &[Value],
        value: &Value,
        mode: Mode,
        path: &str,
        errors: &mut Vec<String>,
    ) {
        // With a discriminator the property names the schema: validate against exactly that one.
        if let Some(disc) = schema.get("discriminator") {
            let prop = disc.get("propertyName").and_then(Value::as_str).unwrap_or("type");
            let Some(tag) = value.get(prop).and_then(Value::as_str) else {
                errors.push(format!("{path}: missing discriminator '{prop}'"));
                return;
            };
            match disc.pointer(&format!("/mapping/{tag}")).and_then(Value::as_str) {
                Some(reference) => {
                    let target = serde_json::json!({ "$ref": reference });
                    self.check(&target, value, mode, path, errors);
                }
                None => errors.push(format!("{path}: discriminator value '{tag}' is not allowed here")),
            }
            return;
        }
        let mut failures = Vec::new();
        let mut matched = 0;
        for s in options {
            let mut errs = Vec::new();
            self.check(s, value, mode, path, &mut errs);
            if errs.is_empty() {
                matched += 1;
            } else {
                failures.extend(errs);
            }
        }
        match matched {
            1 => {}
            0 => errors.push(format!("{path}: matches none of oneOf ({})", failures.join("; "))),
            n => errors.push(format!("{path}: matches {n} schemas of oneOf, expected exactly one")),
        }
    }

    fn check_object(
        &self,
        schema: &serde_json::Map<String, Value>,
        value: &Value,
        mode: Mode,
        path: &str,
        errors: &mut Vec<String>,
    ) {
        let Some(object) = value.as_object() else {
            errors.push(format!("{path}: expected an object, got {value}"));
            return;
        };
        let required: Vec<&str> = schema
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        for name in &required {
            match object.get(*name) {
                None => errors.push(format!("{path}: missing required property '{name}'")),
                // A required property must carry a value unless declared nullable.
                Some(Value::Null) => {
                    let prop_schema = schema.get("properties").and_then(|p| p.get(*name));
                    let nullable = prop_schema
                        .and_then(|s| s.get("nullable"))
                        .and_then(Value::as_bool)
                        .unwrap_or(false);
                    if !nullable {
                        errors.push(format!("{path}.{name}: required property is null"));
                    }
                }
                Some(_) => {}
            }
        }
        let properties = schema.get("properties").and_then(Value::as_object);
        let additional = schema.get("additionalProperties");
        for (name, v) in object {
            let child = format!("{path}.{name}");
            let is_optional = !required.contains(&name.as_str());
            match properties.and_then(|p| p.get(name)) {
                Some(prop_schema) => {
                    if !v.is_null() || is_optional {
                        self.check(prop_schema, v, mode, &child, errors);
                    }
                }
                None => match additional {
                    Some(Value::Bool(true)) => {}
                    Some(s @ Value::Object(_)) => self.check(s, v, mode, &child, errors),
                    _ => errors.push(format!("{child}: property is not declared in the schema")),
                },
            }
        }
    }
}

fn check_bounds(schema: &serde_json::Map<String, Value>, value: &Value, path: &str, errors: &mut Vec<String>) {
    let Some(n) = value.as_f64() else { return };
    if let Some(min) = schema.get("minimum").and_then(Value::as_f64) {
        if n < min {
            errors.push(format!("{path}: {value} is below the minimum {min}"));
        }
    }
    if let Some(max) = schema.get("maximum").and_then(Value::as_f64) {
        if n > max {
            errors.push(format!("{path}: {value} is above the maximum {max}"));
        }
    }
}

/// Loose format checks: enough to catch a wrong kind of value, not a full RFC parser.
fn check_format(format: &str, s: &str) -> Result<(), String> {
    match format {
        "date-time" => {
            let b = s.as_bytes();
            let shape = b.len() >= 20
                && b.get(4) == Some(&b'-')
                && b.get(7) == Some(&b'-')
                && matches!(b.get(10), Some(b'T') | Some(b't'))
                && b.get(13) == Some(&b':')
                && b.get(16) == Some(&b':')
                && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18]
                    .iter()
                    .all(|i| b.get(*i).is_some_and(u8::is_ascii_digit));
            let zone = s.ends_with('Z') || s.ends_with('z') || {
                let tail = s.get(s.len().saturating_sub(6)..).unwrap_or("");
                let tail4 = s.get(s.len().saturating_sub(5)..).unwrap_or("");
                (tail.starts_with('+') || tail.starts_with('-')) && tail.get(3..4) == Some(":")
                    || (tail4.starts_with('+') || tail4.starts_with('-'))
                        && tail4[1..].bytes().all(|c| c.is_ascii_digit())
            };
            if shape && zone {
                Ok(())
            } else {
                Err(format!("'{s}' is not a date-time"))
            }
        }
        "uri" => {
            let scheme_ok = s.split_once(':').is_some_and(|(scheme, _)| {
                !scheme.is_empty() && scheme.bytes().all(|c| c.is_ascii_alphanumeric() || b"+.-".contains(&c))
            });
            if scheme_ok && !s.contains(char::is_whitespace) {
                Ok(())
            } else {
                Err(format!("'{s}' is not a URI"))
            }
        }
        "uri-reference" => {
            if !s.is_empty() && !s.contains(char::is_whitespace) {
                Ok(())
            } else {
                Err(format!("'{s}' is not a URI reference"))
            }
        }
        _ => Ok(()),
    }
}
