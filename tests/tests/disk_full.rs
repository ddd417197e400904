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
use std::time::Duration;

use anyhow::{bail, Context as _};
use helpdesk_tests::workload::{assert_same_records, feed, model_records};
use helpdesk_tests::{helpdesk_bin, Helpdesk, HISTORY_START};
use helpdesk_workload::WorkloadConfig;

/// The read models of `helpdesk dev`, each compared with a clean rebuild.
const MODELS: [&str; 5] = ["tickets", "stats", "levels", "badges", "reports"];

/// The size of each test's disk. The tests fill it with a filler file, so its size does
/// not decide when it is full; it must hold, once the filler is deleted, the whole of the
/// test's history (the log and seven sled stores take about 15 MB of it with sled's
/// segments) plus the 2 MiB a projector keeps free: on a 16 MB disk the stores sometimes
/// grew into those last 2 MiB, and the projectors rightly held their writes back.
const DISK_MB: u32 = 32;

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
        Self::mount_on(dir, megabytes)
    }

    /// A tmpfs of `megabytes` on `dir`.
    fn mount_on(dir: tempfile::TempDir, megabytes: u32) -> Option<SmallDisk> {
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
    let Some(disk) = SmallDisk::mount(DISK_MB) else {
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

/// A free port on loopback for `--metrics-listen`.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|address| address.port())
        .expect("a free port")
}

/// `GET path` on the metrics port: status and body (0 and the error when it does not
/// answer within 5 s: the health endpoints never wait on storage).
async fn get(port: u16, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let answer = async {
        let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", port)).await?;
        stream
            .write_all(format!("GET {path} HTTP/1.1\r\nHost: localhost\r\n\r\n").as_bytes())
            .await?;
        let mut response = String::new();
        stream.read_to_string(&mut response).await?;
        anyhow::Ok(response)
    };
    match tokio::time::timeout(Duration::from_secs(5), answer).await {
        Ok(Ok(response)) => {
            let status = response
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse().ok())
                .unwrap_or(0);
            let body = response
                .split_once("\r\n\r\n")
                .map(|(_, body)| body.to_owned())
                .unwrap_or_default();
            (status, body)
        }
        Ok(Err(err)) => (0, err.to_string()),
        Err(_) => (0, format!("GET {path}: no answer within 5 s")),
    }
}

