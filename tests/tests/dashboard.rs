//! The dashboard in a real browser: headless Chromium, driven over WebDriver
//! (chromedriver), against `helpdesk dev` fed with a simulated week by `helpdesk simulate`
//! (pinned dates). It signs in, reads the leaderboard, opens an agent, switches the
//! report's buckets and chart kinds, sorts it, downloads the CSV and compares it with
//! `ExportReportCsv`, reads the roster and sees a presence change arrive in it, and sees a
//! live level-up arrive as a toast.
//!
//! Needs Chromium and its driver (Debian: `apt-get install chromium chromium-driver`;
//! CHROMIUM_BIN and CHROMEDRIVER_BIN name others). Without them the test fails, saying
//! so: it never skips. With HELPDESK_SCREENSHOTS=<dir> it saves a screenshot of each page
//! there (docs/screenshots holds the ones the docs show).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context as _};
use fantoccini::{Client, ClientBuilder, Locator};
use helpdesk_api::{
    pb, AdminServiceClient, BadgeServiceClient, CommandServiceClient, ConfigServiceClient,
    LevelServiceClient, ReportServiceClient, RosterServiceClient, StatsServiceClient,
};
use helpdesk_tests::{helpdesk_bin, utc_date, Helpdesk, HISTORY_START};
use serde_json::{json, Value};
use tokio_stream::StreamExt as _;

const OWNER: &str = "dashboard-test-owner-token-0123456789abcdef";
/// The organization's time zone: not UTC, so that times shown in UTC would be caught.
const TIME_ZONE: &str = "Europe/Ljubljana";
/// How long the page may take to show what a step waits for.
const PAGE_TIMEOUT: Duration = Duration::from_secs(30);

#[tokio::test]
async fn the_dashboard_shows_the_simulated_week_in_a_browser() -> anyhow::Result<()> {
    let (chromium, chromedriver) = browser_binaries()?;
    // The clock ticks at today's time a minute after an import: once an hour, it leaves
    // the simulated week "today" for the whole test.
    let helpdesk = Helpdesk::builder()
        .owner_token(OWNER)
        .arg("--tick-seconds")
        .arg("3600")
        .start()
        .await?;
    let clock = simulate_week(&helpdesk).await?;
    wait_for_models(&helpdesk, clock.position).await?;
    let driver = Driver::start(&chromedriver).await?;
    let downloads = tempfile::tempdir()?;
    let browser = driver.browser(&chromium, downloads.path()).await?;
    let result = walk_through(&helpdesk, &browser, downloads.path(), &clock).await;
    if result.is_err() {
        // What the page showed when it failed, for the log.
        if let Ok(text) = browser
            .execute("return document.body.innerText", vec![])
            .await
        {
            eprintln!("the page showed:\n{}", text.as_str().unwrap_or_default());
        }
    }
    browser.close().await.ok();
    result
}

