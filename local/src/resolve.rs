//! CloudFormation intrinsic functions, evaluated against the local stack's names:
//! `Ref`, `Fn::GetAtt`, `Fn::Sub`, `Fn::Join`, `Fn::If`, `Fn::Select`, `Fn::Split`,
//! conditions (`Fn::Equals`, `Fn::Not`, `Fn::And`, `Fn::Or`) and `AWS::NoValue`.

use std::collections::HashMap;

use serde_json::{Map, Value};

use crate::RunnerError;

pub const REGION: &str = "us-east-1";
pub const ACCOUNT_ID: &str = "123456789012";

#[derive(Clone, Debug, Default)]
pub struct Resolver {
    /// Parameter values (strings, or arrays for list parameters).
    pub params: HashMap<String, Value>,
    /// What `Ref` of a resource gives.
    pub refs: HashMap<String, String>,
    /// What `Fn::GetAtt` gives, keyed `Logical.Attribute`.
    pub attrs: HashMap<String, String>,
    pub conditions: HashMap<String, bool>,
}

fn err(msg: impl Into<String>) -> RunnerError {
    RunnerError::Template(msg.into())
}

impl Resolver {
    /// Evaluates every intrinsic in `value`. Properties set to `AWS::NoValue` disappear.
    pub fn resolve(&self, value: &Value) -> Result<Value, RunnerError> {
        Ok(self.eval(value)?.unwrap_or(Value::Null))
    }

    /// A resolved value that must be a string.
    pub fn string(&self, value: &Value) -> Result<String, RunnerError> {
        match self.resolve(value)? {
            Value::String(s) => Ok(s),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            other => Err(err(format!("expected a string, got {other}"))),
        }
    }

    fn eval(&self, value: &Value) -> Result<Option<Value>, RunnerError> {
        match value {
            Value::Array(items) => {
                let mut out = Vec::new();
                for item in items {
                    if let Some(v) = self.eval(item)? {
                        out.push(v);
                    }
                }
                Ok(Some(Value::Array(out)))
            }
            Value::Object(map) if map.len() == 1 => {
                let (key, arg) = map.iter().next().expect("one entry");
                match key.as_str() {
                    "Ref" => self.reference(arg),
                    "Fn::GetAtt" => self.get_att(arg).map(Some),
                    "Fn::Sub" => self.sub(arg).map(|s| Some(Value::String(s))),
                    "Fn::Join" => self.join(arg).map(|s| Some(Value::String(s))),
                    "Fn::If" => self.if_(arg),
                    "Fn::Select" => self.select(arg).map(Some),
                    "Fn::Split" => self.split(arg).map(Some),
                    "Fn::Equals" | "Fn::Not" | "Fn::And" | "Fn::Or" | "Condition" => {
                        self.condition_value(value).map(|b| Some(Value::Bool(b)))
                    }
                    k if k.starts_with("Fn::") => {
                        Err(err(format!("the local runner does not support {k}")))
                    }
                    _ => self.object(map).map(Some),
                }
            }
            Value::Object(map) => self.object(map).map(Some),
            other => Ok(Some(other.clone())),
        }
    }

    fn object(&self, map: &Map<String, Value>) -> Result<Value, RunnerError> {
        let mut out = Map::new();
        for (k, v) in map {
            if let Some(v) = self.eval(v)? {
                out.insert(k.clone(), v);
            }
        }
        Ok(Value::Object(out))
    }

    fn reference(&self, arg: &Value) -> Result<Option<Value>, RunnerError> {
        let name = arg.as_str().ok_or_else(|| err("Ref takes a name"))?;
        if name == "AWS::NoValue" {
            return Ok(None);
        }
        if let Some(v) = pseudo(name) {
            return Ok(Some(Value::String(v.to_owned())));
        }
        if let Some(v) = self.params.get(name) {
            return Ok(Some(v.clone()));
        }
        self.refs
            .get(name)
            .map(|v| Some(Value::String(v.clone())))
            .ok_or_else(|| {
                err(format!(
                    "Ref {name}: no such parameter or resource in the local stack"
                ))
            })
    }

    fn get_att(&self, arg: &Value) -> Result<Value, RunnerError> {
        let parts: Vec<&str> = match arg {
            Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
            Value::String(s) => s.splitn(2, '.').collect(),
            _ => vec![],
        };
        let [res, attr] = parts[..] else {
            return Err(err(format!(
                "Fn::GetAtt {arg}: expected [Resource, Attribute]"
            )));
        };
        self.attrs
            .get(&format!("{res}.{attr}"))
            .map(|v| Value::String(v.clone()))
            .ok_or_else(|| {
                err(format!(
                    "Fn::GetAtt {res}.{attr}: not known to the local stack"
                ))
            })
    }

