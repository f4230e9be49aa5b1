//! [`QuerySpec`]: a query as a value (filter, order, window), and its JSON form, which the
//! foreign-language bindings and the C API build queries from.

use serde_json::{json, Map, Value};

use super::error::QueryError;
use super::filter::{Comparison, Filter};
use super::path::FieldPath;

/// A sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Order {
    /// Smallest first.
    #[default]
    Asc,
    /// Largest first.
    Desc,
}

/// One key of a query's order: a field and a direction.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrderKey {
    /// The field sorted on.
    pub path: FieldPath,
    /// The direction.
    pub order: Order,
}

/// What a query selects: the entities whose value passes `filter`, sorted by `order` (then by
/// id, ascending, so every order is total), from position `offset`, at most `limit` of them.
///
/// # JSON form
///
/// ```json
/// {
///   "filter": {"and": [{"field": "completed", "op": "eq", "value": false},
///                      {"field": "tags", "op": "contains", "value": "home"}]},
///   "order_by": [{"field": "due", "order": "desc"}],
///   "offset": 0,
///   "limit": 50
/// }
/// ```
///
/// Every key is optional. A filter is `{"field", "op", "value"}` with `op` one of `eq`, `ne`,
/// `lt`, `le`, `gt`, `ge`, `in` (`value` an array), `contains`, `exists` (`value` optional,
/// `true` by default, `false` for "absent"); or `{"and": [...]}`, `{"or": [...]}`,
/// `{"not": filter}`. `order` is `asc` (default) or `desc`. Unknown keys and operators, and
/// negative or fractional limits, are refused with [`QueryError::InvalidSpec`].
#[derive(Debug, Clone, PartialEq, Default)]
pub struct QuerySpec {
    /// Which entities; `None` for all.
    pub filter: Option<Filter>,
    /// Sort keys, most significant first; ties are broken by id.
    pub order: Vec<OrderKey>,
    /// How many matching entities to skip.
    pub offset: usize,
    /// How many to return at most; `None` for all.
    pub limit: Option<usize>,
}

impl QuerySpec {
    /// Checks every path.
    ///
    /// # Errors
    /// [`QueryError::InvalidPath`].
    pub fn validate(&self) -> Result<(), QueryError> {
        if let Some(filter) = &self.filter {
            filter.validate()?;
        }
        self.order.iter().try_for_each(|key| key.path.validate())
    }

    /// Every path the query reads (filter, then order).
    pub(crate) fn paths(&self) -> Vec<&FieldPath> {
        let mut paths = self.filter.as_ref().map(Filter::paths).unwrap_or_default();
        paths.extend(self.order.iter().map(|k| &k.path));
        paths
    }

    /// Whether the window is the whole result (no offset, no limit).
    pub(crate) fn is_unwindowed(&self) -> bool {
        self.offset == 0 && self.limit.is_none()
    }

    /// Parses the [JSON form](QuerySpec#json-form) and validates it.
    ///
    /// # Errors
    /// [`QueryError::InvalidSpec`] for text that is not such a spec, [`QueryError::InvalidPath`].
    pub fn from_json(text: &str) -> Result<QuerySpec, QueryError> {
        let value: Value =
            serde_json::from_str(text).map_err(|e| invalid(format!("not JSON: {e}")))?;
        let spec = QuerySpec::from_value(&value)?;
        spec.validate()?;
        Ok(spec)
    }

    /// Reads the [JSON form](QuerySpec#json-form) (unvalidated paths).
    ///
    /// # Errors
    /// [`QueryError::InvalidSpec`].
    pub fn from_value(value: &Value) -> Result<QuerySpec, QueryError> {
        let object = as_object(value, "a query spec")?;
        let mut spec = QuerySpec::default();
        for (key, item) in object {
            match key.as_str() {
                "filter" if !item.is_null() => spec.filter = Some(filter_from(item)?),
                "filter" => {}
                "order_by" => spec.order = order_from(item)?,
                "offset" => spec.offset = count_from(item, "offset")?.unwrap_or(0),
                "limit" => spec.limit = count_from(item, "limit")?,
                other => return Err(invalid(format!("unknown key {other:?} in a query spec"))),
            }
        }
        Ok(spec)
    }

