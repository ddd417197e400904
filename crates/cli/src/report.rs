//! `hdctl report`: a department report by time bucket and group, as a table for people
//! (lengths of time as `1h 23m`, blanks where there is no data, sorted within each
//! bucket) or as CSV for spreadsheets.

use std::cmp::Ordering;
use std::io::Write as _;

use anyhow::Context as _;
use helpdesk_api::{pb, ReportServiceClient};
use tonic::transport::Channel;

use crate::format::{duration_s, number, print_table};
use crate::{auth, names, status};

#[derive(Debug, clap::Args)]
#[command(after_help = "Examples:
  hdctl report --from 2026-11-01 --to 2026-11-30 --bucket week --group-by agent --sort answers
  hdctl report --from 2026-11-01 --to 2026-11-30 --department Billing --sort mean_first_answer_seconds --order asc
  hdctl report --from 2026-11-01 --to 2026-11-30 --bucket month --csv > november.csv")]
pub struct ReportArgs {
    /// The first day, YYYY-MM-DD.
    #[arg(long)]
    from: String,
    /// The last day (included), YYYY-MM-DD.
    #[arg(long)]
    to: String,
    /// How to cut time (in the organization's time zone).
    #[arg(long, value_enum, default_value = "day")]
    bucket: BucketArg,
    /// How to group.
    #[arg(long, value_enum, default_value = "department")]
    group_by: GroupArg,
    /// Only this department (its name, or its id).
    #[arg(long, value_name = "NAME")]
    department: Option<String>,
    /// Only this agent (their name, or their id).
    #[arg(long, value_name = "NAME")]
    agent: Option<String>,
    /// Sort the groups within each bucket by this column (e.g. answers,
    /// mean_first_answer_seconds; the names of `--csv`'s header); the buckets stay in
    /// time order. With --csv the whole file is sorted by the column instead.
    #[arg(long, alias = "sort-by", value_name = "COLUMN")]
    sort: Option<String>,
    /// With --sort: highest first (desc, the default) or lowest first (asc). Rows with
    /// no data in the column come last either way.
    #[arg(long, value_enum, default_value = "desc", requires = "sort")]
    order: OrderArg,
    /// Write CSV (a header row, then one row per bucket and group, all 24 columns, raw
    /// numbers) to stdout.
    #[arg(long)]
    csv: bool,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum BucketArg {
    Hour,
    Day,
    Week,
    Month,
    Year,
    Range,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum GroupArg {
    Department,
    Agent,
    Channel,
    Tag,
    None,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum OrderArg {
    Asc,
    Desc,
}

/// The columns a terminal shows (the CSV has all 24), and the one sorted by when it is
/// not among them.
const SHOWN: [&str; 7] = [
    "answers",
    "chats",
    "calls",
    "created_tickets",
    "resolved_tickets",
    "positive_percent",
    "mean_first_answer_seconds",
];

pub async fn report(channel: Channel, token: &str, args: ReportArgs) -> anyhow::Result<()> {
    let department_id = match &args.department {
        Some(name) => names::department_id(channel.clone(), token, name).await?,
        None => String::new(),
    };
    let agent_id = match &args.agent {
        Some(name) => names::agent_id(channel.clone(), token, name).await?,
        None => String::new(),
    };
    let mut request = pb::ReportRequest {
        from: args.from,
        to: args.to,
        bucket: match args.bucket {
            BucketArg::Hour => pb::ReportBucket::Hour,
            BucketArg::Day => pb::ReportBucket::Day,
            BucketArg::Week => pb::ReportBucket::Week,
            BucketArg::Month => pb::ReportBucket::Month,
            BucketArg::Year => pb::ReportBucket::Year,
            BucketArg::Range => pb::ReportBucket::Range,
        } as i32,
        group_by: match args.group_by {
            GroupArg::Department => pb::ReportGroup::Department,
            GroupArg::Agent => pb::ReportGroup::Agent,
            GroupArg::Channel => pb::ReportGroup::Channel,
            GroupArg::Tag => pb::ReportGroup::Tag,
            GroupArg::None => pb::ReportGroup::Unspecified,
        } as i32,
        department_id,
        agent_id,
        ..Default::default()
    };
    let mut client = ReportServiceClient::new(channel);
    if args.csv {
        // A spreadsheet sorts as it likes: the server's sort (the whole file by the
        // column) is enough here.
        request.sort_by = args.sort.unwrap_or_default();
        request.ascending = args.order == OrderArg::Asc;
        let mut chunks = client
            .export_report_csv(auth(token, request)?)
            .await
            .map_err(status)?
            .into_inner();
        let mut out = std::io::stdout().lock();
        while let Some(chunk) = chunks.message().await.map_err(status)? {
            out.write_all(&chunk.data)?;
        }
        return Ok(());
    }
    // The rows come by bucket, then group; the sort within each bucket is done here (the
    // server's sort_by orders all the rows by the column, mixing the buckets).
    let report = client
        .get_report(auth(token, request)?)
        .await
        .map_err(status)?
        .into_inner();
    let column = |name: &str| -> anyhow::Result<usize> {
        report
            .columns
            .iter()
            .position(|c| c == name)
            .with_context(|| {
                format!(
                    "no column is named {name:?} (there are: {})",
                    report.columns.join(", ")
                )
            })
    };
    let mut shown: Vec<&str> = SHOWN.to_vec();
    if let Some(sort) = args.sort.as_deref() {
        column(sort)?;
        if !shown.contains(&sort) {
            shown.push(sort);
        }
    }
    let cells = Cells {
        columns: &report.columns,
    };
    let mut rows: Vec<&pb::ReportRow> = report.rows.iter().collect();
    if let Some(sort) = args.sort.as_deref() {
        let i = column(sort)?;
        let ascending = args.order == OrderArg::Asc;
        rows.sort_by(|a, b| {
            let bucket = |r: &pb::ReportRow| r.bucket_start.map(|t| t.seconds);
            bucket(a)
                .cmp(&bucket(b))
                .then_with(|| by_value(cells.value(a, i), cells.value(b, i), ascending))
        });
    }
    let index: Vec<usize> = shown
        .iter()
        .map(|name| column(name))
        .collect::<Result<_, _>>()?;
    let mut table = vec![{
        let mut header = vec!["bucket".to_owned(), "group".to_owned()];
        header.extend(shown.iter().map(|s| (*s).to_owned()));
        header
    }];
    for row in rows {
        let mut line = vec![row.bucket.clone(), row.group.clone()];
        line.extend(index.iter().map(|i| cells.text(row, *i)));
        table.push(line);
    }
    if table.len() == 1 {
        println!("nothing happened in that range");
        return Ok(());
    }
    print_table(&table);
    Ok(())
}

/// Values before blanks; among values, the order asked for.
fn by_value(a: Option<f64>, b: Option<f64>, ascending: bool) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) if ascending => x.total_cmp(&y),
        (Some(x), Some(y)) => y.total_cmp(&x),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

/// A report's cells for people.
struct Cells<'a> {
    columns: &'a [String],
}

impl Cells<'_> {
    fn raw(&self, row: &pb::ReportRow, name: &str) -> f64 {
        self.columns
            .iter()
            .position(|c| c == name)
            .and_then(|i| row.values.get(i).copied())
            .unwrap_or(0.0)
    }

