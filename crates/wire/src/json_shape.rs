//! How request bodies read JSON: objects only where the API says object, and an explicit
//! `null` told apart from an absent field.

use serde::{Deserialize, Deserializer};

/// A `T` read from a JSON object and nothing else. serde also reads a struct from an array
/// of its fields in order (`["a.txt", "text/plain", 5]`); request bodies, and the objects
/// nested in them (see [`optional_object`], [`objects`]), are objects only.
pub struct JsonObject<T>(pub T);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for JsonObject<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ObjectVisitor<T>(std::marker::PhantomData<T>);
        impl<'de, T: Deserialize<'de>> serde::de::Visitor<'de> for ObjectVisitor<T> {
            type Value = T;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<T, A::Error> {
                T::deserialize(serde::de::value::MapAccessDeserializer::new(map))
            }
        }
        d.deserialize_map(ObjectVisitor(std::marker::PhantomData))
            .map(JsonObject)
    }
}

/// `#[serde(default, deserialize_with = "optional_object")]`: an optional field that is a JSON
/// object when present, never an array; absent or `null` is `None`.
pub fn optional_object<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<JsonObject<T>>::deserialize(d).map(|o| o.map(|JsonObject(v)| v))
}

/// `#[serde(deserialize_with = "objects")]`: an array of JSON objects.
pub fn objects<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Vec::<JsonObject<T>>::deserialize(d).map(|v| v.into_iter().map(|JsonObject(t)| t).collect())
}

/// Tells an explicit `null` (`Some(None)`) from an absent field (`None`, via `default`).
pub fn present<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(d).map(Some)
}
