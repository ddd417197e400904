//! What a fold reads and writes: [`Txn`], the model's records in memory, written behind.
//!
//! A projector keeps one `Txn` per model for as long as its folds can trust memory (until
//! a failure or a rebuild). Records a fold reads are kept (a record the store does not
//! hold, too), records it writes stay in memory, dirty, until the runtime writes them
//! with the checkpoint in one atomic batch ([`Txn::take_dirty`]); then they are clean
//! copies of the store. When the copies outgrow the model's memory budget they are
//! dropped all at once ([`Txn::evict`]): a record is read from the store again the next
//! time a fold needs it. So a fold reads sled only the first time it meets a record
//! after a start or an eviction, and writes it once per batch of the runtime, however
//! many events change it.

use std::collections::{BTreeMap, HashMap};
use std::marker::PhantomData;
use std::sync::{Mutex, MutexGuard};

use helpdesk_log::Position;
use serde::de::DeserializeOwned;
use serde::Serialize;

use super::{ModelError, Note, Records, RESERVED};
use crate::store::{decode, Read, Store};

/// What the map spends on a record beside its key and value (an estimate, for the
/// memory budget).
const ENTRY_OVERHEAD: usize = 64;

/// The writes not yet in the store, in key order.
type Dirty = BTreeMap<Vec<u8>, Option<Vec<u8>>>;

/// A model's records as folds see them: the writes not yet in the store, then copies of
/// what the store holds, then the store. Reads see writes first.
pub struct Txn<'a> {
    store: Store,
    /// Writes since the last [`Txn::take_dirty`] (`None`: removed).
    dirty: Dirty,
    dirty_bytes: usize,
    /// Copies of records as the store holds them (`None`: the store has none), filled
    /// by reads. Reads take `&self`, so the copies sit behind a lock (never contended:
    /// one fold at a time; a `RefCell` would keep the projector off other threads).
    clean: Mutex<Clean>,
    /// The position of the message being folded.
    pub(super) position: Position,
    notes: Vec<(Position, Note)>,
    /// The transaction is over the tree it was made with (the store holds a handle).
    tree: PhantomData<&'a sled::Tree>,
}

#[derive(Default)]
struct Clean {
    records: HashMap<Vec<u8>, Option<Vec<u8>>>,
    bytes: usize,
}

impl Clean {
    fn insert(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        let size = entry_size(&key, &value);
        let value_len = value.as_ref().map_or(0, Vec::len);
        match self.records.insert(key, value) {
            // The key was counted already: only the value changes.
            Some(old) => self.bytes = self.bytes - old.map_or(0, |v| v.len()) + value_len,
            None => self.bytes += size,
        }
    }
}

fn entry_size(key: &[u8], value: &Option<Vec<u8>>) -> usize {
    key.len() + value.as_ref().map_or(0, Vec::len) + ENTRY_OVERHEAD
}

impl<'a> Txn<'a> {
    /// A transaction over `tree`. Outside a projector (in benchmarks and tools) its
    /// writes stay in memory and are never committed.
    pub fn new(tree: &'a sled::Tree) -> Self {
        Txn::over(Store::new(tree.clone()))
    }
}

impl Txn<'static> {
    /// A transaction over a store the runtime holds for as long as the transaction.
    pub(super) fn over(store: Store) -> Self {
        Txn {
            store,
            dirty: BTreeMap::new(),
            dirty_bytes: 0,
            clean: Mutex::default(),
            position: 0,
            notes: Vec::new(),
            tree: PhantomData,
        }
    }
}

