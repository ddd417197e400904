//! What every sled store of a helpdesk (the embedded log, each read model) needs around
//! sled 0.34 itself: cleaning up after an interrupted start, and telling a full disk and
//! a held lock from other storage errors.
//!
//! # Unfinished snapshots
//!
//! sled writes its snapshot (an index of where pages are in its data file) to
//! `snap.<lsn>.generating`, syncs it and only then renames it to `snap.<lsn>`
//! (`write_snapshot` in sled 0.34's `pagecache/snapshot.rs`). A start that fails in
//! between (the disk full: the file is created, its bytes are not written) leaves the
//! `.generating` file behind. sled never finishes such a file, but its `read_snapshot`
//! takes every file starting with `snap.`, sorts them and reads the last one, and
//! `snap.<lsn>.generating` sorts after `snap.<lsn>`: every later open reads the empty or
//! partial file and fails with "Read corrupted data". A snapshot is only an index sled
//! rebuilds from the data file when there is none, so deleting an unfinished one loses
//! nothing: [`remove_unfinished_snapshots`] does so before each open, unless another
//! process holds the store (then the file may be that process's snapshot being written).

use std::fs::File;
use std::io;
use std::path::{Path, PathBuf};

/// The file in a sled 0.34 directory that holds its data, and the lock sled takes.
pub const DATA_FILE: &str = "db";

/// Deletes the unfinished snapshot files (`snap.*.generating`) of the sled store in
/// `dir` (see the module docs), unless another process has the store open. Returns the
/// files deleted.
pub fn remove_unfinished_snapshots(dir: &Path) -> io::Result<Vec<PathBuf>> {
    let data = dir.join(DATA_FILE);
    // sled holds an exclusive `flock` on its data file while open; so do we while we
    // delete, so that no sled opens the store in between.
    let _lock = match File::open(&data) {
        Ok(file) => match file.try_lock() {
            Ok(()) => Some(file),
            // In use: whatever it is writing is its own.
            Err(std::fs::TryLockError::WouldBlock) => return Ok(Vec::new()),
            Err(std::fs::TryLockError::Error(err)) => return Err(err),
        },
        Err(err) if err.kind() == io::ErrorKind::NotFound => None,
        Err(err) => return Err(err),
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(err) if err.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(err) => return Err(err),
    };
    let mut removed = Vec::new();
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let name = name.to_string_lossy();
        if name.starts_with("snap.") && name.ends_with(".generating") {
            std::fs::remove_file(entry.path())?;
            removed.push(entry.path());
        }
    }
    Ok(removed)
}

/// How much free space [`check_space`] asks for: more than sled writes at once while
/// it recovers a store and appends a group (a segment is 512 KiB).
pub const SPACE_NEEDED: usize = 1024 * 1024;

/// Whether the disk holding `dir` has room to write again: writes, syncs and deletes a
/// probe file of [`SPACE_NEEDED`] bytes there. A full disk fails with an error for
/// which [`is_disk_full`] holds.
pub fn check_space(dir: &Path) -> io::Result<()> {
    use std::io::Write as _;
    let probe = dir.join("space-probe.tmp");
    let written = File::create(&probe).and_then(|mut file| {
        file.write_all(&vec![0u8; SPACE_NEEDED])?;
        file.sync_data()
    });
    let removed = std::fs::remove_file(&probe);
    written?;
    removed
}

/// Bytes an unprivileged process may still write on the disk holding `dir` (what
/// `df` shows as available).
pub fn free_space(dir: &Path) -> io::Result<u64> {
    let stats = rustix::fs::statvfs(dir)?;
    Ok(stats.f_bavail.saturating_mul(stats.f_frsize))
}

/// The error a write that was not tried because the disk is (nearly) full stands for:
/// the same as the one the write would have failed with, so that callers tell it by
/// [`is_disk_full`] alike.
pub fn no_space() -> io::Error {
    io::Error::from_raw_os_error(28)
}

/// Whether `err` says the disk (or the user's quota) is full: `ENOSPC`, `EDQUOT`.
pub fn is_disk_full(err: &io::Error) -> bool {
    matches!(
        err.kind(),
        io::ErrorKind::StorageFull | io::ErrorKind::QuotaExceeded
    ) || matches!(err.raw_os_error(), Some(28 | 122))
        // sled copies an error it keeps (once a write failed, every later call returns
        // it) into a new one with the same kind and the old one's words.
        || err.to_string().contains("No space left on device")
}

/// Whether a sled error says the disk is full (see [`is_disk_full`]).
pub fn sled_disk_full(err: &sled::Error) -> bool {
    match err {
        sled::Error::Io(io) => is_disk_full(io),
        _ => false,
    }
}

/// Whether a sled error says another process has the store open (sled 0.34's words
/// when its `flock` on the data file fails).
pub fn sled_in_use(err: &sled::Error) -> bool {
    match err {
        sled::Error::Io(io) => io.to_string().contains("could not acquire lock"),
        _ => false,
    }
}

/// What to tell people when the disk holding `path` is full.
pub fn disk_full_message(path: &Path) -> String {
    format!(
        "the disk is full: no space left on the disk holding {}; free some space there \
         (nothing is lost, and nothing needs a restart: writing resumes once there is space)",
        path.display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unfinished_snapshot_is_deleted_and_the_store_opens_again() {
        let dir = tempfile::tempdir().unwrap();
        {
            let db = sled::Config::new().path(dir.path()).open().unwrap();
            db.insert(b"k", b"v").unwrap();
            db.flush().unwrap();
        }
        // What a start that ran out of space while writing its snapshot leaves.
        std::fs::write(dir.path().join("snap.FFFFFFFFFFFFFFFF.generating"), b"").unwrap();
        let broken = sled::Config::new().path(dir.path()).open();
        assert!(broken.is_err(), "sled reads the unfinished snapshot");
        drop(broken);
        let removed = remove_unfinished_snapshots(dir.path()).unwrap();
        assert_eq!(removed.len(), 1);
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        assert_eq!(db.get(b"k").unwrap().as_deref(), Some(&b"v"[..]));
    }

    #[test]
    fn a_store_in_use_is_left_alone() {
        let dir = tempfile::tempdir().unwrap();
        let db = sled::Config::new().path(dir.path()).open().unwrap();
        let file = dir.path().join("snap.FFFFFFFFFFFFFFFF.generating");
        std::fs::write(&file, b"").unwrap();
        assert!(remove_unfinished_snapshots(dir.path()).unwrap().is_empty());
        assert!(file.exists());
        drop(db);
    }

    #[test]
    fn disk_full_is_told_apart() {
        assert!(is_disk_full(&io::Error::from_raw_os_error(28)));
        let kept = io::Error::new(io::ErrorKind::StorageFull, "whatever");
        assert!(sled_disk_full(&sled::Error::Io(kept)));
        assert!(!is_disk_full(&io::Error::from_raw_os_error(13)));
    }
}
