//! Signals: the measurements stages write on records and attempts, by name, in order.
//!
//! What it does: an ordered map from a signal name to a JSON value, serialized as a JSON
//! object (the same bytes as a `serde_json::Map` with the same entries in the same order).
//! Names are `Cow<'static, str>`: the names `verity score` writes are static strings, so
//! writing a signal allocates no key; names read from JSON are owned.
//!
//! Why: `verity score` writes ~30 signals on every record. A `serde_json::Map` hashes every
//! key with SipHash and allocates it; a record holds a few dozen signals at most, so a vector
//! searched by name is cheaper to build, to read and to drop.
//!
//! Known failure modes: lookups are linear in the number of signals (fine for tens, not for
//! thousands); [`Signals::push`] trusts its caller that the name is new (checked in debug
//! builds).

use serde::de::{MapAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::borrow::Cow;

/// A signal name.
pub type SignalName = Cow<'static, str>;

/// An ordered map from signal names to JSON values.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Signals {
    entries: Vec<(SignalName, Value)>,
}

impl Signals {
    /// No signals.
    pub fn new() -> Signals {
        Signals::default()
    }

    /// No signals, with room for `n`.
    pub fn with_capacity(n: usize) -> Signals {
        Signals {
            entries: Vec::with_capacity(n),
        }
    }

    /// Number of signals.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn position(&self, name: &str) -> Option<usize> {
        self.entries.iter().position(|(k, _)| k.as_ref() == name)
    }

    /// The value of `name`.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.entries
            .iter()
            .find(|(k, _)| k.as_ref() == name)
            .map(|(_, v)| v)
    }

    /// The value of `name`, mutable.
    pub fn get_mut(&mut self, name: &str) -> Option<&mut Value> {
        self.entries
            .iter_mut()
            .find(|(k, _)| k.as_ref() == name)
            .map(|(_, v)| v)
    }

    /// Whether `name` is set.
    pub fn contains_key(&self, name: &str) -> bool {
        self.position(name).is_some()
    }

    /// Set `name` to `value`; an existing signal keeps its place and its old value is
    /// returned (as `serde_json::Map::insert`).
    pub fn insert(&mut self, name: SignalName, value: Value) -> Option<Value> {
        match self.position(&name) {
            Some(i) => Some(std::mem::replace(&mut self.entries[i].1, value)),
            None => {
                self.entries.push((name, value));
                None
            }
        }
    }

    /// Append a signal the caller knows is not set yet (no search; builders of fresh signal
    /// sets use it).
    pub fn push(&mut self, name: &'static str, value: Value) {
        debug_assert!(!self.contains_key(name), "signal {name} set twice");
        self.entries.push((Cow::Borrowed(name), value));
    }

    /// Remove `name`, keeping the order of the others.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        self.position(name).map(|i| self.entries.remove(i).1)
    }

    /// The value of `name`, set by `default` first when absent.
    pub fn get_or_insert_with(
        &mut self,
        name: &'static str,
        default: impl FnOnce() -> Value,
    ) -> &mut Value {
        let i = match self.position(name) {
            Some(i) => i,
            None => {
                self.entries.push((Cow::Borrowed(name), default()));
                self.entries.len() - 1
            }
        };
        &mut self.entries[i].1
    }

    /// Signals in order.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.entries.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// Signal names in order.
    pub fn keys(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|(k, _)| k.as_ref())
    }

    /// Set every signal of `other` (as [`Signals::insert`]).
    pub fn extend(&mut self, other: impl IntoIterator<Item = (SignalName, Value)>) {
        for (k, v) in other {
            self.insert(k, v);
        }
    }

    /// The signals as a JSON object.
    pub fn to_map(&self) -> Map<String, Value> {
        self.entries
            .iter()
            .map(|(k, v)| (k.to_string(), v.clone()))
            .collect()
    }
}

impl IntoIterator for Signals {
    type Item = (SignalName, Value);
    type IntoIter = std::vec::IntoIter<(SignalName, Value)>;

