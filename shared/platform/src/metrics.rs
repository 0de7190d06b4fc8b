//! Metrics in CloudWatch Embedded Metric Format: one JSON line on stdout per flush, which
//! CloudWatch Logs turns into metrics with no API call on the request path.

use std::io::Write;

use serde_json::{Map, Value, json};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Unit {
    Count,
    Milliseconds,
    Bytes,
    Percent,
}

impl Unit {
    fn as_str(self) -> &'static str {
        match self {
            Unit::Count => "Count",
            Unit::Milliseconds => "Milliseconds",
            Unit::Bytes => "Bytes",
            Unit::Percent => "Percent",
        }
    }
}

/// Metrics collected during one invocation, written by [`Metrics::flush`].
#[derive(Debug)]
pub struct Metrics {
    namespace: String,
    dimensions: Vec<(String, String)>,
    values: Vec<(String, Unit, f64)>,
}

impl Metrics {
    /// `service` becomes the one dimension every metric carries.
    pub fn new(namespace: &str, service: &str) -> Self {
        Metrics {
            namespace: namespace.to_owned(),
            dimensions: vec![("service".to_owned(), service.to_owned())],
            values: Vec::new(),
        }
    }

    pub fn add(&mut self, name: &str, unit: Unit, value: f64) -> &mut Self {
        self.values.push((name.to_owned(), unit, value));
        self
    }

    pub fn count(&mut self, name: &str) -> &mut Self {
        self.add(name, Unit::Count, 1.0)
    }

    /// The EMF document for what was collected, stamped with `timestamp_ms`.
    pub fn document(&self, timestamp_ms: i64) -> Option<Value> {
        if self.values.is_empty() {
            return None;
        }
        let mut root = Map::new();
        let mut definitions = Vec::new();
        for (name, unit, value) in &self.values {
            // Two values for one name become an array, as EMF allows.
            match root.get_mut(name) {
                Some(Value::Array(list)) => list.push(json!(value)),
                Some(existing) => *existing = json!([existing.clone(), value]),
                None => {
                    root.insert(name.clone(), json!(value));
                    definitions.push(json!({"Name": name, "Unit": unit.as_str()}));
                }
            }
        }
        for (k, v) in &self.dimensions {
            root.insert(k.clone(), json!(v));
        }
        let dimension_names: Vec<&str> = self.dimensions.iter().map(|(k, _)| k.as_str()).collect();
        root.insert(
            "_aws".to_owned(),
            json!({
                "Timestamp": timestamp_ms,
                "CloudWatchMetrics": [{
                    "Namespace": self.namespace,
                    "Dimensions": [dimension_names],
                    "Metrics": definitions,
                }]
            }),
        );
        Some(Value::Object(root))
    }

    /// Writes the document to stdout and clears the values.
    pub fn flush(&mut self) {
        if let Some(doc) = self.document(chrono::Utc::now().timestamp_millis()) {
            let mut out = std::io::stdout().lock();
            let _ = writeln!(out, "{doc}");
        }
        self.values.clear();
    }
}

/// The metrics namespace (`METRICS_NAMESPACE`, default `HolidayLights/Onboarding`).
/// One count, written at once (for consumers that record an outcome per message).
pub fn emit_count(namespace: &str, service: &str, name: &str, value: u64) {
    Metrics::new(namespace, service)
        .add(name, Unit::Count, value as f64)
        .flush();
}

pub fn namespace(env: &crate::Env) -> String {
    env.get("METRICS_NAMESPACE")
        .unwrap_or_else(|| "HolidayLights/Onboarding".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emf_document_declares_every_metric_once() {
        let mut m = Metrics::new("HolidayLights/Onboarding", "contractors-register");
        m.count("ContractorRegistered")
            .add("Latency", Unit::Milliseconds, 12.5)
            .add("Latency", Unit::Milliseconds, 7.0);
        let doc = m.document(1_700_000_000_000).unwrap();
        assert_eq!(doc["ContractorRegistered"], 1.0);
        assert_eq!(doc["Latency"], json!([12.5, 7.0]));
        assert_eq!(doc["service"], "contractors-register");
        let cw = &doc["_aws"]["CloudWatchMetrics"][0];
        assert_eq!(cw["Namespace"], "HolidayLights/Onboarding");
        assert_eq!(cw["Dimensions"], json!([["service"]]));
        assert_eq!(cw["Metrics"].as_array().unwrap().len(), 2);
        assert_eq!(doc["_aws"]["Timestamp"], 1_700_000_000_000i64);
    }

    #[test]
    fn nothing_collected_writes_nothing() {
        assert!(Metrics::new("n", "s").document(0).is_none());
    }
}