    fn sub(&self, arg: &Value) -> Result<String, RunnerError> {
        let (text, vars) = match arg {
            Value::String(s) => (s.as_str(), Map::new()),
            Value::Array(a) if a.len() == 2 => (
                a[0].as_str()
                    .ok_or_else(|| err("Fn::Sub template must be a string"))?,
                a[1].as_object().cloned().unwrap_or_default(),
            ),
            _ => return Err(err("Fn::Sub takes a string or [string, map]")),
        };
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            // `${!Literal}` writes `${Literal}`.
            if let Some(literal) = after.strip_prefix('!') {
                let end = literal
                    .find('}')
                    .ok_or_else(|| err("Fn::Sub: unclosed ${"))?;
                out.push_str("${");
                out.push_str(&literal[..=end]);
                rest = &literal[end + 1..];
                continue;
            }
            let end = after.find('}').ok_or_else(|| err("Fn::Sub: unclosed ${"))?;
            let name = &after[..end];
            let value = if let Some(v) = vars.get(name) {
                self.string(v)?
            } else if let Some((res, attr)) =
                name.split_once('.').filter(|_| pseudo(name).is_none())
            {
                self.attrs
                    .get(&format!("{res}.{attr}"))
                    .cloned()
                    .ok_or_else(|| {
                        err(format!("Fn::Sub ${{{name}}}: not known to the local stack"))
                    })?
            } else {
                match self.reference(&Value::String(name.to_owned()))? {
                    Some(Value::String(s)) => s,
                    Some(Value::Array(items)) => items
                        .iter()
                        .filter_map(Value::as_str)
                        .collect::<Vec<_>>()
                        .join(","),
                    Some(other) => other.to_string(),
                    None => String::new(),
                }
            };
            out.push_str(&value);
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    fn join(&self, arg: &Value) -> Result<String, RunnerError> {
        let a = arg
            .as_array()
            .filter(|a| a.len() == 2)
            .ok_or_else(|| err("Fn::Join takes [delimiter, list]"))?;
        let delimiter = a[0].as_str().unwrap_or("");
        let items = self.resolve(&a[1])?;
        let parts: Vec<String> = items
            .as_array()
            .ok_or_else(|| err("Fn::Join list must be a list"))?
            .iter()
            .map(|v| {
                v.as_str()
                    .map(str::to_owned)
                    .unwrap_or_else(|| v.to_string())
            })
            .collect();
        Ok(parts.join(delimiter))
    }

    fn if_(&self, arg: &Value) -> Result<Option<Value>, RunnerError> {
        let a = arg
            .as_array()
            .filter(|a| a.len() == 3)
            .ok_or_else(|| err("Fn::If takes [condition, then, else]"))?;
        let name = a[0]
            .as_str()
            .ok_or_else(|| err("Fn::If condition must be a name"))?;
        let chosen = if self.condition(name)? { &a[1] } else { &a[2] };
        self.eval(chosen)
    }

    fn select(&self, arg: &Value) -> Result<Value, RunnerError> {
        let a = arg
            .as_array()
            .filter(|a| a.len() == 2)
            .ok_or_else(|| err("Fn::Select takes [index, list]"))?;
        let index: usize = self
            .string(&a[0])?
            .parse()
            .map_err(|_| err("Fn::Select index must be a number"))?;
        let list = self.resolve(&a[1])?;
        list.as_array()
            .and_then(|l| l.get(index))
            .cloned()
            .ok_or_else(|| err("Fn::Select index out of range"))
    }

    fn split(&self, arg: &Value) -> Result<Value, RunnerError> {
        let a = arg
            .as_array()
            .filter(|a| a.len() == 2)
            .ok_or_else(|| err("Fn::Split takes [delimiter, string]"))?;
        let delimiter = a[0].as_str().unwrap_or(",");
        let text = self.string(&a[1])?;
        Ok(Value::Array(
            text.split(delimiter)
                .map(|s| Value::String(s.to_owned()))
                .collect(),
        ))
    }

    pub fn condition(&self, name: &str) -> Result<bool, RunnerError> {
        self.conditions
            .get(name)
            .copied()
            .ok_or_else(|| err(format!("condition {name} is not defined")))
    }

    /// Evaluates a condition expression (`Fn::Equals`, `Fn::Not`, …, or `{"Condition": name}`).
    pub fn condition_value(&self, expr: &Value) -> Result<bool, RunnerError> {
        let map = expr
            .as_object()
            .filter(|m| m.len() == 1)
            .ok_or_else(|| err(format!("not a condition: {expr}")))?;
        let (key, arg) = map.iter().next().expect("one entry");
        let list = || {
            arg.as_array()
                .ok_or_else(|| err(format!("{key} takes a list")))
        };
        match key.as_str() {
            "Fn::Equals" => {
                let a = list()?;
                if a.len() != 2 {
                    return Err(err("Fn::Equals takes two values"));
                }
                Ok(self.resolve(&a[0])? == self.resolve(&a[1])?)
            }
            "Fn::Not" => Ok(!self.condition_value(
                list()?
                    .first()
                    .ok_or_else(|| err("Fn::Not takes one condition"))?,
            )?),
            "Fn::And" => list()?
                .iter()
                .try_fold(true, |acc, c| Ok(acc && self.condition_value(c)?)),
            "Fn::Or" => list()?
                .iter()
                .try_fold(false, |acc, c| Ok(acc || self.condition_value(c)?)),
            "Condition" => {
                self.condition(arg.as_str().ok_or_else(|| err("Condition takes a name"))?)
            }
            other => Err(err(format!("{other} is not a condition function"))),
        }
    }
}

fn pseudo(name: &str) -> Option<&'static str> {
    Some(match name {
        "AWS::Region" => REGION,
        "AWS::AccountId" => ACCOUNT_ID,
        "AWS::Partition" => "aws",
        "AWS::URLSuffix" => "amazonaws.com",
        "AWS::StackName" => "holiday-onboarding-local",
        "AWS::StackId" => {
            "arn:aws:cloudformation:us-east-1:123456789012:stack/holiday-onboarding-local/local"
        }
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn resolver() -> Resolver {
        let mut r = Resolver::default();
        r.params.insert("Stage".into(), json!("dev"));
        r.params.insert("Origins".into(), json!(["a", "b"]));
        r.refs.insert("Table".into(), "OnboardingTable".into());
        r.attrs.insert(
            "Queue.Arn".into(),
            "arn:aws:sqs:us-east-1:123456789012:q".into(),
        );
        r.conditions.insert("IsProd".into(), false);
        r
    }

    #[test]
    fn evaluates_intrinsics() {
        let r = resolver();
        assert_eq!(
            r.resolve(&json!({"Ref": "Table"})).unwrap(),
            json!("OnboardingTable")
        );
        assert_eq!(
            r.resolve(&json!({"Fn::GetAtt": ["Queue", "Arn"]})).unwrap(),
            json!("arn:aws:sqs:us-east-1:123456789012:q")
        );
        assert_eq!(
            r.resolve(&json!({"Fn::Sub": "b-${Stage}-${AWS::AccountId}-${Queue.Arn}-${!Keep}"}))
                .unwrap(),
            json!("b-dev-123456789012-arn:aws:sqs:us-east-1:123456789012:q-${Keep}")
        );
        assert_eq!(
            r.resolve(&json!({"Fn::Sub": ["${X}!", {"X": {"Ref": "Stage"}}]}))
                .unwrap(),
            json!("dev!")
        );
        assert_eq!(
            r.resolve(&json!({"Fn::Join": ["-", ["a", {"Ref": "Stage"}]]}))
                .unwrap(),
            json!("a-dev")
        );
        assert_eq!(
            r.resolve(&json!({"Fn::If": ["IsProd", 1, 2]})).unwrap(),
            json!(2)
        );
        assert_eq!(
            r.resolve(&json!({"Ref": "Origins"})).unwrap(),
            json!(["a", "b"])
        );
        assert_eq!(
            r.resolve(&json!({"Fn::Select": [1, {"Fn::Split": [",", "x,y"]}]}))
                .unwrap(),
            json!("y")
        );
        assert_eq!(
            r.resolve(&json!({"A": {"Ref": "AWS::NoValue"}, "B": 1}))
                .unwrap(),
            json!({"B": 1})
        );
    }

    #[test]
    fn conditions_and_unknown_names() {
        let r = resolver();
        assert!(
            r.condition_value(&json!({"Fn::Not": [{"Fn::Equals": [{"Ref": "Stage"}, "prod"]}]}))
                .unwrap()
        );
        assert!(
            !r.condition_value(
                &json!({"Fn::And": [{"Condition": "IsProd"}, {"Fn::Equals": [1, 1]}]})
            )
            .unwrap()
        );
        assert!(r.resolve(&json!({"Ref": "Missing"})).is_err());
        assert!(
            r.resolve(&json!({"Fn::GetAtt": ["Queue", "Nope"]}))
                .is_err()
        );
        assert!(r.resolve(&json!({"Fn::Base64": "x"})).is_err());
    }
}
