//! What a fold reads and writes: [`Txn`], the model's records in memory, written behind.
//!
//! A projector keeps one `Txn` per model for as long as its folds can trust memory (until
//! a failure or a rebuild). A record a fold reads is kept, decoded (and a record the
//! store does not hold is remembered as absent); a record it writes stays in memory,
//! typed and dirty, until the runtime writes it with the checkpoint in one atomic batch
//! ([`Txn::take_dirty`]): it is encoded once there, however many events changed it, and
//! stays in memory as a clean copy of the store. When memory outgrows the model's budget
//! the clean copies are dropped all at once ([`Txn::evict`]): a record is read from the
//! store again the next time a fold needs it. So a fold reads sled only the first time it
//! meets a record after a start or an eviction, and a record is decoded and encoded once
//! per stay in memory rather than once per event.

use std::any::Any;
use std::collections::BTreeSet;
use std::marker::PhantomData;
use std::sync::{Mutex, MutexGuard};

use helpdesk_log::Position;

use super::{ModelError, Note, Records, RESERVED};
use crate::store::{decode, Read, Record, Store};

/// What memory spends on a record beside its key and its encoded value (an estimate,
/// for the memory budget): the map's entry, the key's and the value's allocations.
const ENTRY_OVERHEAD: usize = 160;

/// How much more a record takes in memory, decoded, than encoded (its `String`s and
/// `Vec`s, their capacity): measured on the models' records, 2 to 3 times.
const DECODED_FACTOR: usize = 3;

/// A record held typed, whatever its type.
trait Held: Any + Send + Sync {
    fn encode(&self) -> Vec<u8>;
    fn as_any(&self) -> &dyn Any;
}

impl<T: Record> Held for T {
    fn encode(&self) -> Vec<u8> {
        postcard::to_stdvec(self).expect("records always serialize")
    }

    fn as_any(&self) -> &dyn Any {
        self
    }
}

enum Value {
    /// The store holds nothing at the key (or the fold removed it).
    Absent,
    /// Bytes not decoded yet (the runtime's own records; what `contains` read).
    Encoded(Vec<u8>),
    Typed(Box<dyn Held>),
}

struct Slot {
    value: Value,
    /// Changed since the last write to the store.
    dirty: bool,
    /// The value's size encoded (as last known), for the memory budget.
    size: usize,
}

impl Slot {
    fn read<T: Record>(&mut self, key: &[u8]) -> Result<Option<T>, ModelError> {
        match &self.value {
            Value::Absent => Ok(None),
            Value::Typed(held) => match held.as_any().downcast_ref::<T>() {
                Some(value) => Ok(Some(value.clone())),
                // Read as another type than it was written: through its bytes.
                None => decode(key, &held.encode()).map(Some),
            },
            Value::Encoded(bytes) => {
                let value: T = decode(key, bytes)?;
                self.value = Value::Typed(Box::new(value.clone()));
                Ok(Some(value))
            }
        }
    }

    fn bytes(&self) -> Option<Vec<u8>> {
        match &self.value {
            Value::Absent => None,
            Value::Encoded(bytes) => Some(bytes.clone()),
            Value::Typed(held) => Some(held.encode()),
        }
    }
}

/// The records in memory.
#[derive(Default)]
struct Memory {
    slots: foldhash::HashMap<Vec<u8>, Slot>,
    /// The keys of dirty slots, in key order (for scans and the write).
    dirty: BTreeSet<Vec<u8>>,
    /// Bytes of dirty records, and of all records (estimates).
    dirty_bytes: usize,
    bytes: usize,
}

impl Memory {
    /// Keeps what the store holds at `key`.
    fn keep(&mut self, key: Vec<u8>, value: Value, size: usize) {
        self.bytes += footprint(&key, size);
        self.slots.insert(
            key,
            Slot {
                value,
                dirty: false,
                size,
            },
        );
    }