async fn walk_through(
    helpdesk: &Helpdesk,
    browser: &Client,
    downloads: &Path,
    clock: &pb::GetLogClockResponse,
) -> anyhow::Result<()> {
    let channel = helpdesk.channel().await?;
    let dashboard = dashboard_url(helpdesk)?;

    // Signing in: the form, a wrong token refused with a message, then the Owner's.
    browser.goto(&dashboard).await?;
    let form = browser
        .wait()
        .at_most(PAGE_TIMEOUT)
        .for_element(Locator::Css("#token"))
        .await?;
    form.send_keys("hd_not-a-token-of-this-server-0123456789")
        .await?;
    browser
        .find(Locator::Css("#sign-in button"))
        .await?
        .click()
        .await?;
    let refused = until(
        browser,
        "the refusal",
        "const e = document.getElementById('sign-in-error'); return e.textContent || null",
    )
    .await?;
    assert!(
        refused.as_str().unwrap().contains("does not sign in"),
        "{refused}"
    );
    let form = browser.find(Locator::Css("#token")).await?;
    form.clear().await?;
    form.send_keys(OWNER).await?;
    browser
        .find(Locator::Css("#sign-in button"))
        .await?
        .click()
        .await?;

    // The leaderboard: the same agents in the same order as GetLeaderboard, by name.
    let board = LevelServiceClient::new(channel.clone())
        .get_leaderboard(helpdesk.auth(pb::GetLeaderboardRequest {
            limit: 100,
            read: None,
        }))
        .await?
        .into_inner();
    let shown = until(browser, "the leaderboard", "const rows = [...document.querySelectorAll('#leaderboard tbody tr')]; return rows.length ? rows.map((r) => [...r.cells].map((c) => c.textContent)) : null").await?;
    let shown: Vec<Vec<String>> = serde_json::from_value(shown)?;
    assert_eq!(shown.len(), board.rows.len());
    let zone = browser.find(Locator::Css("#who")).await?.text().await?;
    assert_eq!(zone, format!("times in {TIME_ZONE}"));
    for (row, expected) in shown.iter().zip(&board.rows) {
        let level = expected.level.as_ref().unwrap();
        assert_eq!(row[1], expected.name, "names, never ids");
        assert_eq!(row[2], format!("{}. {}", level.rank, level.name));
        let reached = expected.reached_at.context("reached")?;
        let reached = jiff::Timestamp::new(reached.seconds, reached.nanos)?.in_tz(TIME_ZONE)?;
        assert_eq!(
            row[3],
            reached.strftime("%-d %b %Y, %H:%M").to_string(),
            "in {TIME_ZONE}"
        );
    }
    until(
        browser,
        "the benchmark",
        "return document.querySelector('#benchmark-table') ? true : null",
    )
    .await?;
    screenshot(browser, "leaderboard").await?;

    // A benchmark by another statistic (a mean: lowest first), within one department,
    // over a range of days: the agents of StatsService/Benchmark, in its order.
    let (from, to) = (
        utc_date(HISTORY_START),
        utc_date(HISTORY_START + 6 * 86_400_000),
    );
    let department = ConfigServiceClient::new(channel.clone())
        .list_departments(helpdesk.auth(pb::ListDepartmentsRequest { read: None }))
        .await?
        .into_inner()
        .departments
        .remove(0);
    for (select, value) in [
        ("#benchmark-statistic", "mean_chat_pickup"),
        ("#benchmark-department", department.department_id.as_str()),
        ("#benchmark-window", "WINDOW_KIND_RANGE"),
    ] {
        browser
            .find(Locator::Css(select))
            .await?
            .select_by_value(value)
            .await?;
    }
    set_dates(
        browser,
        "benchmark-window-from",
        &from,
        "benchmark-window-to",
        &to,
    )
    .await?;
    let ranked: Vec<String> = StatsServiceClient::new(channel.clone())
        .benchmark(helpdesk.auth(pb::BenchmarkRequest {
            statistic: "mean_chat_pickup".into(),
            window: Some(pb::StatsWindow {
                kind: pb::WindowKind::Range as i32,
                from: from.clone(),
                to: to.clone(),
            }),
            department_id: department.department_id.clone(),
            ascending: true,
            limit: 20,
            read: None,
        }))
        .await?
        .into_inner()
        .rows
        .into_iter()
        .map(|row| row.name)
        .collect();
    let shown = until(browser, "the benchmark over the week", "const caption = document.querySelector('#benchmark p').textContent; return caption.includes('lowest first, Mon, 3 Mar 2025 to Sun, 9 Mar 2025') ? [...document.querySelectorAll('#benchmark-table tbody tr')].map((r) => r.cells[1].textContent) : null").await?;
    assert_eq!(
        shown,
        json!(ranked),
        "mean chat pickup in {}",
        department.name
    );
    assert!(
        !ranked.is_empty(),
        "somebody picked up a chat in {}",
        department.name
    );

    // An agent: the top of the leaderboard, their level and what the next one misses.
    let top = &board.rows[0];
    browser
        .find(Locator::Css("#leaderboard tbody tr a.agent"))
        .await?
        .click()
        .await?;
    let name = until(browser, "the agent's page", "const e = document.getElementById('agent-name'); return e && document.getElementById('agent-stats').textContent ? e.textContent : null").await?;
    assert_eq!(name, json!(top.name));
    let level = browser
        .find(Locator::Css("#agent-level"))
        .await?
        .text()
        .await?;
    assert!(level.contains(&top.level.as_ref().unwrap().name), "{level}");
    let progress = LevelServiceClient::new(channel.clone())
        .get_level_progress(helpdesk.auth(pb::GetLevelProgressRequest {
            agent_id: top.agent_id.clone(),
            read: None,
        }))
        .await?
        .into_inner();
    if let Some(next) = &progress.next {
        // Each part of the next level's condition, and what it still misses.
        let rows = browser
            .execute("return [...document.querySelectorAll('#progress tbody tr')].map((r) => [...r.cells].map((c) => c.textContent))", vec![])
            .await?;
        let rows: Vec<Vec<String>> = serde_json::from_value(rows)?;
        assert_eq!(rows.len(), progress.parts.len(), "{rows:?} for {next:?}");
        for (row, part) in rows.iter().zip(&progress.parts) {
            assert_eq!(row[0], part.condition);
            assert_eq!(row[1], if part.holds { "holds" } else { "not yet" });
            assert_eq!(
                row[3].is_empty(),
                part.holds,
                "what {} still misses: {row:?}",
                part.condition
            );
        }
    }
    browser
        .find(Locator::Css("#agent-window"))
        .await?
        .select_by_value("WINDOW_KIND_ALL_TIME")
        .await?;
    until(browser, "all-time statistics", "const e = document.getElementById('agent-stats'); return e.textContent.startsWith('all time') ? true : null").await?;
    screenshot(browser, "agent").await?;

    // Today's badges: every enabled badge with its holders by name.
    browser.goto(&format!("{dashboard}#/badges")).await?;
    let badges = until(browser, "today's badges", "const rows = document.querySelectorAll('#badges tbody tr'); return rows.length ? rows.length : null").await?;
    assert!(badges.as_u64().unwrap() >= 10, "{badges} badges shown");
    screenshot(browser, "badges").await?;

    // The report over the simulated week, by department: days, then weeks.
    browser.goto(&format!("{dashboard}#/report")).await?;
    until(
        browser,
        "the report",
        "return document.querySelector('#report-table') ? true : null",
    )
    .await?;
    set_dates(browser, "report-from", &from, "report-to", &to).await?;
    let days = until(browser, "a bucket a day", &buckets_shown(7)).await?;
    assert_eq!(days.as_array().unwrap().len(), 7, "{days}");
    until(
        browser,
        "the area chart",
        "return document.querySelector('#chart svg[data-kind=area] polygon') ? true : null",
    )
    .await?;
    screenshot(browser, "report").await?;
    browser
        .find(Locator::Css("#report-bucket"))
        .await?
        .select_by_value("REPORT_BUCKET_WEEK")
        .await?;
    let weeks = until(browser, "one bucket for the week", &buckets_shown(1)).await?;
    assert_eq!(weeks, json!([from]), "the week starts on Monday {from}");
    // Chats without a department answer no ticket: their mean first answer is a blank
    // cell (the API sends 0 for a mean with nothing to average), not "0 s".
    let unassigned = until(browser, "the row of no department", "const heads = [...document.querySelectorAll('#report-table thead th')].map((h) => h.textContent); const at = (name) => heads.findIndex((h) => h.startsWith(name)); const r = [...document.querySelectorAll('#report-table tbody tr')].find((r) => r.cells[1].textContent === '(none)'); return r ? [r.cells[at('answers')].textContent, r.cells[at('mean first answer')].textContent, r.cells[at('chats')].textContent] : null").await?;
    assert_eq!(unassigned[0], json!("0"), "{unassigned}");
    assert_eq!(unassigned[1], json!(""), "no data is blank: {unassigned}");
    assert_ne!(unassigned[2], json!("0"), "{unassigned}");
    for kind in ["line", "bar", "pie", "area"] {
        browser
            .find(Locator::Css("#chart-kind"))
            .await?
            .select_by_value(kind)
            .await?;
        let marks = until(browser, kind, &format!("const svg = document.querySelector('#chart svg[data-kind={kind}]'); return svg ? svg.querySelectorAll('polyline, polygon, rect, path, circle').length : null")).await?;
        assert!(
            marks.as_u64().unwrap() > 0,
            "a {kind} chart draws something"
        );
    }
    // Sorted by answers, highest first, then downloaded.
    browser
        .find(Locator::Css("button.sort[data-column=answers]"))
        .await?
        .click()
        .await?;
    until(browser, "the sort", "const b = document.querySelector('button.sort[data-column=answers]'); return b && b.textContent.endsWith('▼') ? true : null").await?;
    browser
        .find(Locator::Css("#report-csv"))
        .await?
        .click()
        .await?;
    let downloaded = wait_for_download(downloads).await?;
    let expected = export_csv(
        helpdesk,
        pb::ReportRequest {
            from: from.clone(),
            to: to.clone(),
            bucket: pb::ReportBucket::Week as i32,
            group_by: pb::ReportGroup::Department as i32,
            sort_by: "answers".into(),
            ..Default::default()
        },
    )
    .await?;
    assert_eq!(
        String::from_utf8(downloaded)?,
        String::from_utf8(expected)?,
        "the CSV downloaded is ExportReportCsv's"
    );

    // The roster: everyone, by name, with their presence.
    let roster = RosterServiceClient::new(channel.clone())
        .list_agents(helpdesk.auth(pb::ListAgentsRequest::default()))
        .await?
        .into_inner();
    browser.goto(&format!("{dashboard}#/roster")).await?;
    let names = until(browser, "the roster", "const rows = [...document.querySelectorAll('#roster tbody tr')]; return rows.length ? rows.map((r) => r.cells[0].textContent) : null").await?;
    let expected: Vec<&str> = roster.agents.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, json!(expected));
    screenshot(browser, "roster").await?;

    // A presence change arrives live: an agent offline after the week goes online, right
    // after the week's last event (pinned).
    let offline = roster
        .agents
        .iter()
        .find(|a| a.presence == pb::Presence::Offline as i32 && a.role_name == "Agent")
        .context("an agent offline after the week")?;
    CommandServiceClient::new(channel.clone())
        .go_online(helpdesk.auth(pb::GoOnlineRequest {
            occurred_at: Some(just_after(clock, 1)),
            agent_id: offline.agent_id.clone(),
            ..Default::default()
        }))
        .await?;
    let row = format!("[...document.querySelectorAll('#roster tbody tr')].find((r) => r.cells[0].textContent === {})", json!(offline.name));
    let presence = until(browser, "the presence change", &format!("const row = {row}; return row && row.cells[1].textContent.startsWith('online') ? row.cells[1].textContent : null")).await?;
    assert!(
        presence.as_str().unwrap().starts_with("online since "),
        "{presence}"
    );

    // A live level-up.
    browser.goto(&format!("{dashboard}#/leaderboard")).await?;
    until(
        browser,
        "the leaderboard again",
        "return document.querySelector('#leaderboard') ? true : null",
    )
    .await?;
    // A newcomer reaches Novice as they are registered: right after the week's last
    // event (pinned, and before the next midnight, whose badges would come too).
    CommandServiceClient::new(channel.clone())
        .register_agent(helpdesk.auth(pb::RegisterAgentRequest {
            occurred_at: Some(just_after(clock, 2)),
            name: "Zoe".into(),
            email: "zoe@example.com".into(),
            role: Some(pb::RoleRef {
                role: Some(pb::role_ref::Role::Builtin(pb::BuiltinRole::Agent as i32)),
            }),
            ..Default::default()
        }))
        .await?;
    let toast = until(browser, "the level-up toast", "const t = [...document.querySelectorAll('.toast')].map((t) => t.textContent).find((t) => t.includes('Zoe')); return t || null").await?;
    assert_eq!(toast, json!("Level up: Zoe reached 1. Novice"));
    screenshot(browser, "level-up").await?;
    Ok(())
}