impl Txn<'_> {
    /// The record at `key`, decoded.
    pub fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, ModelError> {
        self.with_bytes(key, |bytes| bytes.map(|b| decode(key, b)).transpose())
    }

    /// Whether a record is at `key`.
    pub fn contains(&self, key: &[u8]) -> Result<bool, ModelError> {
        self.with_bytes(key, |bytes| Ok(bytes.is_some()))
    }

    /// Calls `f` with the bytes at `key`: from the writes, the copies, or (kept as a
    /// copy) the store.
    fn with_bytes<R>(
        &self,
        key: &[u8],
        f: impl FnOnce(Option<&[u8]>) -> Result<R, ModelError>,
    ) -> Result<R, ModelError> {
        if let Some(write) = self.dirty.get(key) {
            return f(write.as_deref());
        }
        let mut clean = self.clean();
        if let Some(copy) = clean.records.get(key) {
            return f(copy.as_deref());
        }
        let stored = self.store.raw_get(key)?.map(|bytes| bytes.to_vec());
        let answer = f(stored.as_deref());
        clean.insert(key.to_vec(), stored);
        answer
    }

    fn clean(&self) -> MutexGuard<'_, Clean> {
        self.clean.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Writes `value` at `key`.
    pub fn put<T: Serialize>(&mut self, key: impl Into<Vec<u8>>, value: &T) {
        let key = key.into();
        debug_assert!(key.first() != Some(&RESERVED), "reserved key");
        let bytes = postcard::to_stdvec(value).expect("records always serialize");
        self.write(key, Some(bytes));
    }

    /// Announces `note` to live listeners once the record changes are in the store.
    pub fn notify<T: std::any::Any + Send + Sync>(&mut self, note: T) {
        self.notes.push((self.position, std::sync::Arc::new(note)));
    }

    /// Removes the record at `key`.
    pub fn remove(&mut self, key: impl Into<Vec<u8>>) {
        self.write(key.into(), None);
    }

    fn write(&mut self, key: Vec<u8>, value: Option<Vec<u8>>) {
        let size = entry_size(&key, &value);
        let value_len = value.as_ref().map_or(0, Vec::len);
        match self.dirty.insert(key, value) {
            // The key was counted already: only the value changes.
            Some(old) => {
                self.dirty_bytes = self.dirty_bytes - old.map_or(0, |v| v.len()) + value_len
            }
            None => self.dirty_bytes += size,
        }
    }

    /// Writes a record of the runtime's own (checkpoint, fingerprint, dead letters).
    pub(super) fn put_reserved<T: Serialize>(&mut self, key: Vec<u8>, value: &T) {
        let bytes = postcard::to_stdvec(value).expect("records always serialize");
        self.write(key, Some(bytes));
    }

    /// The keys and raw values under `prefix`, in key order, with the writes not yet in
    /// the store. (The copies equal the store: nothing to merge from them.)
    pub fn scan_prefix(&self, prefix: &[u8]) -> Result<Records, ModelError> {
        let mut merged: BTreeMap<Vec<u8>, Vec<u8>> = BTreeMap::new();
        for entry in self.store.raw(prefix) {
            let (key, value) = entry?;
            merged.insert(key.to_vec(), value.to_vec());
        }
        for (key, write) in self.dirty.range(prefix.to_vec()..) {
            if !key.starts_with(prefix) {
                break;
            }
            match write {
                Some(value) => merged.insert(key.clone(), value.clone()),
                None => merged.remove(key),
            };
        }
        Ok(merged.into_iter().collect())
    }

    /// Bytes of writes not yet in the store.
    pub(super) fn dirty_bytes(&self) -> usize {
        self.dirty_bytes
    }

    /// Bytes the records in memory take, written or not.
    pub(super) fn memory_bytes(&self) -> usize {
        self.dirty_bytes + self.clean().bytes
    }

    /// The writes since the last call, as a batch for the store, and the notes they
    /// owe; the writes become copies of what the store will hold. If the batch does not
    /// reach the store the whole `Txn` must be dropped (its copies would be wrong).
    pub(super) fn take_dirty(&mut self) -> (sled::Batch, Vec<(Position, Note)>) {
        let mut batch = sled::Batch::default();
        let clean = self.clean.get_mut().unwrap_or_else(|p| p.into_inner());
        for (key, write) in std::mem::take(&mut self.dirty) {
            match &write {
                Some(value) => batch.insert(key.as_slice(), value.as_slice()),
                None => batch.remove(key.as_slice()),
            }
            if key.first() != Some(&RESERVED) {
                clean.insert(key, write);
            }
        }
        self.dirty_bytes = 0;
        (batch, std::mem::take(&mut self.notes))
    }

    /// Drops the copies of stored records (the store has them).
    pub(super) fn evict(&mut self) {
        *self.clean.get_mut().unwrap_or_else(|p| p.into_inner()) = Clean::default();
    }
}

impl Read for Txn<'_> {
    fn get<T: DeserializeOwned>(&self, key: &[u8]) -> Result<Option<T>, ModelError> {
        Txn::get(self, key)
    }

    fn contains(&self, key: &[u8]) -> Result<bool, ModelError> {
        Txn::contains(self, key)
    }

    fn scan<T: DeserializeOwned>(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, T)>, ModelError> {
        self.scan_prefix(prefix)?
            .into_iter()
            .map(|(key, bytes)| {
                let value = decode(&key, &bytes)?;
                Ok((key, value))
            })
            .collect()
    }
}