    fn into_iter(self) -> Self::IntoIter {
        self.entries.into_iter()
    }
}

impl From<Map<String, Value>> for Signals {
    fn from(map: Map<String, Value>) -> Signals {
        Signals {
            entries: map.into_iter().map(|(k, v)| (Cow::Owned(k), v)).collect(),
        }
    }
}

impl From<Signals> for Value {
    fn from(signals: Signals) -> Value {
        Value::Object(
            signals
                .entries
                .into_iter()
                .map(|(k, v)| (k.into_owned(), v))
                .collect(),
        )
    }
}

impl std::ops::Index<&str> for Signals {
    type Output = Value;

    /// The value of `name`, or `null` (as indexing a `serde_json::Value`).
    fn index(&self, name: &str) -> &Value {
        static NULL: Value = Value::Null;
        self.get(name).unwrap_or(&NULL)
    }
}

impl Serialize for Signals {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_map(self.entries.iter().map(|(k, v)| (k.as_ref(), v)))
    }
}

impl<'de> Deserialize<'de> for Signals {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Signals, D::Error> {
        struct SignalsVisitor;

        impl<'de> Visitor<'de> for SignalsVisitor {
            type Value = Signals;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("an object of signals")
            }

            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Signals, A::Error> {
                let mut signals = Signals::with_capacity(access.size_hint().unwrap_or(0));
                while let Some((k, v)) = access.next_entry::<String, Value>()? {
                    signals.insert(Cow::Owned(k), v);
                }
                Ok(signals)
            }
        }

        deserializer.deserialize_map(SignalsVisitor)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serializes_as_the_equivalent_json_object() {
        let mut s = Signals::new();
        s.push("tokens", json!(12));
        s.insert("think".into(), json!("closed"));
        s.insert(String::from("pass_at_k").into(), json!({"1": 0.5}));
        // Replacing keeps the place, as serde_json::Map does.
        assert_eq!(s.insert("tokens".into(), json!(13)), Some(json!(12)));
        let mut map = Map::new();
        map.insert("tokens".into(), json!(13));
        map.insert("think".into(), json!("closed"));
        map.insert("pass_at_k".into(), json!({"1": 0.5}));
        assert_eq!(
            serde_json::to_string(&s).unwrap(),
            serde_json::to_string(&map).unwrap()
        );
        assert_eq!(s.to_map(), map);
        assert_eq!(Value::from(s.clone()), Value::Object(map.clone()));
        assert_eq!(Signals::from(map), s);
        // Read back, duplicates resolved as serde_json resolves them (last value, first place).
        let back: Signals =
            serde_json::from_str(r#"{"a":1,"b":2,"a":3}"#).expect("an object of signals");
        assert_eq!(
            back.iter().collect::<Vec<_>>(),
            [("a", &json!(3)), ("b", &json!(2))]
        );
        assert!(serde_json::from_str::<Signals>("[1]").is_err());
    }

    #[test]
    fn lookups_and_edits() {
        let mut s = Signals::with_capacity(4);
        assert!(s.is_empty());
        s.push("a", json!(1));
        s.push("b", json!(2));
        assert_eq!(s["a"], json!(1));
        assert_eq!(s["missing"], Value::Null);
        *s.get_mut("b").unwrap() = json!(3);
        s.get_or_insert_with("absent", || json!({}))["x"] = json!("why");
        s.get_or_insert_with("absent", || json!({}))["y"] = json!("why not");
        assert_eq!(s["absent"], json!({"x": "why", "y": "why not"}));
        assert_eq!(s.remove("a"), Some(json!(1)));
        assert_eq!(s.keys().collect::<Vec<_>>(), ["b", "absent"]);
        assert!(s.contains_key("b") && !s.contains_key("a"));
        let mut t = Signals::new();
        t.extend(s.clone());
        assert_eq!(t, s);
        assert_eq!(t.len(), 2);
    }
}
