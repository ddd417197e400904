//! How models read their records, and how their keys are laid out.
//!
//! One typed read path: [`Read`] decodes a record the same way whether a fold reads it
//! through its batch ([`Txn`](crate::runtime::Txn), which sees the batch's writes first)
//! or a query reads the store as flushed ([`Store`]). A record that does not decode is
//! [`ModelError::Corrupt`]: the store cannot be trusted.
//!
//! Keys start with a record type byte (see each model's table); what follows is built
//! here, so that every model writes uuids, days and times the same way.

use std::ops::RangeBounds;

use serde::de::DeserializeOwned;
use serde::Serialize;
use sled::IVec;
use uuid::Uuid;

use crate::calendar::Day;
use crate::runtime::ModelError;

// ---------------------------------------------------------------------------------- reads

/// What a model stores: a value its fold keeps typed in memory and its store keeps
/// encoded (postcard).
pub trait Record: Serialize + DeserializeOwned + Clone + Send + Sync + 'static {}

impl<T: Serialize + DeserializeOwned + Clone + Send + Sync + 'static> Record for T {}

/// Typed reads of a model's records.
pub trait Read {
    /// The record at `key`, decoded.
    fn get<T: Record>(&self, key: &[u8]) -> Result<Option<T>, ModelError>;

    /// Whether a record is at `key`.
    fn contains(&self, key: &[u8]) -> Result<bool, ModelError>;

    /// The records under `prefix`, decoded, in key order.
    fn scan<T: Record>(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, T)>, ModelError>;
}

/// A model's store as flushed: what queries read. Take one per query (a rebuild swaps
/// the tree: [`ModelHandle::store`](crate::runtime::ModelHandle::store)).
#[derive(Clone)]
pub struct Store {
    tree: sled::Tree,
}

/// A record read lazily from a [`Store`]: its key and its decoded value.
pub type Entry<T> = Result<(IVec, T), ModelError>;

impl Store {
    pub fn new(tree: sled::Tree) -> Self {
        Store { tree }
    }

    /// The records under `prefix`, decoded as they are reached (for queries that stop
    /// early or walk backwards).
    pub fn iter<T: DeserializeOwned>(
        &self,
        prefix: &[u8],
    ) -> impl DoubleEndedIterator<Item = Entry<T>> {
        self.tree.scan_prefix(prefix).map(decode_entry)
    }

    /// The records in `range`, decoded as they are reached.
    pub fn range<T: DeserializeOwned, R: RangeBounds<Vec<u8>>>(
        &self,
        range: R,
    ) -> impl DoubleEndedIterator<Item = Entry<T>> {
        self.tree.range(range).map(decode_entry)
    }

    /// The keys under `prefix` (index entries, whose values say nothing).
    pub fn keys(&self, prefix: &[u8]) -> impl DoubleEndedIterator<Item = Result<IVec, ModelError>> {
        self.tree.scan_prefix(prefix).map(key_of)
    }

    /// The keys in `range` (index entries).
    pub fn key_range<R: RangeBounds<Vec<u8>>>(
        &self,
        range: R,
    ) -> impl DoubleEndedIterator<Item = Result<IVec, ModelError>> {
        self.tree.range(range).map(key_of)
    }

    /// The keys and raw values under `prefix`, in key order (for a batch to merge its
    /// writes into).
    pub(crate) fn raw(
        &self,
        prefix: &[u8],
    ) -> impl Iterator<Item = Result<(IVec, IVec), ModelError>> {
        self.tree
            .scan_prefix(prefix)
            .map(|entry| entry.map_err(ModelError::from))
    }

    /// The raw bytes at `key`.
    pub(crate) fn raw_get(&self, key: &[u8]) -> Result<Option<IVec>, ModelError> {
        Ok(self.tree.get(key)?)
    }

    /// Whether any record is under `prefix`.
    pub fn any(&self, prefix: &[u8]) -> bool {
        self.tree.scan_prefix(prefix).next().is_some()
    }
}