/// `millis` milliseconds after the log's latest event.
fn just_after(clock: &pb::GetLogClockResponse, millis: i64) -> prost_types::Timestamp {
    let last = clock.time.unwrap_or_default();
    let nanos = i64::from(last.nanos) + millis * 1_000_000;
    prost_types::Timestamp {
        seconds: last.seconds + nanos / 1_000_000_000,
        nanos: (nanos % 1_000_000_000) as i32,
    }
}

/// Types two days into date inputs, as a user picking them does (a change event each).
async fn set_dates(
    browser: &Client,
    from_id: &str,
    from: &str,
    to_id: &str,
    to: &str,
) -> anyhow::Result<()> {
    browser
        .execute(
            "for (const [id, v] of [[arguments[0], arguments[1]], [arguments[2], arguments[3]]]) { const e = document.getElementById(id); e.value = v; e.dispatchEvent(new Event('change')); }",
            vec![json!(from_id), json!(from), json!(to_id), json!(to)],
        )
        .await?;
    Ok(())
}

/// A script giving the report's buckets once it shows `count` of them.
fn buckets_shown(count: usize) -> String {
    format!("const b = [...new Set([...document.querySelectorAll('#report-table tbody tr')].map((r) => r.cells[0].textContent))]; return b.length === {count} ? b : null")
}