    fn write(&mut self, key: Vec<u8>, value: Value, size: Option<usize>) {
        match self.slots.get_mut(&key) {
            Some(slot) => {
                if !slot.dirty {
                    slot.dirty = true;
                    self.dirty_bytes += footprint(&key, slot.size);
                    self.dirty.insert(key);
                }
                slot.value = value;
                if let Some(size) = size {
                    slot.size = size;
                }
            }
            None => {
                let size = size.unwrap_or(0);
                let bytes = footprint(&key, size);
                self.bytes += bytes;
                self.dirty_bytes += bytes;
                self.dirty.insert(key.clone());
                self.slots.insert(
                    key,
                    Slot {
                        value,
                        dirty: true,
                        size,
                    },
                );
            }
        }
    }
}

/// The memory a record takes, estimated from its key and its size encoded.
fn footprint(key: &[u8], encoded: usize) -> usize {
    2 * key.len() + DECODED_FACTOR * encoded + ENTRY_OVERHEAD
}

/// A model's records as folds see them: memory first, then the store. Reads see the
/// fold's writes.
pub struct Txn<'a> {
    store: Store,
    /// Reads take `&self` and keep what they read, so memory sits behind a lock (never
    /// contended: one fold at a time; a `RefCell` would keep the projector off other
    /// threads).
    memory: Mutex<Memory>,
    /// The position of the message being folded.
    pub(super) position: Position,
    notes: Vec<(Position, Note)>,
    /// The transaction is over the tree it was made with (the store holds a handle).
    tree: PhantomData<&'a sled::Tree>,
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
            memory: Mutex::default(),
            position: 0,
            notes: Vec::new(),
            tree: PhantomData,
        }
    }
}