impl Read for Store {
    fn get<T: Record>(&self, key: &[u8]) -> Result<Option<T>, ModelError> {
        match self.tree.get(key)? {
            Some(bytes) => decode(key, &bytes).map(Some),
            None => Ok(None),
        }
    }

    fn contains(&self, key: &[u8]) -> Result<bool, ModelError> {
        Ok(self.tree.contains_key(key)?)
    }

    fn scan<T: Record>(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, T)>, ModelError> {
        self.iter(prefix)
            .map(|entry| entry.map(|(key, value)| (key.to_vec(), value)))
            .collect()
    }
}

fn key_of(entry: Result<(IVec, IVec), sled::Error>) -> Result<IVec, ModelError> {
    Ok(entry?.0)
}

fn decode_entry<T: DeserializeOwned>(entry: Result<(IVec, IVec), sled::Error>) -> Entry<T> {
    let (key, bytes) = entry?;
    let value = decode(&key, &bytes)?;
    Ok((key, value))
}

/// Decodes a stored record; failure means the store cannot be trusted.
pub fn decode<T: DeserializeOwned>(key: &[u8], bytes: &[u8]) -> Result<T, ModelError> {
    postcard::from_bytes(bytes)
        .map_err(|err| ModelError::Corrupt(format!("record {key:02x?}: {err}")))
}

// ----------------------------------------------------------------------------------- keys

/// `kind` and a uuid: the key of one thing.
pub fn id_key(kind: u8, id: Uuid) -> Vec<u8> {
    let mut k = Vec::with_capacity(17);
    k.push(kind);
    k.extend_from_slice(id.as_bytes());
    k
}

/// `kind` and two uuids: the key of a pair (a membership, a level reached).
pub fn pair_key(kind: u8, a: Uuid, b: Uuid) -> Vec<u8> {
    let mut k = id_key(kind, a);
    k.extend_from_slice(b.as_bytes());
    k
}

/// The uuid at byte `at` of a key.
pub fn uuid_at(key: &[u8], at: usize) -> Result<Uuid, ModelError> {
    key.get(at..at + 16)
        .and_then(|b| Uuid::from_slice(b).ok())
        .ok_or_else(|| ModelError::Corrupt(format!("key {key:02x?} holds no uuid at {at}")))
}

/// A day as 4 bytes whose byte order is the day order (the sign bit flipped).
pub fn day_bytes(day: Day) -> [u8; 4] {
    ((day as u32) ^ (1 << 31)).to_be_bytes()
}

/// The day [`day_bytes`] wrote; none unless `bytes` are 4.
pub fn day_from(bytes: &[u8]) -> Option<Day> {
    let b: [u8; 4] = bytes.try_into().ok()?;
    Some((u32::from_be_bytes(b) ^ (1 << 31)) as Day)
}

/// A signed number (milliseconds, hours) as 8 bytes whose byte order is the number order
/// (the sign bit flipped).
pub fn order_bytes(n: i64) -> [u8; 8] {
    ((n as u64) ^ (1 << 63)).to_be_bytes()
}

/// The number [`order_bytes`] wrote; none unless `bytes` are 8.
pub fn order_from(bytes: &[u8]) -> Option<i64> {
    let b: [u8; 8] = bytes.try_into().ok()?;
    Some((u64::from_be_bytes(b) ^ (1 << 63)) as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ordered_bytes_round_trip_and_sort() {
        let days = [-800_000, -1, 0, 1, 19_783];
        for pair in days.windows(2) {
            assert!(day_bytes(pair[0]) < day_bytes(pair[1]));
        }
        for day in days {
            assert_eq!(day_from(&day_bytes(day)), Some(day));
        }
        let numbers = [i64::MIN, -1, 0, 1, i64::MAX];
        for pair in numbers.windows(2) {
            assert!(order_bytes(pair[0]) < order_bytes(pair[1]));
        }
        for n in numbers {
            assert_eq!(order_from(&order_bytes(n)), Some(n));
        }
        assert_eq!(day_from(&[1, 2, 3]), None);
    }
}