/// Runs `script` in the page until it returns something other than null.
async fn until(browser: &Client, what: &str, script: &str) -> anyhow::Result<Value> {
    let started = Instant::now();
    loop {
        let value = browser.execute(script, vec![]).await?;
        if !value.is_null() {
            return Ok(value);
        }
        if started.elapsed() > PAGE_TIMEOUT {
            bail!("the page did not show {what} within {PAGE_TIMEOUT:?}");
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Checks the page's screenshot is a PNG and, with HELPDESK_SCREENSHOTS, saves it.
async fn screenshot(browser: &Client, name: &str) -> anyhow::Result<()> {
    let png = browser.screenshot().await?;
    assert!(png.starts_with(b"\x89PNG"), "a screenshot is a PNG");
    if let Some(dir) = std::env::var_os("HELPDESK_SCREENSHOTS") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir)?;
        std::fs::write(dir.join(format!("{name}.png")), png)?;
    }
    Ok(())
}

/// The file the browser downloaded, once complete.
async fn wait_for_download(dir: &Path) -> anyhow::Result<Vec<u8>> {
    let started = Instant::now();
    loop {
        for entry in std::fs::read_dir(dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "csv") {
                return Ok(std::fs::read(path)?);
            }
        }
        if started.elapsed() > PAGE_TIMEOUT {
            bail!(
                "no CSV was downloaded into {} within {PAGE_TIMEOUT:?}",
                dir.display()
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn export_csv(helpdesk: &Helpdesk, request: pb::ReportRequest) -> anyhow::Result<Vec<u8>> {
    let mut chunks = ReportServiceClient::new(helpdesk.channel().await?)
        .export_report_csv(helpdesk.auth(request))
        .await?
        .into_inner();
    let mut csv = Vec::new();
    while let Some(chunk) = chunks.next().await {
        csv.extend(chunk?.data);
    }
    Ok(csv)
}

/// The address the server printed for the dashboard.
fn dashboard_url(helpdesk: &Helpdesk) -> anyhow::Result<String> {
    let line = helpdesk
        .lines()
        .into_iter()
        .find_map(|line| line.text.strip_prefix("dashboard: ").map(str::to_owned))
        .context("helpdesk dev printed no `dashboard:` line")?;
    let url = line
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(url, format!("{}/", helpdesk.endpoint()));
    Ok(url)
}

/// `helpdesk simulate`: a week from Monday 2025-03-03 with six agents in two departments,
/// in an organization in [`TIME_ZONE`].
/// Returns the log's clock after it (position and time).
async fn simulate_week(helpdesk: &Helpdesk) -> anyhow::Result<pb::GetLogClockResponse> {
    // The organization's zone, set an hour before the history (an import may not go back
    // in time).
    CommandServiceClient::new(helpdesk.channel().await?)
        .set_organization_settings(helpdesk.auth(pb::SetOrganizationSettingsRequest {
            occurred_at: Some(prost_types::Timestamp {
                seconds: HISTORY_START / 1000 - 3600,
                nanos: 0,
            }),
            time_zone: Some(TIME_ZONE.into()),
            ..Default::default()
        }))
        .await?;
    let output = tokio::process::Command::new(helpdesk_bin())
        .args(["simulate", "--server", &helpdesk.endpoint()])
        .args(["--from", &utc_date(HISTORY_START), "--days", "7"])
        .args(["--agents", "6", "--departments", "2", "--intensity", "0.3"])
        .env("HELPDESK_TOKEN", OWNER)
        .env("NO_COLOR", "1")
        .output()
        .await
        .context("running helpdesk simulate")?;
    if !output.status.success() {
        bail!(
            "helpdesk simulate failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let clock = AdminServiceClient::new(helpdesk.channel().await?)
        .get_log_clock(helpdesk.auth(pb::GetLogClockRequest {}))
        .await?
        .into_inner();
    Ok(clock)
}

/// Waits until every model the pages read has folded the log up to `position` (the page
/// asks without waiting).
async fn wait_for_models(helpdesk: &Helpdesk, position: u64) -> anyhow::Result<()> {
    let read = || {
        Some(pb::ReadOptions {
            min_position: position,
            wait_ms: 60_000,
        })
    };
    let channel = helpdesk.channel().await?;
    LevelServiceClient::new(channel.clone())
        .list_levels(helpdesk.auth(pb::ListLevelsRequest { read: read() }))
        .await?;
    BadgeServiceClient::new(channel.clone())
        .list_badges(helpdesk.auth(pb::ListBadgesRequest { read: read() }))
        .await?;
    StatsServiceClient::new(channel.clone())
        .benchmark(helpdesk.auth(pb::BenchmarkRequest {
            statistic: "answers".into(),
            read: read(),
            ..Default::default()
        }))
        .await?;
    RosterServiceClient::new(channel.clone())
        .list_agents(helpdesk.auth(pb::ListAgentsRequest {
            read: read(),
            ..Default::default()
        }))
        .await?;
    ReportServiceClient::new(channel)
        .get_report(helpdesk.auth(pb::ReportRequest {
            from: utc_date(HISTORY_START),
            to: utc_date(HISTORY_START),
            read: read(),
            ..Default::default()
        }))
        .await?;
    Ok(())
}

/// Chromium and chromedriver, or an error saying how to install them.
fn browser_binaries() -> anyhow::Result<(PathBuf, PathBuf)> {
    let find = |env: &str, names: &[&str]| {
        if let Some(given) = std::env::var_os(env) {
            return Some(PathBuf::from(given)).filter(|path| path.is_file());
        }
        // On PATH, or where Debian's packages put them.
        names.iter().find_map(|name| {
            std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default())
                .chain([PathBuf::from("/usr/lib/chromium")])
                .map(|dir| dir.join(name))
                .find(|path| path.is_file())
        })
    };
    let chromium = find("CHROMIUM_BIN", &["chromium", "chromium-browser"]);
    let chromedriver = find("CHROMEDRIVER_BIN", &["chromedriver"]);
    match (chromium, chromedriver) {
        (Some(chromium), Some(chromedriver)) => Ok((chromium, chromedriver)),
        _ => bail!(
            "the dashboard's browser test needs Chromium and chromedriver: install them with \
             `sudo apt-get install chromium chromium-driver` (Debian; `just test` does this itself as root), or \
             point CHROMIUM_BIN and CHROMEDRIVER_BIN at them"
        ),
    }
}

/// A chromedriver process, stopped when dropped.
struct Driver {
    process: tokio::process::Child,
    url: String,
    /// The browser's profile, removed with the driver.
    profile: tempfile::TempDir,
}

impl Driver {
    async fn start(bin: &Path) -> anyhow::Result<Driver> {
        let port = helpdesk_tests::free_port();
        let process = tokio::process::Command::new(bin)
            .arg(format!("--port={port}"))
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .with_context(|| format!("starting {}", bin.display()))?;
        let driver = Driver {
            process,
            url: format!("http://127.0.0.1:{port}"),
            profile: tempfile::tempdir()?,
        };
        let started = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            if started.elapsed() > PAGE_TIMEOUT {
                bail!("chromedriver did not listen on port {port}");
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        Ok(driver)
    }

    /// A headless Chromium with its own profile, saving downloads into `downloads`.
    async fn browser(&self, chromium: &Path, downloads: &Path) -> anyhow::Result<Client> {
        let profile = self.profile.path();
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": chromium,
                // This machine's network is closed: without the background services off,
                // Chromium keeps trying to reach Google.
                "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                         "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         "--disable-dev-shm-usage", "--window-size=1280,860", "--hide-scrollbars",
                         format!("--user-data-dir={}", profile.display())],
                "prefs": {
                    "download.default_directory": downloads,
                    "download.prompt_for_download": false,
                },
            },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(capabilities)
            .connect(&self.url)
            .await
            .context("starting headless Chromium through chromedriver")
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.process.start_kill();
    }
}