    /// The [JSON form](QuerySpec#json-form), canonical (keys sorted): equal specs give equal text.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        if let Some(filter) = &self.filter {
            object.insert("filter".into(), filter_to(filter));
        }
        if !self.order.is_empty() {
            let keys = self
                .order
                .iter()
                .map(|k| {
                    json!({"field": k.path.as_str(),
                           "order": if k.order == Order::Desc { "desc" } else { "asc" }})
                })
                .collect();
            object.insert("order_by".into(), Value::Array(keys));
        }
        if self.offset > 0 {
            object.insert("offset".into(), json!(self.offset));
        }
        if let Some(limit) = self.limit {
            object.insert("limit".into(), json!(limit));
        }
        Value::Object(object)
    }
}

fn invalid(reason: String) -> QueryError {
    QueryError::InvalidSpec(reason)
}

fn as_object<'v>(value: &'v Value, what: &str) -> Result<&'v Map<String, Value>, QueryError> {
    value
        .as_object()
        .ok_or_else(|| invalid(format!("{what} must be a JSON object, not {value}")))
}

fn count_from(value: &Value, what: &str) -> Result<Option<usize>, QueryError> {
    match value {
        Value::Null => Ok(None),
        Value::Number(n) => n
            .as_u64()
            .and_then(|n| usize::try_from(n).ok())
            .map(Some)
            .ok_or_else(|| invalid(format!("{what} must be a whole number ≥ 0, not {n}"))),
        other => Err(invalid(format!("{what} must be a number, not {other}"))),
    }
}

fn order_from(value: &Value) -> Result<Vec<OrderKey>, QueryError> {
    let keys = value
        .as_array()
        .ok_or_else(|| invalid(format!("order_by must be an array, not {value}")))?;
    keys.iter()
        .map(|key| {
            let object = as_object(key, "an order_by key")?;
            let mut path = None;
            let mut order = Order::Asc;
            for (name, item) in object {
                match (name.as_str(), item) {
                    ("field", Value::String(p)) => path = Some(FieldPath::new(p)),
                    ("order", Value::String(o)) if o == "asc" => order = Order::Asc,
                    ("order", Value::String(o)) if o == "desc" => order = Order::Desc,
                    ("field" | "order", other) => {
                        return Err(invalid(format!("bad {name} in order_by: {other}")))
                    }
                    (other, _) => {
                        return Err(invalid(format!("unknown key {other:?} in an order_by key")))
                    }
                }
            }
            let path = path.ok_or_else(|| invalid("an order_by key needs a field".into()))?;
            Ok(OrderKey { path, order })
        })
        .collect()
}

