//! `helpdesk.v1.ReportService` over the reports read model: rows, CSV, chart series.

use std::collections::BTreeMap;
use std::pin::Pin;
use std::sync::Arc;

use futures::Stream;
use helpdesk_api::convert::{parse_optional_id, timestamp_from_millis};
use helpdesk_api::{pb, ApiError, ReportService};
use helpdesk_domain::{Channel, Permission};
use helpdesk_projections::calendar::{days_from_civil, local_hour_start, Day};
use helpdesk_projections::reports::{
    bucket_label, Bucket, Columns, Group, GroupBy, Query, ReportsView, COLUMNS,
};
use prost::Message;
use tonic::{Request, Response, Status};

use crate::access::permitted;
use crate::query::answer_cache::Answers;
use crate::query::preamble::{reached, read};

/// The longest range a report covers, in days.
const MAX_DAYS: i32 = 3_660;
/// The most rows one report returns (hours × groups can be many).
pub(crate) const MAX_ROWS: usize = 200_000;
/// Rows per CSV chunk.
const CSV_ROWS_PER_CHUNK: usize = 500;

pub struct ReportApi {
    view: ReportsView,
    /// Sorted rows by request, kept while the model has not moved.
    reports: Answers<Vec<pb::ReportRow>>,
}

impl ReportApi {
    pub fn new(view: ReportsView) -> Self {
        ReportApi {
            view,
            reports: Answers::default(),
        }
    }

    /// Waits for the position and runs the query (or finds its answer kept): the rows as
    /// the API sends them, sorted as asked.
    async fn rows(
        &self,
        request: &pb::ReportRequest,
    ) -> Result<(Arc<Vec<pb::ReportRow>>, u64), ApiError> {
        let query = query(request)?;
        let sort = sort_column(request)?;
        let position = reached(self.view.handle(), request.read.as_ref()).await?;
        // The question is the request without its read options (which only say how long
        // to wait).
        let question = pb::ReportRequest {
            read: None,
            ..request.clone()
        }
        .encode_to_vec();
        let rows = self
            .reports
            .get_or_compute(position, question, || {
                let ascending = request.ascending;
                read(&self.view, move |view| {
                    let rows = view
                        .report_at_most(&query, MAX_ROWS)?
                        .ok_or_else(too_many)?;
                    let zone = view.zone().unwrap_or(jiff::tz::TimeZone::UTC);
                    let mut rows: Vec<pb::ReportRow> = rows
                        .iter()
                        .map(|row| pb::ReportRow {
                            bucket: bucket_label(row.bucket, query.bucket),
                            bucket_start: Some(timestamp_from_millis(
                                local_hour_start(row.bucket, &zone).millis(),
                            )),
                            group_id: group_id(&row.group),
                            group: row.label.clone(),
                            values: row.columns.report().to_vec(),
                            sums: row.columns.to_sums(),
                        })
                        .collect();
                    sort_rows(&mut rows, sort, ascending);
                    Ok::<_, ApiError>(rows)
                })
            })
            .await?;
        Ok((rows, position))
    }
}

pub(crate) fn too_many() -> ApiError {
    ApiError::resource_exhausted(format!(
        "the report has more than {MAX_ROWS} rows: choose larger buckets, a shorter range or \
         a filter"
    ))
}

/// The column `sort_by` names, if any.
pub(crate) fn sort_column(request: &pb::ReportRequest) -> Result<Option<usize>, ApiError> {
    match request.sort_by.as_str() {
        "" => Ok(None),
        name => column_index("sort_by", name).map(Some),
    }
}

/// Rows by a column (highest first unless `ascending`), else as they come: by bucket,
/// then group.
pub(crate) fn sort_rows(rows: &mut [pb::ReportRow], sort: Option<usize>, ascending: bool) {
    let key = |r: &pb::ReportRow| (r.bucket_start.map(|t| t.seconds), r.group_id.clone());
    match sort {
        Some(i) => rows.sort_by(|a, b| {
            let (x, y) = (a.values[i], b.values[i]);
            let order = if ascending {
                x.total_cmp(&y)
            } else {
                y.total_cmp(&x)
            };
            order.then_with(|| key(a).cmp(&key(b)))
        }),
        None => rows.sort_by_key(key),
    }
}