/// Polls `GET /readyz` until it answers `want`, at most `within`; the last answer.
async fn readyz_until(port: u16, want: u16, within: Duration) -> (u16, String) {
    let deadline = tokio::time::Instant::now() + within;
    loop {
        let answer = get(port, "/readyz").await;
        if answer.0 == want || tokio::time::Instant::now() >= deadline {
            return answer;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The value of the sample `name{labels…}` in `/metrics` whose line contains `label`.
async fn metric(port: u16, name: &str, label: &str) -> Option<u64> {
    let (_, body) = get(port, "/metrics").await;
    body.lines()
        .filter(|line| line.starts_with(name) && line.contains(label))
        .find_map(|line| line.rsplit(' ').next()?.parse().ok())
}

/// One command over an `Execute` stream: its answer, `Ok(position)` or the error.
struct Commands {
    requests: tokio::sync::mpsc::Sender<helpdesk_api::pb::ExecuteRequest>,
    responses: tonic::Streaming<helpdesk_api::pb::ExecuteResponse>,
}

impl Commands {
    async fn open(helpdesk: &Helpdesk) -> anyhow::Result<Commands> {
        let (requests, stream) = tokio::sync::mpsc::channel(1);
        let responses = helpdesk_api::CommandServiceClient::new(helpdesk.channel().await?)
            .execute(helpdesk_tests::with_token(
                tonic::Request::new(tokio_stream::wrappers::ReceiverStream::new(stream)),
                helpdesk.token(),
            ))
            .await
            .context("Execute")?
            .into_inner();
        Ok(Commands {
            requests,
            responses,
        })
    }

    async fn send(
        &mut self,
        request: helpdesk_api::pb::ExecuteRequest,
    ) -> anyhow::Result<Result<u64, helpdesk_api::pb::CommandError>> {
        use helpdesk_api::pb::execute_response::Result as R;
        self.requests.send(request).await.context("sending")?;
        let answer = tokio::time::timeout(Duration::from_secs(30), self.responses.message())
            .await
            .context("no answer to a command within 30 s")??
            .context("the Execute stream ended")?;
        match answer.result {
            Some(R::Response(response)) => Ok(Ok(response.position)),
            Some(R::Error(err)) => Ok(Err(err)),
            None => bail!("an answer without a result"),
        }
    }
}

/// The tickets model's counts, by department.
async fn ticket_counts(
    helpdesk: &Helpdesk,
) -> anyhow::Result<Vec<helpdesk_api::pb::DepartmentTicketCounts>> {
    use helpdesk_api::{pb, TicketServiceClient};
    let answer = TicketServiceClient::new(helpdesk.channel().await?)
        .count_tickets(helpdesk.auth(pb::CountTicketsRequest { read: None }))
        .await?;
    let mut departments = answer.into_inner().departments;
    departments.sort_by(|a, b| a.department_id.cmp(&b.department_id));
    Ok(departments)
}

/// Waits (up to 40 s) until every projector has folded the log up to `last`.
async fn projectors_reach(
    helpdesk: &Helpdesk,
    port: u16,
    last: u64,
    when: &str,
) -> anyhow::Result<()> {
    for model in MODELS {
        let label = format!("model=\"{model}\"");
        let deadline = tokio::time::Instant::now() + Duration::from_secs(40);
        loop {
            let position = metric(port, "helpdesk_projector_position", &label).await;
            if position.is_some_and(|p| p >= last) {
                break;
            }
            if tokio::time::Instant::now() >= deadline {
                bail!(
                    "the {model} projector is at {position:?} of {last} 40 s {when}:\n{}",
                    helpdesk.output()
                );
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(())
}

/// A server whose disk fills up while it works: commands are refused `UNAVAILABLE`
/// saying the disk is full (nothing appended), queries answer, `/readyz` says not
/// ready; once space is freed, the refused command (sent again with its command id) and
/// the rest are accepted without a restart, and every model equals a clean rebuild.
#[tokio::test]
async fn a_full_disk_refuses_commands_until_space_is_freed_and_needs_no_restart(
) -> anyhow::Result<()> {
    use helpdesk_api::{pb, TicketServiceClient};
    let Some(disk) = SmallDisk::mount(DISK_MB) else {
        return Ok(());
    };
    let port = free_port();
    let mut helpdesk = Helpdesk::builder()
        .data_dir(disk.data_dir())
        .arg("--tick-seconds")
        .arg("3600")
        .arg("--metrics-listen")
        .arg(format!("127.0.0.1:{port}"))
        .start()
        .await?;
    let mut config = WorkloadConfig::new(3, 3, 4, HISTORY_START);
    config.config_at_wall_clock = false;
    let mut workload = helpdesk_workload::Workload::new(config).peekable();
    let mut commands = Commands::open(&helpdesk).await?;
    for _ in 0..200 {
        let request = workload.next().context("a workload of 200 commands")?;
        if let Err(err) = commands.send(request).await? {
            bail!("a command was refused before the disk filled: {err:?}");
        }
    }
    let before = readyz_until(port, 200, Duration::from_secs(30)).await;
    assert_eq!(
        before.0, 200,
        "not ready before the disk filled: {}",
        before.1
    );

    disk.fill()?;
    // The first command whose write needs space is refused; some may still fit.
    let (refused_request, refused) = loop {
        let request = workload.next().context("the disk never filled")?;
        match commands.send(request.clone()).await? {
            Ok(_) => continue,
            Err(err) => break (request, err),
        }
    };
    assert_eq!(
        refused.code,
        tonic::Code::Unavailable as i32,
        "a command on a full disk: {refused:?}"
    );
    assert!(
        refused.message.contains("disk is full"),
        "the refusal does not say the disk is full: {refused:?}"
    );
    let last_at_refusal = metric(port, "helpdesk_log_last_position", "").await;
    // Queries answer from the models; the server says it is not ready; /livez answers.
    let counts = TicketServiceClient::new(helpdesk.channel().await?)
        .count_tickets(helpdesk.auth(pb::CountTicketsRequest { read: None }))
        .await;
    assert!(counts.is_ok(), "a query on a full disk: {counts:?}");
    let (status, why) = readyz_until(port, 503, Duration::from_secs(10)).await;
    assert_eq!(status, 503, "ready on a full disk: {why}");
    assert!(why.contains("disk is full"), "/readyz says: {why}");
    assert_eq!(get(port, "/livez").await.0, 200);
    // Again, the same command: refused again, and nothing was appended meanwhile.
    let again = commands.send(refused_request.clone()).await?;
    assert!(
        matches!(&again, Err(err) if err.code == tonic::Code::Unavailable as i32),
        "the same command again on a full disk: {again:?}"
    );
    assert_eq!(
        metric(port, "helpdesk_log_last_position", "").await,
        last_at_refusal,
        "the log moved while the disk was full"
    );

    disk.free()?;
    // No restart: the refused command, sent again, is accepted once the log writes again.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        match commands.send(refused_request.clone()).await? {
            Ok(_) => break,
            Err(err) if err.code == tonic::Code::Unavailable as i32 => {
                if tokio::time::Instant::now() >= deadline {
                    bail!("still refused 30 s after space was freed: {err:?}");
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(err) => bail!("refused after space was freed: {err:?}"),
        }
    }
    let mut last = 0;
    for request in workload {
        match commands.send(request).await? {
            Ok(position) => last = last.max(position),
            Err(err) => bail!("a command was refused after space was freed: {err:?}"),
        }
    }
    drop(commands);
    let (status, why) = readyz_until(port, 200, Duration::from_secs(30)).await;
    assert_eq!(status, 200, "not ready after space was freed: {why}");
    // Every projector catches up by itself.
    projectors_reach(&helpdesk, port, last, "after space was freed").await?;
    helpdesk.stop().await?;
    models_equal_a_clean_rebuild(&disk.data_dir()).await
}

/// Only the read models' disk fills up (the log has space): commands are accepted,
/// the projectors' writes fail and are retried with a backoff while queries answer from
/// the models; once space is freed every projector catches up by itself and equals a
/// clean rebuild.
#[tokio::test]
async fn projectors_that_cannot_write_retry_and_catch_up() -> anyhow::Result<()> {
    let data = tempfile::tempdir()?;
    let models = tempfile::Builder::new()
        .prefix("models")
        .tempdir_in(data.path())?;
    let models_path = models.path().to_owned();
    let Some(disk) = SmallDisk::mount_on(models, DISK_MB) else {
        return Ok(());
    };
    // The models' directory is the small disk.
    std::os::unix::fs::symlink(&models_path, data.path().join("models"))?;
    let port = free_port();
    let mut helpdesk = Helpdesk::builder()
        .data_dir(data.path())
        .arg("--tick-seconds")
        .arg("3600")
        .arg("--metrics-listen")
        .arg(format!("127.0.0.1:{port}"))
        .start()
        .await?;
    let mut config = WorkloadConfig::new(4, 3, 4, HISTORY_START);
    config.config_at_wall_clock = false;
    let mut workload = helpdesk_workload::Workload::new(config);
    let mut commands = Commands::open(&helpdesk).await?;
    let mut last = 0;
    for _ in 0..200 {
        let request = workload.next().context("a workload of 200 commands")?;
        match commands.send(request).await? {
            Ok(position) => last = last.max(position),
            Err(err) => bail!("a command was refused before the disk filled: {err:?}"),
        }
    }
    projectors_reach(&helpdesk, port, last, "before the disk filled").await?;
    let before = ticket_counts(&helpdesk).await?;
    disk.fill()?;
    for request in workload.by_ref().take(300) {
        match commands.send(request).await? {
            Ok(position) => last = last.max(position),
            Err(err) => bail!("a command was refused while the log had space: {err:?}"),
        }
    }
    // A projector says its store's disk is full, and retries.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !helpdesk
        .output()
        .lines()
        .any(|line| line.contains("store") && line.contains("disk is full"))
    {
        if tokio::time::Instant::now() >= deadline {
            bail!(
                "no projector failed to write on a full disk:\n{}",
                helpdesk.output()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Queries answer from the models as they were before the disk filled: the
    // projectors held their writes back, so sled never failed one.
    let during = ticket_counts(&helpdesk).await;
    assert!(
        during.as_ref().is_ok_and(|counts| *counts == before),
        "a query while the models' disk is full: {during:?} (before: {before:?})"
    );
    assert_eq!(get(port, "/livez").await.0, 200);

    disk.free()?;
    for request in workload {
        match commands.send(request).await? {
            Ok(position) => last = last.max(position),
            Err(err) => bail!("a command was refused after space was freed: {err:?}"),
        }
    }
    drop(commands);
    projectors_reach(&helpdesk, port, last, "after space was freed").await?;
    helpdesk.stop().await?;
    models_equal_a_clean_rebuild(data.path()).await
}
