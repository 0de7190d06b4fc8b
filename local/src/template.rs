//! Reads `template.yaml`: CloudFormation short-form tags (`!Ref`, `!GetAtt`, `!Sub`, …)
//! become their long JSON forms, so the rest of the runner works on plain JSON.

use std::collections::BTreeMap;
use std::path::Path;

use serde_json::{Map, Value};
use serde_yaml_ng::Value as Yaml;

use crate::RunnerError;

#[derive(Clone, Debug)]
pub struct Resource {
    pub logical_id: String,
    pub kind: String,
    pub properties: Value,
    pub metadata: Value,
    pub condition: Option<String>,
}

#[derive(Clone, Debug, Default)]
pub struct Template {
    pub parameters: Map<String, Value>,
    pub conditions: Map<String, Value>,
    /// `Globals.Function`, merged under every `AWS::Serverless::Function`.
    pub function_globals: Value,
    pub resources: BTreeMap<String, Resource>,
}

impl Template {
    pub fn load(path: &Path) -> Result<Template, RunnerError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| RunnerError::Template(format!("read {}: {e}", path.display())))?;
        Template::parse(&text)
    }

    pub fn parse(text: &str) -> Result<Template, RunnerError> {
        let yaml: Yaml = serde_yaml_ng::from_str(text)
            .map_err(|e| RunnerError::Template(format!("YAML: {e}")))?;
        let root = to_json(yaml)?;
        let section = |name: &str| {
            root.get(name)
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default()
        };
        let mut resources = BTreeMap::new();
        for (id, body) in section("Resources") {
            let kind = body
                .get("Type")
                .and_then(Value::as_str)
                .ok_or_else(|| RunnerError::Template(format!("resource {id} has no Type")))?
                .to_owned();
            resources.insert(
                id.clone(),
                Resource {
                    logical_id: id.clone(),
                    kind,
                    properties: body
                        .get("Properties")
                        .cloned()
                        .unwrap_or(Value::Object(Map::new())),
                    metadata: body.get("Metadata").cloned().unwrap_or(Value::Null),
                    condition: body
                        .get("Condition")
                        .and_then(Value::as_str)
                        .map(str::to_owned),
                },
            );
        }
        Ok(Template {
            parameters: section("Parameters"),
            conditions: section("Conditions"),
            function_globals: root
                .pointer("/Globals/Function")
                .cloned()
                .unwrap_or(Value::Object(Map::new())),
            resources,
        })
    }

    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Resource> + 'a {
        self.resources.values().filter(move |r| r.kind == kind)
    }
}

fn to_json(yaml: Yaml) -> Result<Value, RunnerError> {
    Ok(match yaml {
        Yaml::Null => Value::Null,
        Yaml::Bool(b) => Value::Bool(b),
        Yaml::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                Value::from(n.as_f64().unwrap_or_default())
            }
        }
        Yaml::String(s) => Value::String(s),
        Yaml::Sequence(items) => {
            Value::Array(items.into_iter().map(to_json).collect::<Result<_, _>>()?)
        }
        Yaml::Mapping(map) => {
            let mut out = Map::new();
            for (k, v) in map {
                let key = match k {
                    Yaml::String(s) => s,
                    Yaml::Number(n) => n.to_string(),
                    Yaml::Bool(b) => b.to_string(),
                    other => {
                        return Err(RunnerError::Template(format!(
                            "unsupported mapping key {other:?}"
                        )));
                    }
                };
                out.insert(key, to_json(v)?);
            }
            Value::Object(out)
        }
        Yaml::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = to_json(tagged.value)?;
            let long = match name {
                "Ref" => "Ref".to_owned(),
                "Condition" => "Condition".to_owned(),
                other => format!("Fn::{other}"),
            };
            // `!GetAtt A.B` is `{"Fn::GetAtt": ["A", "B"]}`.
            let inner = match (name, inner) {
                ("GetAtt", Value::String(s)) => {
                    let (res, attr) = s.split_once('.').ok_or_else(|| {
                        RunnerError::Template(format!("!GetAtt {s}: expected Resource.Attribute"))
                    })?;
                    Value::Array(vec![
                        Value::String(res.to_owned()),
                        Value::String(attr.to_owned()),
                    ])
                }
                (_, v) => v,
            };
            let mut out = Map::new();
            out.insert(long, inner);
            Value::Object(out)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_form_tags_become_long_form() {
        let t = Template::parse(
            r#"
Parameters:
  Stage: {Type: String, Default: dev}
Resources:
  Q:
    Type: AWS::SQS::Queue
    Properties:
      A: !Ref Stage
      B: !GetAtt Dlq.Arn
      C: !Sub "x-${Stage}"
      D: !If [IsProd, 1, 2]
"#,
        )
        .unwrap();
        let p = &t.resources["Q"].properties;
        assert_eq!(p["A"], serde_json::json!({"Ref": "Stage"}));
        assert_eq!(p["B"], serde_json::json!({"Fn::GetAtt": ["Dlq", "Arn"]}));
        assert_eq!(p["C"], serde_json::json!({"Fn::Sub": "x-${Stage}"}));
        assert_eq!(p["D"], serde_json::json!({"Fn::If": ["IsProd", 1, 2]}));
        assert_eq!(t.parameters["Stage"]["Default"], "dev");
    }
}