/// The CSV text of `rows`: a header, then the rows, in chunks.
pub(crate) fn csv_chunks(rows: &[pb::ReportRow]) -> Vec<String> {
    let header = ["bucket", "bucket_start", "group_id", "group"]
        .into_iter()
        .chain(COLUMNS.iter().copied());
    let mut chunks = vec![csv_text(|csv| csv.write_record(header))];
    for slice in rows.chunks(CSV_ROWS_PER_CHUNK) {
        chunks.push(csv_text(|csv| {
            for row in slice {
                let start = row
                    .bucket_start
                    .map(|t| {
                        jiff::Timestamp::new(t.seconds, t.nanos)
                            .map(|t| t.to_string())
                            .unwrap_or_default()
                    })
                    .unwrap_or_default();
                for field in [&row.bucket, &start, &row.group_id, &row.group] {
                    csv.write_field(spreadsheet_text(field).as_ref())?;
                }
                for value in &row.values {
                    csv.write_field(csv_number(*value))?;
                }
                csv.write_record(None::<&[u8]>)?;
            }
            Ok(())
        }));
    }
    chunks
}

/// `text` as a spreadsheet shows it and never runs it: a cell starting with `=`, `+`,
/// `-`, `@`, a tab or a carriage return is read as a formula by Excel, LibreOffice and
/// Google Sheets (a tag or a name such as `=HYPERLINK(…)`), so it gets a leading `'`,
/// which they take as "text" and do not show.
fn spreadsheet_text(text: &str) -> std::borrow::Cow<'_, str> {
    if text.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{text}").into()
    } else {
        text.into()
    }
}

/// What `write` writes with the export's CSV writer: a field is quoted only when it
/// holds a comma, a quote or a line break (quotes doubled), a record ends with `\n`.
fn csv_text(write: impl FnOnce(&mut csv::Writer<Vec<u8>>) -> csv::Result<()>) -> String {
    let mut csv = csv::WriterBuilder::new()
        .flexible(true)
        .from_writer(Vec::new());
    write(&mut csv).expect("CSV written to memory");
    let bytes = csv.into_inner().expect("CSV written to memory");
    String::from_utf8(bytes).expect("CSV of UTF-8 fields is UTF-8")
}

/// One column of `rows` as chart series: one per group over the buckets (in time order),
/// with totals computed from the sums.
pub(crate) fn chart(
    rows: &[pb::ReportRow],
    column: usize,
    name: String,
    position: u64,
) -> pb::ChartResponse {
    let mut buckets: Vec<(Option<i64>, String)> = rows
        .iter()
        .map(|r| (r.bucket_start.map(|t| t.seconds), r.bucket.clone()))
        .collect();
    buckets.sort();
    buckets.dedup();
    let mut groups: BTreeMap<(String, String), (BTreeMap<String, f64>, Columns)> = BTreeMap::new();
    for row in rows {
        let entry = groups
            .entry((row.group_id.clone(), row.group.clone()))
            .or_insert_with(|| (BTreeMap::new(), Columns::default()));
        entry.0.insert(row.bucket.clone(), row.values[column]);
        entry.1.add(&Columns::from_sums(&row.sums));
    }
    let series = groups
        .into_iter()
        .map(|((group_id, group), (values, total))| pb::ChartSeries {
            group_id,
            group,
            values: buckets
                .iter()
                .map(|(_, label)| values.get(label).copied().unwrap_or(0.0))
                .collect(),
            total: total.report()[column],
        })
        .collect();
    pb::ChartResponse {
        column: name,
        buckets: buckets.into_iter().map(|(_, label)| label).collect(),
        series,
        position,
    }
}

fn group_id(group: &Group) -> String {
    match group {
        Group::Department(id) | Group::Agent(id) if id.is_nil() => String::new(),
        Group::Department(id) | Group::Agent(id) => id.to_string(),
        Group::Channel(c) => c.as_str().to_owned(),
        Group::Tag(t) => t.clone(),
        Group::All => String::new(),
    }
}

fn parse_day(field: &str, value: &str) -> Result<Day, ApiError> {
    if value.is_empty() {
        return Err(ApiError::missing_field(field));
    }
    let date: jiff::civil::Date = value.parse().map_err(|_| {
        ApiError::invalid_argument(field, format!("a date like 2024-05-01, got {value:?}"))
    })?;
    Ok(days_from_civil(
        i32::from(date.year()),
        date.month() as u32,
        date.day() as u32,
    ))
}