impl Txn<'_> {
    fn memory(&self) -> MutexGuard<'_, Memory> {
        self.memory.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn memory_mut(&mut self) -> &mut Memory {
        self.memory.get_mut().unwrap_or_else(|p| p.into_inner())
    }

    /// The record at `key`.
    pub fn get<T: Record>(&self, key: &[u8]) -> Result<Option<T>, ModelError> {
        let mut memory = self.memory();
        if let Some(slot) = memory.slots.get_mut(key) {
            return slot.read(key);
        }
        match self.store.raw_get(key)? {
            None => {
                memory.keep(key.to_vec(), Value::Absent, 0);
                Ok(None)
            }
            Some(bytes) => {
                let value: T = decode(key, &bytes)?;
                memory.keep(
                    key.to_vec(),
                    Value::Typed(Box::new(value.clone())),
                    bytes.len(),
                );
                Ok(Some(value))
            }
        }
    }

    /// Whether a record is at `key`.
    pub fn contains(&self, key: &[u8]) -> Result<bool, ModelError> {
        let mut memory = self.memory();
        if let Some(slot) = memory.slots.get(key) {
            return Ok(!matches!(slot.value, Value::Absent));
        }
        let stored = self.store.raw_get(key)?;
        let found = stored.is_some();
        let (value, size) = match stored {
            Some(bytes) => (Value::Encoded(bytes.to_vec()), bytes.len()),
            None => (Value::Absent, 0),
        };
        memory.keep(key.to_vec(), value, size);
        Ok(found)
    }

    /// Writes `value` at `key`.
    pub fn put<T: Record>(&mut self, key: impl Into<Vec<u8>>, value: &T) {
        let key = key.into();
        debug_assert!(key.first() != Some(&RESERVED), "reserved key");
        let size = self
            .memory_mut()
            .slots
            .get(&key)
            .map_or(std::mem::size_of::<T>(), |slot| slot.size);
        self.memory_mut()
            .write(key, Value::Typed(Box::new(value.clone())), Some(size));
    }

    /// Announces `note` to live listeners once the record changes are in the store.
    pub fn notify<T: Any + Send + Sync>(&mut self, note: T) {
        self.notes.push((self.position, std::sync::Arc::new(note)));
    }

    /// Removes the record at `key`.
    pub fn remove(&mut self, key: impl Into<Vec<u8>>) {
        self.memory_mut().write(key.into(), Value::Absent, None);
    }

    /// Writes a record of the runtime's own (checkpoint, fingerprint, dead letters).
    pub(super) fn put_reserved<T: serde::Serialize>(&mut self, key: Vec<u8>, value: &T) {
        let bytes = postcard::to_stdvec(value).expect("records always serialize");
        let size = bytes.len();
        self.memory_mut()
            .write(key, Value::Encoded(bytes), Some(size));
    }

    /// The keys and raw values under `prefix`, in key order, with the writes not yet in
    /// the store. (Clean records equal the store: nothing to merge from them.)
    pub fn scan_prefix(&self, prefix: &[u8]) -> Result<Records, ModelError> {
        let mut merged: std::collections::BTreeMap<Vec<u8>, Vec<u8>> = Default::default();
        for entry in self.store.raw(prefix) {
            let (key, value) = entry?;
            merged.insert(key.to_vec(), value.to_vec());
        }
        let memory = self.memory();
        for key in memory.dirty.range(prefix.to_vec()..) {
            if !key.starts_with(prefix) {
                break;
            }
            match memory.slots.get(key).and_then(Slot::bytes) {
                Some(value) => merged.insert(key.clone(), value),
                None => merged.remove(key),
            };
        }
        Ok(merged.into_iter().collect())
    }

    /// Bytes of writes not yet in the store (an estimate).
    pub(super) fn dirty_bytes(&self) -> usize {
        self.memory().dirty_bytes
    }

    /// Bytes the records in memory take, written or not (an estimate).
    pub(super) fn memory_bytes(&self) -> usize {
        self.memory().bytes
    }

    /// The writes since the last call, encoded as a batch for the store, and the notes
    /// they owe; the records written become clean copies of what the store will hold. If
    /// the batch does not reach the store the whole `Txn` must be dropped (its copies
    /// would be wrong).
    pub(super) fn take_dirty(&mut self) -> (sled::Batch, Vec<(Position, Note)>) {
        let mut batch = sled::Batch::default();
        let memory = self.memory_mut();
        for key in std::mem::take(&mut memory.dirty) {
            let Some(slot) = memory.slots.get_mut(&key) else {
                continue;
            };
            slot.dirty = false;
            let encoded = match &slot.value {
                Value::Absent => None,
                Value::Encoded(bytes) => Some(bytes.clone()),
                Value::Typed(held) => Some(held.encode()),
            };
            let size = encoded.as_ref().map_or(0, Vec::len);
            memory.bytes =
                (memory.bytes + footprint(&key, size)).saturating_sub(footprint(&key, slot.size));
            slot.size = size;
            match encoded {
                Some(bytes) => batch.insert(key.as_slice(), bytes),
                None => batch.remove(key.as_slice()),
            }
            if key.first() == Some(&RESERVED) {
                memory.slots.remove(&key);
            }
        }
        memory.dirty_bytes = 0;
        (batch, std::mem::take(&mut self.notes))
    }

    /// Drops the clean copies of stored records (the store has them).
    pub(super) fn evict(&mut self) {
        let memory = self.memory_mut();
        memory.slots.retain(|_, slot| slot.dirty);
        memory.bytes = memory.dirty_bytes;
    }
}

impl Read for Txn<'_> {
    fn get<T: Record>(&self, key: &[u8]) -> Result<Option<T>, ModelError> {
        Txn::get(self, key)
    }

    fn contains(&self, key: &[u8]) -> Result<bool, ModelError> {
        Txn::contains(self, key)
    }

    fn scan<T: Record>(&self, prefix: &[u8]) -> Result<Vec<(Vec<u8>, T)>, ModelError> {
        self.scan_prefix(prefix)?
            .into_iter()
            .map(|(key, bytes)| {
                let value = decode(&key, &bytes)?;
                Ok((key, value))
            })
            .collect()
    }
}
