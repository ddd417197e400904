//! A full disk (docs/RUNBOOK.md, "Disk full"): the data directory on a small tmpfs,
//! filled to the last byte by a filler file, then the filler deleted.
//!
//! - A start while the disk is full fails with a message saying so, and leaves nothing
//!   behind that breaks a later start: once there is space the log opens with nothing
//!   lost.
//! - A running server answers commands `UNAVAILABLE` while the disk is full, keeps
//!   answering queries, says it is not ready, and once space is freed takes commands
//!   again by itself; every read model then equals a clean rebuild of the same log.
//!
//! Mounting a tmpfs needs root (or CAP_SYS_ADMIN): where it is not allowed, each test
//! prints why and passes without running. Needs the binary (`cargo build -p
//! helpdesk-server`).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{bail, Context as _};
use helpdesk_bench::WorkloadConfig;
use helpdesk_tests::workload::{assert_same_records, feed, model_records};
use helpdesk_tests::{helpdesk_bin, Helpdesk, HISTORY_START};

/// The read models of `helpdesk dev`, each compared with a clean rebuild.
const MODELS: [&str; 5] = ["tickets", "stats", "levels", "badges", "reports"];

/// A tmpfs mounted on a temporary directory, unmounted on drop.
struct SmallDisk {
    dir: tempfile::TempDir,
}

impl SmallDisk {
    /// A tmpfs of `megabytes`, or `None` (with the reason printed) where mounting is not
    /// allowed.
    fn mount(megabytes: u32) -> Option<SmallDisk> {
        let dir = tempfile::Builder::new()
            .prefix("helpdesk-disk-full-")
            .tempdir()
            .expect("a temporary directory");
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o"])
            .arg(format!("size={megabytes}m"))
            .arg("tmpfs")
            .arg(dir.path())
            .output();
        match mounted {
            Ok(out) if out.status.success() => Some(SmallDisk { dir }),
            Ok(out) => {
                eprintln!(
                    "SKIPPED: cannot mount a tmpfs here (needs root): {}",
                    String::from_utf8_lossy(&out.stderr).trim()
                );
                None
            }
            Err(err) => {
                eprintln!("SKIPPED: cannot run mount to make a small disk: {err}");
                None
            }
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The data directory on the small disk.
    fn data_dir(&self) -> PathBuf {
        self.path().join("data")
    }

    fn filler(&self) -> PathBuf {
        self.path().join("filler")
    }

    /// Fills the disk to the last byte: writes the filler until the disk says it is full.
    fn fill(&self) -> anyhow::Result<()> {
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.filler())?;
        for chunk in [64 * 1024, 4096, 1] {
            let bytes = vec![0u8; chunk];
            loop {
                match file.write(&bytes) {
                    Ok(n) if n == chunk => {}
                    Ok(_) => break,
                    Err(err) if err.raw_os_error() == Some(28) => break,
                    Err(err) => return Err(err).context("filling the disk"),
                }
            }
        }
        Ok(())
    }

    /// Frees the disk: deletes the filler.
    fn free(&self) -> anyhow::Result<()> {
        std::fs::remove_file(self.filler()).context("deleting the filler")
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn workload(seed: u64) -> WorkloadConfig {
    let mut config = WorkloadConfig::new(seed, 3, 2, HISTORY_START);
    config.config_at_wall_clock = false;
    config
}

/// Every model of `data_dir` equals a clean rebuild of its log: the log copied to a
/// fresh directory and each model replayed there with `helpdesk replay`.
async fn models_equal_a_clean_rebuild(data_dir: &Path) -> anyhow::Result<()> {
    let clean = tempfile::tempdir()?;
    copy_dir(&data_dir.join("log"), &clean.path().join("log"))?;
    for model in MODELS {
        let replay = tokio::process::Command::new(helpdesk_bin())
            .args(["replay", model, "--data-dir"])
            .arg(clean.path())
            .output()
            .await?;
        if !replay.status.success() {
            bail!(
                "helpdesk replay {model} failed: {}",
                String::from_utf8_lossy(&replay.stderr)
            );
        }
        let after_the_fault = model_records(data_dir, model)?;
        let rebuilt = model_records(clean.path(), model)?;
        assert_same_records(&after_the_fault, "after", &rebuilt, "rebuilt");
    }
    Ok(())
}

fn copy_dir(from: &Path, to: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(to)?;
    for entry in std::fs::read_dir(from)? {
        let entry = entry?;
        let target = to.join(entry.file_name());
        if entry.file_type()?.is_dir() {
            copy_dir(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target)?;
        }
    }
    Ok(())
}

/// A supervisor starting the server again and again while the disk is full: each start
/// fails saying the disk is full (not that another helpdesk holds the log), and once
/// space is freed the next start opens the log with every event in it.
#[tokio::test]
async fn a_start_on_a_full_disk_fails_cleanly_and_a_later_one_loses_nothing() -> anyhow::Result<()>
{
    let Some(disk) = SmallDisk::mount(16) else {
        return Ok(());
    };
    let mut helpdesk = Helpdesk::builder()
        .data_dir(disk.data_dir())
        .arg("--tick-seconds")
        .arg("3600")
        .start()
        .await?;
    let token = helpdesk.token().to_owned();
    let last = feed(helpdesk.channel().await?, &token, workload(1)).await?;
    helpdesk.stop().await?;

    disk.fill()?;
    for attempt in 1..=3 {
        let refused = helpdesk.start_again().await;
        let Err(err) = refused else {
            helpdesk.stop().await?;
            bail!("start #{attempt} on a full disk succeeded");
        };
        // What this start printed (stderr is read to its end by the failed start).
        let said: Vec<String> = helpdesk
            .lines()
            .into_iter()
            .filter(|line| line.run == attempt + 1)
            .map(|line| line.text)
            .collect();
        let err = format!("{err:#}\n{}", said.join("\n"));
        assert!(
            err.contains("disk is full"),
            "start #{attempt} does not say the disk is full:\n{err}"
        );
        assert!(
            !err.contains("another helpdesk"),
            "start #{attempt} blames another helpdesk:\n{err}"
        );
    }

    // What a start leaves when the disk fills up while sled writes its snapshot (here
    // the starts failed before that point): an empty `snap.<lsn>.generating`, which
    // sled's next open took for the latest snapshot ("Read corrupted data").
    for store in ["log", "models/tickets"] {
        std::fs::File::create(
            disk.data_dir()
                .join(store)
                .join("snap.FFFFFFFFFFFFFFFF.generating"),
        )?;
    }
    disk.free()?;
    helpdesk.start_again().await?;
    let again = helpdesk.output();
    assert!(
        !again.contains("rebuilding"),
        "a model was rebuilt after the failed starts:\n{again}"
    );
    // Every event is still there: the same feed again is all duplicates (the command
    // ids are the generator's), appending nothing.
    let again_last = feed(helpdesk.channel().await?, &token, workload(1)).await?;
    assert_eq!(again_last, last, "the log lost or gained events");
    helpdesk.stop().await?;
    models_equal_a_clean_rebuild(&disk.data_dir()).await
}