pub(crate) fn column_index(field: &str, name: &str) -> Result<usize, ApiError> {
    COLUMNS.iter().position(|c| *c == name).ok_or_else(|| {
        ApiError::invalid_argument(
            field,
            format!("one of {}; got {name:?}", COLUMNS.join(", ")),
        )
    })
}

/// The request as a query on the model, every field checked.
pub(crate) fn query(request: &pb::ReportRequest) -> Result<Query, ApiError> {
    let from = parse_day("from", &request.from)?;
    let to = parse_day("to", &request.to)?;
    if to < from {
        return Err(ApiError::invalid_argument("to", "not before `from`"));
    }
    if to - from > MAX_DAYS {
        return Err(ApiError::invalid_argument(
            "to",
            format!("at most {MAX_DAYS} days after `from`"),
        ));
    }
    let bucket = match pb::ReportBucket::try_from(request.bucket) {
        Ok(pb::ReportBucket::Unspecified | pb::ReportBucket::Day) => Bucket::Day,
        Ok(pb::ReportBucket::Hour) => Bucket::Hour,
        Ok(pb::ReportBucket::Week) => Bucket::Week,
        Ok(pb::ReportBucket::Month) => Bucket::Month,
        Ok(pb::ReportBucket::Year) => Bucket::Year,
        Ok(pb::ReportBucket::Range) => Bucket::Range,
        Err(_) => {
            return Err(ApiError::invalid_argument(
                "bucket",
                format!("unknown value {}", request.bucket),
            ))
        }
    };
    let group = match pb::ReportGroup::try_from(request.group_by) {
        Ok(pb::ReportGroup::Unspecified) => GroupBy::Nothing,
        Ok(pb::ReportGroup::Department) => GroupBy::Department,
        Ok(pb::ReportGroup::Agent) => GroupBy::Agent,
        Ok(pb::ReportGroup::Channel) => GroupBy::Channel,
        Ok(pb::ReportGroup::Tag) => GroupBy::Tag,
        Err(_) => {
            return Err(ApiError::invalid_argument(
                "group_by",
                format!("unknown value {}", request.group_by),
            ))
        }
    };
    let channel = match pb::Channel::try_from(request.channel) {
        Ok(pb::Channel::Unspecified) => None,
        Ok(c) => Some(
            Channel::ALL
                .iter()
                .copied()
                .find(|d| helpdesk_api::convert::channel_pb(*d) == c)
                .expect("every proto channel is a domain channel"),
        ),
        Err(_) => {
            return Err(ApiError::invalid_argument(
                "channel",
                format!("unknown value {}", request.channel),
            ))
        }
    };
    Ok(Query {
        from,
        to,
        bucket,
        group,
        department: parse_optional_id("department_id", &request.department_id)?,
        agent: parse_optional_id("agent_id", &request.agent_id)?,
        channel,
    })
}

/// One CSV field as the export writes it.
#[cfg(test)]
fn csv_field(value: &str) -> String {
    let mut record = csv_text(|csv| csv.write_record([value]));
    record.pop(); // its `\n`
    record
}

/// A number as CSV writes it: whole numbers without decimals, others with up to 3.
fn csv_number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{value:.0}")
    } else {
        let text = format!("{value:.3}");
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    }
}

/// The CSV export.
pub type CsvStream = Pin<Box<dyn Stream<Item = Result<pb::CsvChunk, Status>> + Send>>;

#[tonic::async_trait]
impl ReportService for ReportApi {
    async fn get_report(
        &self,
        request: Request<pb::ReportRequest>,
    ) -> Result<Response<pb::ReportResponse>, Status> {
        permitted(&request, Permission::ReportsView)?;
        let (rows, position) = self.rows(request.get_ref()).await?;
        Ok(Response::new(pb::ReportResponse {
            columns: COLUMNS.iter().map(|c| (*c).to_owned()).collect(),
            rows: rows.to_vec(),
            position,
        }))
    }

    type ExportReportCsvStream = CsvStream;

