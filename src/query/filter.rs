//! [`Filter`]: a declarative predicate over an entity's JSON value, evaluated in Rust on the
//! stored value (never a host callback per entity).

use std::cmp::Ordering;

use serde_json::Value;

use super::collate::compare;
use super::error::QueryError;
use super::path::FieldPath;

/// How a [`Filter::Compare`] compares a field with its operand.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Comparison {
    /// Equal in the collation order (`1` equals `1.0`).
    Eq,
    /// Not equal.
    Ne,
    /// Less than.
    Lt,
    /// Less than or equal.
    Le,
    /// Greater than.
    Gt,
    /// Greater than or equal.
    Ge,
}

impl Comparison {
    /// The operator's name in a JSON spec (`eq`, `ne`, `lt`, `le`, `gt`, `ge`).
    pub fn as_str(self) -> &'static str {
        match self {
            Comparison::Eq => "eq",
            Comparison::Ne => "ne",
            Comparison::Lt => "lt",
            Comparison::Le => "le",
            Comparison::Gt => "gt",
            Comparison::Ge => "ge",
        }
    }

    pub(crate) fn parse(name: &str) -> Option<Comparison> {
        Some(match name {
            "eq" => Comparison::Eq,
            "ne" => Comparison::Ne,
            "lt" => Comparison::Lt,
            "le" => Comparison::Le,
            "gt" => Comparison::Gt,
            "ge" => Comparison::Ge,
            _ => return None,
        })
    }

    fn holds(self, order: Ordering) -> bool {
        match self {
            Comparison::Eq => order == Ordering::Equal,
            Comparison::Ne => order != Ordering::Equal,
            Comparison::Lt => order == Ordering::Less,
            Comparison::Le => order != Ordering::Greater,
            Comparison::Gt => order == Ordering::Greater,
            Comparison::Ge => order != Ordering::Less,
        }
    }
}

/// A predicate over an entity's value, evaluated in Rust on the stored JSON (never a host
/// callback per entity).
///
/// Build one with [`field`]:
///
/// ```
/// use mizu_sync::query::{field, Filter};
///
/// let open_and_urgent: Filter = field("completed").eq(false).and(field("priority").ge(2));
/// let tagged = field("tags").contains("home").or(field("title").contains("milk"));
/// let not_done = field("completed").eq(true).not();
/// # let _ = (open_and_urgent, tagged, not_done);
/// ```
///
/// Comparisons use the collation order of [`crate::query`] (a missing field compares as
/// `null`, so `field("due").lt("2026")` also matches entities without a `due`).
#[derive(Debug, Clone, PartialEq)]
pub enum Filter {
    /// The field compared with a value.
    Compare {
        /// The field.
        path: FieldPath,
        /// How it is compared.
        op: Comparison,
        /// The operand.
        value: Value,
    },
    /// The field equals one of the values.
    In {
        /// The field.
        path: FieldPath,
        /// The candidates.
        values: Vec<Value>,
    },
    /// The field is a string containing the operand (a string), or an array with an element
    /// equal to the operand.
    Contains {
        /// The field.
        path: FieldPath,
        /// The substring or element.
        value: Value,
    },
    /// The field is present (even as `null`) when `exists` is true, absent otherwise.
    Exists {
        /// The field.
        path: FieldPath,
        /// Whether it must be present.
        exists: bool,
    },
    /// Every filter holds (true when empty).
    And(Vec<Filter>),
    /// Some filter holds (false when empty).
    Or(Vec<Filter>),
    /// The filter does not hold.
    Not(Box<Filter>),
}

/// The start of a filter on the field at `path` (dots for nested fields: `"address.city"`).
pub fn field(path: impl Into<FieldPath>) -> Field {
    Field { path: path.into() }
}

/// A field to build a [`Filter`] on; made by [`field`].
#[derive(Debug, Clone)]
pub struct Field {
    path: FieldPath,
}

impl Field {
    fn compare(self, op: Comparison, value: impl Into<Value>) -> Filter {
        Filter::Compare {
            path: self.path,
            op,
            value: value.into(),
        }
    }

    /// The field equals `value`.
    pub fn eq(self, value: impl Into<Value>) -> Filter {
        self.compare(Comparison::Eq, value)
    }

    /// The field does not equal `value` (a missing field is `null`).
    pub fn ne(self, value: impl Into<Value>) -> Filter {
        self.compare(Comparison::Ne, value)
    }

    /// The field is less than `value`.
    pub fn lt(self, value: impl Into<Value>) -> Filter {
        self.compare(Comparison::Lt, value)
    }

    /// The field is less than or equal to `value`.
    pub fn le(self, value: impl Into<Value>) -> Filter {
        self.compare(Comparison::Le, value)
    }

    /// The field is greater than `value`.
    pub fn gt(self, value: impl Into<Value>) -> Filter {
        self.compare(Comparison::Gt, value)
    }

    /// The field is greater than or equal to `value`.
    pub fn ge(self, value: impl Into<Value>) -> Filter {
        self.compare(Comparison::Ge, value)
    }

    /// The field equals one of `values`.
    pub fn is_in<V: Into<Value>>(self, values: impl IntoIterator<Item = V>) -> Filter {
        Filter::In {
            path: self.path,
            values: values.into_iter().map(Into::into).collect(),
        }
    }

    /// The field is a string containing `value`, or an array with an element equal to it.
    pub fn contains(self, value: impl Into<Value>) -> Filter {
        Filter::Contains {
            path: self.path,
            value: value.into(),
        }
    }

    /// The field is present (even as `null`).
    pub fn exists(self) -> Filter {
        Filter::Exists {
            path: self.path,
            exists: true,
        }
    }