fn filter_from(value: &Value) -> Result<Filter, QueryError> {
    let object = as_object(value, "a filter")?;
    if object.len() == 1 {
        let (name, item) = object.iter().next().expect("one member");
        match name.as_str() {
            "and" | "or" => {
                let parts = item
                    .as_array()
                    .ok_or_else(|| invalid(format!("{name} takes an array of filters")))?
                    .iter()
                    .map(filter_from)
                    .collect::<Result<Vec<_>, _>>()?;
                return Ok(if name == "and" {
                    Filter::And(parts)
                } else {
                    Filter::Or(parts)
                });
            }
            "not" => return Ok(Filter::Not(Box::new(filter_from(item)?))),
            _ => {}
        }
    }
    let mut path = None;
    let mut op = None;
    let mut operand = None;
    for (name, item) in object {
        match name.as_str() {
            "field" => {
                let p = item
                    .as_str()
                    .ok_or_else(|| invalid(format!("field must be a string, not {item}")))?;
                path = Some(FieldPath::new(p));
            }
            "op" => {
                op = Some(
                    item.as_str()
                        .ok_or_else(|| invalid(format!("op must be a string, not {item}")))?,
                )
            }
            "value" => operand = Some(item.clone()),
            other => return Err(invalid(format!("unknown key {other:?} in a filter"))),
        }
    }
    let path = path.ok_or_else(|| invalid(format!("a filter needs a field: {value}")))?;
    let op = op.ok_or_else(|| invalid(format!("a filter needs an op: {value}")))?;
    let needs_value = || invalid(format!("op {op:?} needs a value"));
    Ok(match op {
        "in" => match operand {
            Some(Value::Array(values)) => Filter::In { path, values },
            _ => return Err(invalid("op \"in\" takes an array value".into())),
        },
        "contains" => Filter::Contains {
            path,
            value: operand.ok_or_else(needs_value)?,
        },
        "exists" => Filter::Exists {
            path,
            exists: match operand {
                None => true,
                Some(Value::Bool(b)) => b,
                Some(other) => {
                    return Err(invalid(format!(
                        "op \"exists\" takes true or false, not {other}"
                    )))
                }
            },
        },
        name => match Comparison::parse(name) {
            Some(op) => Filter::Compare {
                path,
                op,
                value: operand.ok_or_else(needs_value)?,
            },
            None => return Err(invalid(format!("unknown operator {name:?}"))),
        },
    })
}

fn filter_to(filter: &Filter) -> Value {
    match filter {
        Filter::Compare { path, op, value } => {
            json!({"field": path.as_str(), "op": op.as_str(), "value": value})
        }
        Filter::In { path, values } => json!({"field": path.as_str(), "op": "in", "value": values}),
        Filter::Contains { path, value } => {
            json!({"field": path.as_str(), "op": "contains", "value": value})
        }
        Filter::Exists { path, exists } => {
            json!({"field": path.as_str(), "op": "exists", "value": exists})
        }
        Filter::And(all) => json!({"and": all.iter().map(filter_to).collect::<Vec<_>>()}),
        Filter::Or(any) => json!({"or": any.iter().map(filter_to).collect::<Vec<_>>()}),
        Filter::Not(inner) => json!({"not": filter_to(inner)}),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::query::field;

    #[test]
    fn round_trips_through_json() {
        let spec = QuerySpec {
            filter: Some(
                field("completed")
                    .eq(false)
                    .and(field("tags").is_in(["a", "b"]))
                    .and(field("x").exists().or(field("y").contains("z").not())),
            ),
            order: vec![OrderKey {
                path: FieldPath::new("due"),
                order: Order::Desc,
            }],
            offset: 5,
            limit: Some(50),
        };
        let text = spec.to_json().to_string();
        assert_eq!(QuerySpec::from_json(&text).unwrap(), spec);
    }

    #[test]
    fn refuses_bad_specs_with_typed_errors() {
        let spec = |text: &str| QuerySpec::from_json(text);
        for bad in [
            "not json",
            "[]",
            r#"{"limit": -1}"#,
            r#"{"limit": 1.5}"#,
            r#"{"offset": "3"}"#,
            r#"{"filter": {"field": "a", "op": "like", "value": 1}}"#,
            r#"{"filter": {"field": "a", "op": "eq"}}"#,
            r#"{"filter": {"field": "a", "op": "in", "value": 1}}"#,
            r#"{"filter": {"op": "eq", "value": 1}}"#,
            r#"{"filter": {"and": {}}}"#,
            r#"{"order_by": [{"field": "a", "order": "up"}]}"#,
            r#"{"where": {}}"#,
        ] {
            assert!(
                matches!(spec(bad), Err(QueryError::InvalidSpec(_))),
                "{bad}: {:?}",
                spec(bad)
            );
        }
        assert!(matches!(
            spec(r#"{"filter": {"field": "a..b", "op": "eq", "value": 1}}"#),
            Err(QueryError::InvalidPath { .. })
        ));
        assert!(matches!(
            spec(r#"{"order_by": [{"field": ""}]}"#),
            Err(QueryError::InvalidPath { .. })
        ));
        assert_eq!(spec("{}").unwrap(), QuerySpec::default());
    }
}