    async fn export_report_csv(
        &self,
        request: Request<pb::ReportRequest>,
    ) -> Result<Response<CsvStream>, Status> {
        permitted(&request, Permission::ReportsExport)?;
        let (rows, _) = self.rows(request.get_ref()).await?;
        Ok(Response::new(csv_stream(csv_chunks(&rows))))
    }

    async fn get_chart_series(
        &self,
        request: Request<pb::ChartRequest>,
    ) -> Result<Response<pb::ChartResponse>, Status> {
        permitted(&request, Permission::ReportsView)?;
        let chart_request = request.into_inner();
        let mut report = chart_request
            .report
            .ok_or_else(|| ApiError::missing_field("report"))?;
        report.sort_by.clear();
        let column = column_index("column", &chart_request.column)?;
        let (rows, position) = self.rows(&report).await.map_err(|e| e.in_field("report"))?;
        Ok(Response::new(chart(
            &rows,
            column,
            chart_request.column,
            position,
        )))
    }
}

/// CSV chunks as the export's stream.
pub(crate) fn csv_stream(chunks: Vec<String>) -> CsvStream {
    Box::pin(tokio_stream::iter(chunks.into_iter().map(|text| {
        Ok(pb::CsvChunk {
            data: text.into_bytes(),
        })
    })))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_cells_are_never_formulas() {
        let row = pb::ReportRow {
            bucket: "2024-05".into(),
            group_id: "@tag".into(),
            group: "=HYPERLINK(\"http://evil\",\"x\")".into(),
            ..Default::default()
        };
        let csv = csv_chunks(&[row]).concat();
        let line = csv.lines().nth(1).expect("a row");
        assert_eq!(
            line,
            "2024-05,,'@tag,\"'=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\""
        );
        assert_eq!(spreadsheet_text("Billing"), "Billing");
        for risky in ["+1", "-1", "\tx", "\rx"] {
            assert!(spreadsheet_text(risky).starts_with('\''), "{risky:?}");
        }
    }

    #[test]
    fn csv_fields_and_numbers() {
        assert_eq!(csv_field("Billing"), "Billing");
        assert_eq!(csv_field("Sales, North"), "\"Sales, North\"");
        assert_eq!(csv_field("the \"A\" team"), "\"the \"\"A\"\" team\"");
        assert_eq!(csv_number(12.0), "12");
        assert_eq!(csv_number(12.5), "12.5");
        assert_eq!(csv_number(1.0 / 3.0), "0.333");
        assert_eq!(csv_number(0.0), "0");
    }

    #[test]
    fn csv_text_of_rows() {
        let row =
            |bucket: &str, start: Option<i64>, group_id: &str, group: &str, values: &[f64]| {
                pb::ReportRow {
                    bucket: bucket.to_owned(),
                    bucket_start: start.map(|seconds| prost_types::Timestamp { seconds, nanos: 0 }),
                    group_id: group_id.to_owned(),
                    group: group.to_owned(),
                    values: values.to_vec(),
                    ..Default::default()
                }
            };
        let rows = vec![
            row(
                "2024-05-01",
                Some(1_714_521_600),
                "",
                "all",
                &[12.0, 1.0 / 3.0, 0.0, -2.5],
            ),
            row(
                "2024-05",
                None,
                "id,1",
                "the \"A\" team\r\nNorth",
                &[1e15, 0.0005],
            ),
            row("", None, "", "", &[]),
        ];
        let chunks = csv_chunks(&rows);
        let header = format!("bucket,bucket_start,group_id,group,{}\n", COLUMNS.join(","));
        assert_eq!(chunks[0], header);
        assert_eq!(
            chunks[1..],
            [concat!(
                "2024-05-01,2024-05-01T00:00:00Z,,all,12,0.333,0,-2.5\n",
                "2024-05,,\"id,1\",\"the \"\"A\"\" team\r\nNorth\",1000000000000000,0.001\n",
                ",,,\n",
            )]
        );
        // 500 rows a chunk after the header's.
        let rows = vec![row("2024", None, "x", "y", &[1.0]); 1_001];
        let chunks = csv_chunks(&rows);
        let lines: Vec<usize> = chunks.iter().map(|c| c.lines().count()).collect();
        assert_eq!(lines, [1, 500, 500, 1]);
        assert_eq!(chunks[3], "2024,,x,y,1\n");
    }
}
