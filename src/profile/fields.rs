//! Reading a profile's plist into [`Profile`](super::Profile) fields, and showing entitlements as JSON.

use std::time::SystemTime;

use base64::Engine as _;
use plist::{Dictionary, Value};

use super::certificate::CertificateSummary;
use super::classify::ProfileKind;
use super::verify::SignatureVerdict;
use super::{Profile, rfc3339};

/// Builds the profile from its (already parsed) top-level dictionary.
pub fn from_dictionary(dict: &Dictionary, signature: SignatureVerdict) -> Profile {
    let string = |key: &str| dict.get(key).and_then(Value::as_string).map(str::to_owned);
    let strings = |key: &str| -> Vec<String> {
        dict.get(key)
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_string).map(str::to_owned).collect())
            .unwrap_or_default()
    };
    let date = |key: &str| dict.get(key).and_then(Value::as_date).map(SystemTime::from);
    let entitlements = dict
        .get("Entitlements")
        .and_then(Value::as_dictionary)
        .cloned()
        .unwrap_or_default();
    let ent_bool = |key: &str| entitlements.get(key).and_then(Value::as_boolean).unwrap_or(false);
    let get_task_allow = ent_bool("get-task-allow");
    let beta_reports_active = ent_bool("beta-reports-active");
    let application_identifier = entitlements
        .get("application-identifier")
        .or_else(|| entitlements.get("com.apple.application-identifier"))
        .and_then(Value::as_string)
        .map(str::to_owned);
    // Only the number of devices is kept: UDIDs are personal data and never shown.
    let device_count = dict
        .get("ProvisionedDevices")
        .and_then(Value::as_array)
        .map_or(0, Vec::len);
    let provisions_all_devices = dict
        .get("ProvisionsAllDevices")
        .and_then(Value::as_boolean)
        .unwrap_or(false);
    let developer_certificates: Vec<Vec<u8>> = dict
        .get("DeveloperCertificates")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_data).map(<[u8]>::to_vec).collect())
        .unwrap_or_default();
    let certificates = developer_certificates
        .iter()
        .map(|d| CertificateSummary::of(d))
        .collect();
    let created_at = date("CreationDate");
    let expires_at = date("ExpirationDate");

    Profile {
        kind: ProfileKind::classify(get_task_allow, provisions_all_devices, device_count),
        name: string("Name"),
        uuid: string("UUID"),
        team_ids: strings("TeamIdentifier"),
        team_name: string("TeamName"),
        app_id_name: string("AppIDName"),
        app_id_prefixes: strings("ApplicationIdentifierPrefix"),
        application_identifier,
        platforms: strings("Platform"),
        created: created_at.and_then(rfc3339),
        expires: expires_at.and_then(rfc3339),
        created_at,
        expires_at,
        entitlements,
        developer_certificates,
        certificates,
        device_count,
        provisions_all_devices,
        get_task_allow,
        beta_reports_active,
        signature,
    }
}

/// A plist value as JSON: dates as RFC 3339, data as base64.
pub fn to_json(value: &Value) -> serde_json::Value {
    use serde_json::Value as J;
    match value {
        Value::Array(a) => J::Array(a.iter().map(to_json).collect()),
        Value::Dictionary(d) => J::Object(d.iter().map(|(k, v)| (k.clone(), to_json(v))).collect()),
        Value::Boolean(b) => J::Bool(*b),
        Value::Data(d) => J::String(base64::engine::general_purpose::STANDARD.encode(d)),
        Value::Date(d) => rfc3339(SystemTime::from(*d)).map_or(J::Null, J::String),
        Value::Real(r) => serde_json::Number::from_f64(*r).map_or(J::Null, J::Number),
        Value::Integer(i) => i
            .as_signed()
            .map(J::from)
            .or_else(|| i.as_unsigned().map(J::from))
            .unwrap_or(J::Null),
        Value::String(s) => J::String(s.clone()),
        _ => J::Null,
    }
}

/// `serialize_with` for the entitlements dictionary.
pub fn serialize_dictionary<S: serde::Serializer>(dict: &Dictionary, s: S) -> Result<S::Ok, S::Error> {
    use serde::Serialize as _;
    let map: serde_json::Map<String, serde_json::Value> = dict.iter().map(|(k, v)| (k.clone(), to_json(v))).collect();
    map.serialize(s)
}