    /// Column `i` of `row`, or none when it has no data: a mean with no samples (the
    /// server sends 0 for it; a mean of exactly 0 ms does not happen) or a percentage of
    /// no rated conversations.
    fn value(&self, row: &pb::ReportRow, i: usize) -> Option<f64> {
        let value = *row.values.get(i)?;
        let name = self.columns[i].as_str();
        let no_data = if name.starts_with("mean_") {
            value == 0.0
        } else if name.ends_with("_percent") {
            ["positive", "negative", "not_ranked"]
                .iter()
                .all(|n| self.raw(row, n) == 0.0)
        } else {
            false
        };
        (!no_data && value.is_finite()).then_some(value)
    }

    /// Column `i` of `row` as text: lengths of time as `1h 23m`, percentages with `%`,
    /// blank for no data.
    fn text(&self, row: &pb::ReportRow, i: usize) -> String {
        let Some(value) = self.value(row, i) else {
            return String::new();
        };
        let name = self.columns[i].as_str();
        if name.ends_with("_seconds") {
            duration_s(value)
        } else if name.ends_with("_minutes") {
            duration_s(value * 60.0)
        } else if name.ends_with("_percent") {
            format!("{}%", number(value))
        } else {
            number(value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_read_as_people_say_them_and_blank_without_data() {
        let columns: Vec<String> = [
            "mean_first_answer_seconds",
            "positive",
            "negative",
            "not_ranked",
            "positive_percent",
            "call_minutes",
            "answers",
        ]
        .map(String::from)
        .to_vec();
        let cells = Cells { columns: &columns };
        let row = |values: Vec<f64>| pb::ReportRow {
            values,
            ..Default::default()
        };
        let busy = row(vec![85_856.8, 3.0, 1.0, 0.0, 75.0, 90.0, 12.0]);
        let texts: Vec<String> = (0..7).map(|i| cells.text(&busy, i)).collect();
        assert_eq!(texts, ["23h 51m", "3", "1", "0", "75%", "1h 30m", "12"]);
        let quiet = row(vec![0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]);
        let texts: Vec<String> = (0..7).map(|i| cells.text(&quiet, i)).collect();
        assert_eq!(texts, ["", "0", "0", "0", "", "0s", "0"]);
        assert_eq!(by_value(Some(1.0), None, true), Ordering::Less);
        assert_eq!(by_value(Some(1.0), Some(2.0), false), Ordering::Greater);
    }
}