    /// The field is absent.
    pub fn missing(self) -> Filter {
        Filter::Exists {
            path: self.path,
            exists: false,
        }
    }
}

impl Filter {
    /// Both this and `other` hold.
    pub fn and(self, other: Filter) -> Filter {
        match self {
            Filter::And(mut all) => {
                all.push(other);
                Filter::And(all)
            }
            first => Filter::And(vec![first, other]),
        }
    }

    /// This or `other` holds.
    pub fn or(self, other: Filter) -> Filter {
        match self {
            Filter::Or(mut any) => {
                any.push(other);
                Filter::Or(any)
            }
            first => Filter::Or(vec![first, other]),
        }
    }

    /// This does not hold.
    #[allow(clippy::should_implement_trait)] // `!filter` reads worse than `filter.not()` here.
    pub fn not(self) -> Filter {
        Filter::Not(Box::new(self))
    }

    /// Whether `value` satisfies the filter.
    pub fn matches(&self, value: &Value) -> bool {
        match self {
            Filter::Compare {
                path,
                op,
                value: operand,
            } => op.holds(compare(path.lookup(value), Some(operand))),
            Filter::In { path, values } => {
                let field = path.lookup(value);
                values
                    .iter()
                    .any(|v| compare(field, Some(v)) == Ordering::Equal)
            }
            Filter::Contains {
                path,
                value: operand,
            } => match (path.lookup(value), operand) {
                (Some(Value::String(s)), Value::String(needle)) => s.contains(needle.as_str()),
                (Some(Value::Array(items)), operand) => items
                    .iter()
                    .any(|item| compare(Some(item), Some(operand)) == Ordering::Equal),
                _ => false,
            },
            Filter::Exists { path, exists } => path.lookup(value).is_some() == *exists,
            Filter::And(all) => all.iter().all(|f| f.matches(value)),
            Filter::Or(any) => any.iter().any(|f| f.matches(value)),
            Filter::Not(inner) => !inner.matches(value),
        }
    }

    /// Checks every path.
    ///
    /// # Errors
    /// [`QueryError::InvalidPath`] for the first invalid one.
    pub fn validate(&self) -> Result<(), QueryError> {
        match self {
            Filter::Compare { path, .. }
            | Filter::In { path, .. }
            | Filter::Contains { path, .. }
            | Filter::Exists { path, .. } => path.validate(),
            Filter::And(all) | Filter::Or(all) => all.iter().try_for_each(Filter::validate),
            Filter::Not(inner) => inner.validate(),
        }
    }

    /// Every path this filter reads.
    pub(crate) fn paths(&self) -> Vec<&FieldPath> {
        let mut out = Vec::new();
        self.collect_paths(&mut out);
        out
    }

    fn collect_paths<'a>(&'a self, out: &mut Vec<&'a FieldPath>) {
        match self {
            Filter::Compare { path, .. }
            | Filter::In { path, .. }
            | Filter::Contains { path, .. }
            | Filter::Exists { path, .. } => out.push(path),
            Filter::And(all) | Filter::Or(all) => all.iter().for_each(|f| f.collect_paths(out)),
            Filter::Not(inner) => inner.collect_paths(out),
        }
    }

    /// The value an equality on `path` pins, when this filter requires one (a top-level `eq`,
    /// or one inside a top-level `and`): what an index on `path` can look up directly.
    pub(crate) fn pinned(&self, path: &FieldPath) -> Option<&Value> {
        match self {
            Filter::Compare {
                path: p,
                op: Comparison::Eq,
                value,
            } if p == path => Some(value),
            Filter::And(all) => all.iter().find_map(|f| f.pinned(path)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn evaluates_every_operator_on_json_values() {
        let todo = json!({"title": "Buy milk", "done": false, "n": 3, "tags": ["home", 1],
                          "address": {"city": "Oslo"}, "nothing": null});
        let holds = |f: Filter| f.matches(&todo);
        assert!(holds(field("done").eq(false)));
        assert!(holds(field("n").eq(3.0)));
        assert!(holds(field("n").ne(4)));
        assert!(holds(
            field("n")
                .lt(4)
                .and(field("n").le(3))
                .and(field("n").gt(2))
                .and(field("n").ge(3))
        ));
        assert!(holds(field("address.city").is_in(["Bergen", "Oslo"])));
        assert!(holds(field("title").contains("milk")));
        assert!(holds(field("tags").contains("home")));
        assert!(holds(field("tags").contains(1)));
        assert!(!holds(field("tags").contains("hom")));
        assert!(!holds(field("n").contains(3)));
        assert!(holds(field("nothing").exists()));
        assert!(holds(field("absent").missing()));
        assert!(holds(field("done").eq(true).not()));
        assert!(holds(field("done").eq(true).or(field("n").eq(3))));
        assert!(holds(Filter::And(vec![])));
        assert!(!holds(Filter::Or(vec![])));
        // A missing field compares as null: below every other value.
        assert!(holds(field("absent").lt(0)));
        assert!(holds(field("absent").eq(Value::Null)));
        // Across types the collation order decides: every number sorts below every string.
        assert!(holds(field("n").lt("0")));
    }

    #[test]
    fn finds_the_value_an_equality_pins() {
        let f = field("done").eq(false).and(field("n").gt(1));
        assert_eq!(f.pinned(&FieldPath::new("done")), Some(&json!(false)));
        assert_eq!(f.pinned(&FieldPath::new("n")), None);
        assert_eq!(
            field("done")
                .eq(false)
                .not()
                .pinned(&FieldPath::new("done")),
            None
        );
    }
}
