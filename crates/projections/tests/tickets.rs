//! The tickets read model on a real embedded log: the ticket status machine
//! (docs/TICKETS.md, Statuses) and the ticket's fields, the lists, the per-department
//! counts, the department visibility (docs/TICKETS.md), the model time (docs/STATISTICS.md,
//! Time), rebuilds and partitions.
//!
//! Every expected value below is worked out by hand from the rules in docs/TICKETS.md (or,
//! for the generated histories, by a small independent model of those rules kept by the
//! generator), never taken from what the code prints.

mod common;

use std::collections::{BTreeMap, BTreeSet};

use common::*;
use helpdesk_domain::event::{
    AgentAddedToDepartment, AgentRemovedFromDepartment, ClockTicked, DepartmentCreated,
    DepartmentUpdated, TicketAnswered, TicketAssigned, TicketCreated, TicketCustomerReplied,
    TicketDeleted, TicketPriorityChanged, TicketReopened, TicketResolved, TicketTagged,
    TicketTransferred, TicketUnassigned, TicketUntagged,
};
use helpdesk_domain::{
    Actor, AgentId, AggregateId, Channel, DepartmentId, Event, Priority, RuleId, TicketId,
    Timestamp,
};
use helpdesk_log::Position;
use helpdesk_projections::runtime::dump;
use helpdesk_projections::tickets::{
    Counts, Cursor, Filter, Page, Status, Ticket, Tickets, TicketsView, Viewer,
};
use helpdesk_projections::{Partition, Projector, ProjectorConfig};
use uuid::Uuid;

// ------------------------------------------------------------------------------------ ids

fn id(kind: u128, n: u128) -> Uuid {
    Uuid::from_u128(0x0190_0000_0000_7000_8000_0000_0000_0000 | (kind << 32) | n)
}

fn ticket(n: u128) -> TicketId {
    TicketId::from_uuid(id(1, n))
}

fn agent(n: u128) -> AgentId {
    AgentId::from_uuid(id(2, n))
}

fn dept(n: u128) -> DepartmentId {
    DepartmentId::from_uuid(id(3, n))
}

/// The team lead who does the transfers, deletions and so on.
fn lead() -> Actor {
    Actor::Agent(agent(99))
}

fn at(minute: i64) -> Timestamp {
    T0.plus_minutes(minute)
}

// --------------------------------------------------------------------------------- events

fn created(t: TicketId, department: Option<DepartmentId>) -> Event {
    TicketCreated {
        ticket: t,
        channel: Channel::Email,
        priority: Priority::Normal,
        subject: format!("ticket {t}"),
        body: None,
        department,
    }
    .into()
}

fn assigned(t: TicketId, a: AgentId) -> Event {
    TicketAssigned {
        ticket: t,
        agent: a,
        by: lead(),
    }
    .into()
}

fn unassigned(t: TicketId, a: AgentId) -> Event {
    TicketUnassigned {
        ticket: t,
        agent: a,
        by: lead(),
    }
    .into()
}

fn transferred(t: TicketId, from: Option<DepartmentId>, to: DepartmentId) -> Event {
    TicketTransferred {
        ticket: t,
        from,
        to,
        by: lead(),
    }
    .into()
}

fn answered(t: TicketId, a: AgentId) -> Event {
    TicketAnswered {
        ticket: t,
        agent: a,
        chars: 120,
    }
    .into()
}

fn replied(t: TicketId) -> Event {
    TicketCustomerReplied { ticket: t }.into()
}

fn tagged(t: TicketId, tag: &str) -> Event {
    TicketTagged {
        ticket: t,
        tag: tag.into(),
        by: lead(),
    }
    .into()
}

fn untagged(t: TicketId, tag: &str) -> Event {
    TicketUntagged {
        ticket: t,
        tag: tag.into(),
        by: lead(),
    }
    .into()
}

fn resolved(t: TicketId) -> Event {
    TicketResolved {
        ticket: t,
        by: lead(),
    }
    .into()
}

fn reopened(t: TicketId) -> Event {
    TicketReopened {
        ticket: t,
        by: lead(),
    }
    .into()
}

fn deleted(t: TicketId) -> Event {
    TicketDeleted {
        ticket: t,
        by: lead(),
    }
    .into()
}

fn priority_changed(t: TicketId, priority: Priority) -> Event {
    TicketPriorityChanged {
        ticket: t,
        priority,
        by: Actor::Rule(RuleId::from_uuid(id(4, 1))),
    }
    .into()
}

fn department_created(d: DepartmentId, name: &str) -> Event {
    DepartmentCreated {
        department: d,
        name: name.into(),
        to_solve_enabled: true,
    }
    .into()
}

fn department_renamed(d: DepartmentId, name: &str) -> Event {
    DepartmentUpdated {
        department: d,
        name: name.into(),
        to_solve_enabled: true,
    }
    .into()
}

fn joined(a: AgentId, d: DepartmentId) -> Event {
    AgentAddedToDepartment {
        department: d,
        agent: a,
    }
    .into()
}

fn left(a: AgentId, d: DepartmentId) -> Event {
    AgentRemovedFromDepartment {
        department: d,
        agent: a,
    }
    .into()
}

/// The aggregate an envelope starting with `event` is appended to.
fn aggregate_of(event: &Event) -> AggregateId {
    match event {
        Event::DepartmentCreated(e) => AggregateId::department(e.department),
        Event::DepartmentUpdated(e) => AggregateId::department(e.department),
        Event::AgentAddedToDepartment(e) => AggregateId::department(e.department),
        Event::AgentRemovedFromDepartment(e) => AggregateId::department(e.department),
        Event::ClockTicked(_) => AggregateId::clock(),
        Event::TicketCreated(e) => AggregateId::ticket(e.ticket),
        Event::TicketAssigned(e) => AggregateId::ticket(e.ticket),
        Event::TicketUnassigned(e) => AggregateId::ticket(e.ticket),
        Event::TicketTransferred(e) => AggregateId::ticket(e.ticket),
        Event::TicketAnswered(e) => AggregateId::ticket(e.ticket),
        Event::TicketCustomerReplied(e) => AggregateId::ticket(e.ticket),
        Event::TicketTagged(e) => AggregateId::ticket(e.ticket),
        Event::TicketUntagged(e) => AggregateId::ticket(e.ticket),
        Event::TicketResolved(e) => AggregateId::ticket(e.ticket),
        Event::TicketReopened(e) => AggregateId::ticket(e.ticket),
        Event::TicketDeleted(e) => AggregateId::ticket(e.ticket),
        Event::TicketPriorityChanged(e) => AggregateId::ticket(e.ticket),
        other => panic!("no aggregate for {}", other.name()),
    }
}

// ---------------------------------------------------------------------------------- desk

/// A log, a tickets projector over it (small batches), and its data directory.
struct Desk {
    log: TestLog,
    data: tempfile::TempDir,
    projector: Option<Projector<Tickets>>,
}

impl Desk {
    fn new() -> Self {
        let log = TestLog::new();
        let data = tempfile::tempdir().expect("temp dir");
        let p = projector(Tickets, &log, data.path(), 4);
        Desk {
            log,
            data,
            projector: Some(p),
        }
    }

    /// Appends one envelope of `events` at `minute` past T0.
    async fn at(&mut self, minute: i64, events: Vec<Event>) -> Position {
        self.at_time(at(minute), events).await
    }

    async fn at_time(&mut self, time: Timestamp, events: Vec<Event>) -> Position {
        let aggregate = aggregate_of(&events[0]);
        self.log.append(aggregate, time, events).await
    }

    /// Catches the projector up and returns the queries on it.
    async fn view(&mut self) -> TicketsView {
        let p = self.projector.as_mut().expect("projector");
        caught_up(p).await;
        TicketsView::new(p.handle())
    }

    /// Stops the projector and starts a new one on the same store (a restart).
    fn restart(&mut self) {
        drop(self.projector.take());
        self.projector = Some(projector(Tickets, &self.log, self.data.path(), 4));
    }

    /// Appends, catches up, and checks the ticket against `expected` with the envelope's
    /// time as its `updated_at`; also that the ticket is in
    /// exactly one status list, its own.
    async fn expect(
        &mut self,
        minute: i64,
        events: Vec<Event>,
        expected: &mut Ticket,
    ) -> TicketsView {
        self.at(minute, events).await;
        expected.updated_at = at(minute);
        let view = self.view().await;
        assert_eq!(
            view.get(expected.id, Viewer::All).unwrap().as_ref(),
            Some(&*expected),
            "the ticket after minute {minute}"
        );
        assert_eq!(
            status_lists(&view, expected.id),
            vec![expected.status],
            "the status lists after minute {minute}"
        );
        view
    }
}

// ------------------------------------------------------------------------------- queries

fn get(view: &TicketsView, t: TicketId) -> Ticket {
    view.get(t.uuid(), Viewer::All)
        .unwrap()
        .unwrap_or_else(|| panic!("ticket {t} exists"))
}

fn sees(view: &TicketsView, t: TicketId, viewer: Viewer) -> bool {
    view.get(t.uuid(), viewer).unwrap().is_some()
}

/// The whole list, in one page.
fn list(view: &TicketsView, filter: &Filter, viewer: Viewer) -> Vec<Uuid> {
    let page = view.list(filter, viewer, None, 1_000).unwrap();
    assert_eq!(page.next, None, "one page holds the whole list");
    page.tickets.iter().map(|t| t.id).collect()
}

fn ids(tickets: &[TicketId]) -> Vec<Uuid> {
    tickets.iter().map(|t| t.uuid()).collect()
}

fn everything() -> Filter {
    Filter::default()
}

fn with_status(status: Status) -> Filter {
    Filter {
        status: Some(status),
        ..Filter::default()
    }
}

fn in_department(d: Option<DepartmentId>) -> Filter {
    Filter {
        department: Some(d.map_or(Uuid::nil(), |d| d.uuid())),
        ..Filter::default()
    }
}

fn assigned_to(a: AgentId) -> Filter {
    Filter {
        assignee: Some(a.uuid()),
        ..Filter::default()
    }
}

fn with_tag(tag: &str) -> Filter {
    Filter {
        tag: Some(tag.into()),
        ..Filter::default()
    }
}

/// The status lists that hold ticket `t`.
fn status_lists(view: &TicketsView, t: Uuid) -> Vec<Status> {
    Status::ALL
        .into_iter()
        .filter(|s| list(view, &with_status(*s), Viewer::All).contains(&t))
        .collect()
}

fn counts(new: u64, answered: u64, open: u64, resolved: u64) -> Counts {
    Counts {
        new,
        answered,
        open,
        resolved,
    }
}

/// The counts `viewer` is shown, by department, with the department's name.
fn counts_by_department(
    view: &TicketsView,
    viewer: Viewer,
) -> BTreeMap<Uuid, (Option<String>, Counts)> {
    let mut out = BTreeMap::new();
    for c in view.counts(viewer).unwrap() {
        let earlier = out.insert(c.department, (c.name, c.counts));
        assert!(
            earlier.is_none(),
            "department {} reported twice",
            c.department
        );
    }
    out
}

/// The counts of one department as `Viewer::All` sees them (zero when not reported).
fn counts_of(view: &TicketsView, d: Option<DepartmentId>) -> Counts {
    let key = d.map_or(Uuid::nil(), |d| d.uuid());
    counts_by_department(view, Viewer::All)
        .get(&key)
        .map(|(_, c)| *c)
        .unwrap_or_default()
}

/// Every page of a list, following the cursors.
fn pages(view: &TicketsView, filter: &Filter, viewer: Viewer, limit: usize) -> Vec<Page> {
    let mut out: Vec<Page> = Vec::new();
    let mut after = None;
    loop {
        let page = view.list(filter, viewer, after, limit).unwrap();
        assert!(page.tickets.len() <= limit);
        if let Some(next) = page.next {
            let last = page
                .tickets
                .last()
                .expect("a page with a next is not empty");
            assert_eq!(
                next,
                Cursor {
                    created_at: last.created_at,
                    id: last.id
                },
                "the next page starts after this page's last ticket"
            );
            assert_eq!(page.tickets.len(), limit, "only a full page has a next");
            // Cursors travel as opaque strings.
            assert_eq!(Cursor::decode(&next.encode()), Some(next));
        }
        after = page.next.map(|c| Cursor::decode(&c.encode()).unwrap());
        out.push(page);
        if after.is_none() {
            return out;
        }
        assert!(out.len() < 1_000, "the pages end");
    }
}

fn page_ids(pages: &[Page]) -> Vec<Vec<Uuid>> {
    pages
        .iter()
        .map(|p| p.tickets.iter().map(|t| t.id).collect())
        .collect()
}

// ---------------------------------------------------------------------------- status machine

#[tokio::test]
async fn the_status_machine_follows_spec_section_2() {
    let mut desk = Desk::new();
    let t = ticket(1);
    let (a1, a2) = (agent(1), agent(2));
    desk.at(
        0,
        vec![TicketCreated {
            ticket: t,
            channel: Channel::WebForm,
            priority: Priority::High,
            subject: "The printer is on fire".into(),
            body: Some("Really, it is.".into()),
            department: None,
        }
        .into()],
    )
    .await;
    let mut expected = Ticket {
        id: t.uuid(),
        channel: Channel::WebForm,
        priority: Priority::High,
        subject: "The printer is on fire".into(),
        status: Status::New,
        department: None,
        assignee: None,
        tags: vec![],
        created_at: at(0),
        updated_at: at(0),
        first_answer_at: None,
        resolved_at: None,
        answers: 0,
        last_answer_by: None,
    };
    let view = desk.view().await;
    assert_eq!(get(&view, t), expected);
    assert_eq!(status_lists(&view, t.uuid()), vec![Status::New]);
    assert_eq!(counts_of(&view, None), counts(1, 0, 0, 0));

    // A customer reply before any agent answer: still new.
    let view = desk.expect(1, vec![replied(t)], &mut expected).await;
    assert_eq!(counts_of(&view, None), counts(1, 0, 0, 0));

    // new → answered: the first answer.
    expected.status = Status::Answered;
    expected.first_answer_at = Some(at(2));
    expected.answers = 1;
    expected.last_answer_by = Some(a1.uuid());
    let view = desk.expect(2, vec![answered(t, a1)], &mut expected).await;
    assert_eq!(counts_of(&view, None), counts(0, 1, 0, 0));

    // answered → open: the customer replied.
    expected.status = Status::Open;
    let view = desk.expect(3, vec![replied(t)], &mut expected).await;
    assert_eq!(counts_of(&view, None), counts(0, 0, 1, 0));

    // open → answered, by another agent: the first answer stays the first.
    expected.status = Status::Answered;
    expected.answers = 2;
    expected.last_answer_by = Some(a2.uuid());
    let view = desk.expect(4, vec![answered(t, a2)], &mut expected).await;
    assert_eq!(counts_of(&view, None), counts(0, 1, 0, 0));

    // A second answer while answered: still answered, counted.
    expected.answers = 3;
    expected.last_answer_by = Some(a1.uuid());
    desk.expect(5, vec![answered(t, a1)], &mut expected).await;

    expected.status = Status::Open;
    desk.expect(6, vec![replied(t)], &mut expected).await;
    // Another reply while open: still open.
    desk.expect(7, vec![replied(t)], &mut expected).await;

    // open → resolved.
    expected.status = Status::Resolved;
    expected.resolved_at = Some(at(8));
    let view = desk.expect(8, vec![resolved(t)], &mut expected).await;
    assert_eq!(counts_of(&view, None), counts(0, 0, 0, 1));

    // resolved → (reopened) open: no longer resolved.
    expected.status = Status::Open;
    expected.resolved_at = None;
    let view = desk.expect(9, vec![reopened(t)], &mut expected).await;
    assert_eq!(counts_of(&view, None), counts(0, 0, 1, 0));

    expected.status = Status::Answered;
    expected.answers = 4;
    expected.last_answer_by = Some(a2.uuid());
    desk.expect(10, vec![answered(t, a2)], &mut expected).await;

    // answered → resolved, at the later time.
    expected.status = Status::Resolved;
    expected.resolved_at = Some(at(11));
    desk.expect(11, vec![resolved(t)], &mut expected).await;

    // A customer writing to a resolved ticket reopens it (the command side appends both).
    expected.status = Status::Open;
    expected.resolved_at = None;
    let view = desk
        .expect(12, vec![reopened(t), replied(t)], &mut expected)
        .await;
    assert_eq!(counts_of(&view, None), counts(0, 0, 1, 0));

    // open → deleted: final, still readable by id, gone from the counts and lists.
    expected.status = Status::Deleted;
    let view = desk.expect(13, vec![deleted(t)], &mut expected).await;
    assert_eq!(counts_of(&view, None), counts(0, 0, 0, 0));
    assert_eq!(list(&view, &everything(), Viewer::All), Vec::<Uuid>::new());
    assert_eq!(
        list(&view, &with_status(Status::Deleted), Viewer::All),
        ids(&[t])
    );

    // Nothing changes a deleted ticket: not an answer, a reply, a resolve or a reopen.
    let frozen = get(&view, t);
    for (minute, event) in [
        (14, answered(t, a1)),
        (15, replied(t)),
        (16, resolved(t)),
        (17, reopened(t)),
    ] {
        desk.at(minute, vec![event]).await;
        let view = desk.view().await;
        assert_eq!(get(&view, t), frozen, "minute {minute}");
        assert_eq!(status_lists(&view, t.uuid()), vec![Status::Deleted]);
        assert_eq!(counts_of(&view, None), counts(0, 0, 0, 0));
        assert_eq!(list(&view, &everything(), Viewer::All), Vec::<Uuid>::new());
    }
}

#[tokio::test]
async fn tickets_resolved_or_deleted_without_an_answer() {
    let mut desk = Desk::new();
    let (spam, quick) = (ticket(1), ticket(2));
    desk.at(0, vec![created(spam, None)]).await;
    desk.at(0, vec![created(quick, None)]).await;
    let view = desk.view().await;
    assert_eq!(counts_of(&view, None), counts(2, 0, 0, 0));

    // new → deleted.
    desk.at(1, vec![deleted(spam)]).await;
    // new → resolved (solved without writing back), then reopened: open.
    desk.at(2, vec![resolved(quick)]).await;
    let view = desk.view().await;
    assert_eq!(get(&view, spam).status, Status::Deleted);
    assert_eq!(get(&view, spam).answers, 0);
    let q = get(&view, quick);
    assert_eq!(
        (q.status, q.resolved_at, q.first_answer_at, q.answers),
        (Status::Resolved, Some(at(2)), None, 0)
    );
    assert_eq!(counts_of(&view, None), counts(0, 0, 0, 1));

    desk.at(3, vec![reopened(quick)]).await;
    let view = desk.view().await;
    let q = get(&view, quick);
    assert_eq!((q.status, q.resolved_at), (Status::Open, None));
    assert_eq!(counts_of(&view, None), counts(0, 0, 1, 0));
    assert_eq!(list(&view, &everything(), Viewer::All), ids(&[quick]));
}

// --------------------------------------------------------------------------- other fields

#[tokio::test]
async fn priority_tags_assignees_and_transfers() {
    let mut desk = Desk::new();
    let (d1, d2) = (dept(1), dept(2));
    let (a1, a2) = (agent(1), agent(2));
    desk.at(0, vec![department_created(d1, "Billing")]).await;
    desk.at(0, vec![department_created(d2, "Support")]).await;
    let t = ticket(1);
    desk.at(
        1,
        vec![TicketCreated {
            ticket: t,
            channel: Channel::Whatsapp,
            priority: Priority::Low,
            subject: "Refund please".into(),
            body: None,
            department: Some(d1),
        }
        .into()],
    )
    .await;
    let mut expected = Ticket {
        id: t.uuid(),
        channel: Channel::Whatsapp,
        priority: Priority::Low,
        subject: "Refund please".into(),
        status: Status::New,
        department: Some(d1.uuid()),
        assignee: None,
        tags: vec![],
        created_at: at(1),
        updated_at: at(1),
        first_answer_at: None,
        resolved_at: None,
        answers: 0,
        last_answer_by: None,
    };
    assert_eq!(get(&desk.view().await, t), expected);

    expected.priority = Priority::Urgent;
    desk.expect(
        2,
        vec![priority_changed(t, Priority::Urgent)],
        &mut expected,
    )
    .await;

    // Tags: in the order added, each once.
    expected.tags = vec!["refund".into()];
    desk.expect(3, vec![tagged(t, "refund")], &mut expected)
        .await;
    expected.tags = vec!["refund".into(), "vip".into()];
    desk.expect(4, vec![tagged(t, "vip")], &mut expected).await;
    let view = desk
        .expect(5, vec![tagged(t, "refund")], &mut expected)
        .await;
    assert_eq!(list(&view, &with_tag("refund"), Viewer::All), ids(&[t]));
    assert_eq!(list(&view, &with_tag("vip"), Viewer::All), ids(&[t]));

    expected.tags = vec!["vip".into()];
    let view = desk
        .expect(6, vec![untagged(t, "refund")], &mut expected)
        .await;
    assert_eq!(
        list(&view, &with_tag("refund"), Viewer::All),
        Vec::<Uuid>::new()
    );
    assert_eq!(list(&view, &with_tag("vip"), Viewer::All), ids(&[t]));
    // Removing a tag the ticket does not have changes no tag.
    desk.expect(7, vec![untagged(t, "nope")], &mut expected)
        .await;

    // Assignees.
    expected.assignee = Some(a1.uuid());
    let view = desk.expect(8, vec![assigned(t, a1)], &mut expected).await;
    assert_eq!(list(&view, &assigned_to(a1), Viewer::All), ids(&[t]));
    expected.assignee = Some(a2.uuid());
    let view = desk.expect(9, vec![assigned(t, a2)], &mut expected).await;
    assert_eq!(
        list(&view, &assigned_to(a1), Viewer::All),
        Vec::<Uuid>::new()
    );
    assert_eq!(list(&view, &assigned_to(a2), Viewer::All), ids(&[t]));
    expected.assignee = None;
    let view = desk
        .expect(10, vec![unassigned(t, a2)], &mut expected)
        .await;
    assert_eq!(
        list(&view, &assigned_to(a2), Viewer::All),
        Vec::<Uuid>::new()
    );

    // A transfer moves the ticket to the other department's list and count.
    assert_eq!(counts_of(&view, Some(d1)), counts(1, 0, 0, 0));
    expected.department = Some(d2.uuid());
    let view = desk
        .expect(11, vec![transferred(t, Some(d1), d2)], &mut expected)
        .await;
    assert_eq!(
        list(&view, &in_department(Some(d1)), Viewer::All),
        Vec::<Uuid>::new()
    );
    assert_eq!(
        list(&view, &in_department(Some(d2)), Viewer::All),
        ids(&[t])
    );
    assert_eq!(counts_of(&view, Some(d1)), counts(0, 0, 0, 0));
    assert_eq!(counts_of(&view, Some(d2)), counts(1, 0, 0, 0));

    // A transfer that takes the ticket from an assignee who is not a member (one envelope).
    expected.assignee = Some(a1.uuid());
    desk.expect(12, vec![assigned(t, a1)], &mut expected).await;
    expected.department = Some(d1.uuid());
    expected.assignee = None;
    let view = desk
        .expect(
            13,
            vec![transferred(t, Some(d2), d1), unassigned(t, a1)],
            &mut expected,
        )
        .await;
    assert_eq!(
        list(&view, &assigned_to(a1), Viewer::All),
        Vec::<Uuid>::new()
    );
    assert_eq!(counts_of(&view, Some(d1)), counts(1, 0, 0, 0));
    assert_eq!(counts_of(&view, Some(d2)), counts(0, 0, 0, 0));

    // The status fields are untouched by all of this.
    assert_eq!(get(&view, t).status, Status::New);
    assert_eq!(get(&view, t).answers, 0);

    // A ticket without a department transferred into one.
    let loose = ticket(2);
    desk.at(14, vec![created(loose, None)]).await;
    let view = desk.view().await;
    assert_eq!(counts_of(&view, None), counts(1, 0, 0, 0));
    desk.at(15, vec![transferred(loose, None, d2)]).await;
    let view = desk.view().await;
    assert_eq!(get(&view, loose).department, Some(d2.uuid()));
    assert_eq!(counts_of(&view, None), counts(0, 0, 0, 0));
    assert_eq!(counts_of(&view, Some(d2)), counts(1, 0, 0, 0));
    assert_eq!(
        list(&view, &in_department(None), Viewer::All),
        Vec::<Uuid>::new()
    );
}

#[tokio::test]
async fn routing_results_in_the_creating_envelope_apply_at_once() {
    let mut desk = Desk::new();
    let (d1, a1) = (dept(1), agent(1));
    desk.at(0, vec![department_created(d1, "Billing")]).await;
    let t = ticket(1);
    desk.at(
        1,
        vec![
            TicketCreated {
                ticket: t,
                channel: Channel::Email,
                priority: Priority::Normal,
                subject: "Invoice wrong".into(),
                body: None,
                department: None,
            }
            .into(),
            transferred(t, None, d1),
            assigned(t, a1),
            priority_changed(t, Priority::High),
            tagged(t, "invoice"),
            tagged(t, "routed"),
        ],
    )
    .await;
    let view = desk.view().await;
    assert_eq!(
        get(&view, t),
        Ticket {
            id: t.uuid(),
            channel: Channel::Email,
            priority: Priority::High,
            subject: "Invoice wrong".into(),
            status: Status::New,
            department: Some(d1.uuid()),
            assignee: Some(a1.uuid()),
            tags: vec!["invoice".into(), "routed".into()],
            created_at: at(1),
            updated_at: at(1),
            first_answer_at: None,
            resolved_at: None,
            answers: 0,
            last_answer_by: None,
        }
    );
    assert_eq!(counts_of(&view, Some(d1)), counts(1, 0, 0, 0));
    assert_eq!(counts_of(&view, None), counts(0, 0, 0, 0));
    assert_eq!(
        list(&view, &in_department(None), Viewer::All),
        Vec::<Uuid>::new()
    );
    assert_eq!(
        list(&view, &in_department(Some(d1)), Viewer::All),
        ids(&[t])
    );
    assert_eq!(list(&view, &assigned_to(a1), Viewer::All), ids(&[t]));
    assert_eq!(list(&view, &with_tag("routed"), Viewer::All), ids(&[t]));
}

// ------------------------------------------------------------------------------------ lists

#[tokio::test]
async fn lists_by_status_department_assignee_and_tag() {
    let mut desk = Desk::new();
    let (d1, d2) = (dept(1), dept(2));
    let (a1, a2, a3) = (agent(1), agent(2), agent(3));
    let [t1, t2, t3, t4, t5, t6, t7] = [1, 2, 3, 4, 5, 6, 7].map(ticket);
    desk.at(0, vec![department_created(d1, "Billing")]).await;
    desk.at(0, vec![department_created(d2, "Support")]).await;

    // t1: d1, billing, a1, new.
    desk.at(
        1,
        vec![
            created(t1, Some(d1)),
            tagged(t1, "billing"),
            assigned(t1, a1),
        ],
    )
    .await;
    // t2: d2, answered by a1 but not assigned.
    desk.at(2, vec![created(t2, Some(d2))]).await;
    // t3: no department, billing, a2, open.
    desk.at(
        3,
        vec![created(t3, None), tagged(t3, "billing"), assigned(t3, a2)],
    )
    .await;
    // t4: d1, billing + vip, a1, resolved.
    desk.at(
        4,
        vec![
            created(t4, Some(d1)),
            tagged(t4, "billing"),
            tagged(t4, "vip"),
            assigned(t4, a1),
        ],
    )
    .await;
    // t5: d1, billing, a1, deleted.
    desk.at(
        5,
        vec![
            created(t5, Some(d1)),
            tagged(t5, "billing"),
            assigned(t5, a1),
        ],
    )
    .await;
    // t6: no department, new.
    desk.at(6, vec![created(t6, None)]).await;
    // t7: d2, vip, a1, answered.
    desk.at(
        7,
        vec![created(t7, Some(d2)), tagged(t7, "vip"), assigned(t7, a1)],
    )
    .await;
    // Later work: it does not change the order (newest created first).
    desk.at(11, vec![answered(t2, a1)]).await;
    desk.at(12, vec![answered(t3, a2)]).await;
    desk.at(13, vec![replied(t3)]).await;
    desk.at(14, vec![answered(t4, a1)]).await;
    desk.at(15, vec![resolved(t4)]).await;
    desk.at(16, vec![deleted(t5)]).await;
    desk.at(17, vec![answered(t7, a1)]).await;
    desk.at(18, vec![replied(t1)]).await;
    let view = desk.view().await;
    let l = |filter: Filter| list(&view, &filter, Viewer::All);
    let none: Vec<Uuid> = vec![];

    assert_eq!(l(everything()), ids(&[t7, t6, t4, t3, t2, t1]));
    assert_eq!(l(with_status(Status::New)), ids(&[t6, t1]));
    assert_eq!(l(with_status(Status::Answered)), ids(&[t7, t2]));
    assert_eq!(l(with_status(Status::Open)), ids(&[t3]));
    assert_eq!(l(with_status(Status::Resolved)), ids(&[t4]));
    assert_eq!(l(with_status(Status::Deleted)), ids(&[t5]));
    assert_eq!(l(in_department(Some(d1))), ids(&[t4, t1]));
    assert_eq!(l(in_department(Some(d2))), ids(&[t7, t2]));
    assert_eq!(l(in_department(None)), ids(&[t6, t3]));
    assert_eq!(l(in_department(Some(dept(9)))), none);
    assert_eq!(l(assigned_to(a1)), ids(&[t7, t4, t1]));
    assert_eq!(l(assigned_to(a2)), ids(&[t3]));
    assert_eq!(l(assigned_to(a3)), none);
    assert_eq!(l(with_tag("billing")), ids(&[t4, t3, t1]));
    assert_eq!(l(with_tag("vip")), ids(&[t7, t4]));
    assert_eq!(l(with_tag("nope")), none);
    // Tags are matched whole, not by prefix.
    assert_eq!(l(with_tag("bill")), none);
    assert_eq!(l(with_tag("vi")), none);

    // Combined filters: every criterion holds.
    let f = |status: Option<Status>,
             department: Option<Option<DepartmentId>>,
             assignee: Option<AgentId>,
             tag: Option<&str>| Filter {
        status,
        department: department.map(|d| d.map_or(Uuid::nil(), |d| d.uuid())),
        assignee: assignee.map(|a| a.uuid()),
        tag: tag.map(Into::into),
    };
    assert_eq!(
        l(f(None, Some(Some(d1)), None, Some("billing"))),
        ids(&[t4, t1])
    );
    assert_eq!(
        l(f(Some(Status::Answered), None, Some(a1), None)),
        ids(&[t7])
    );
    assert_eq!(
        l(f(Some(Status::New), None, None, Some("billing"))),
        ids(&[t1])
    );
    assert_eq!(l(f(Some(Status::Open), Some(None), None, None)), ids(&[t3]));
    assert_eq!(l(f(Some(Status::New), Some(None), None, None)), ids(&[t6]));
    assert_eq!(
        l(f(None, Some(Some(d2)), Some(a1), Some("vip"))),
        ids(&[t7])
    );
    assert_eq!(l(f(None, None, Some(a1), Some("billing"))), ids(&[t4, t1]));
    assert_eq!(l(f(Some(Status::New), Some(Some(d2)), None, None)), none);
    assert_eq!(l(f(None, Some(Some(d2)), Some(a2), None)), none);
    assert_eq!(
        l(f(
            Some(Status::Resolved),
            Some(Some(d1)),
            Some(a1),
            Some("vip")
        )),
        ids(&[t4])
    );
    // The deleted list narrows like any other: the deleted tickets of a department, of an
    // assignee, with a tag.
    assert_eq!(
        l(f(Some(Status::Deleted), Some(Some(d1)), None, None)),
        ids(&[t5])
    );
    assert_eq!(
        l(f(Some(Status::Deleted), None, Some(a1), None)),
        ids(&[t5])
    );
    assert_eq!(
        l(f(Some(Status::Deleted), None, None, Some("billing"))),
        ids(&[t5])
    );
    assert_eq!(
        l(f(Some(Status::Deleted), Some(Some(d2)), None, None)),
        none
    );
    assert_eq!(l(f(Some(Status::Deleted), None, Some(a2), None)), none);

    // Every ticket in a list carries what the list was asked for.
    for t in view
        .list(&with_tag("billing"), Viewer::All, None, 100)
        .unwrap()
        .tickets
    {
        assert!(t.tags.contains(&"billing".to_string()));
        assert_ne!(t.status, Status::Deleted);
    }
}

#[tokio::test]
async fn pages_neither_overlap_nor_skip() {
    let mut desk = Desk::new();
    // 23 tickets, two a minute (equal creation times are ordered by id, newest first).
    for n in 1..=23u128 {
        let mut events = vec![created(ticket(n), None)];
        if n % 2 == 0 {
            events.push(tagged(ticket(n), "even"));
        }
        desk.at(n as i64 / 2, events).await;
    }
    for n in (3..=21u128).step_by(3) {
        desk.at(30, vec![answered(ticket(n), agent(1))]).await;
    }
    desk.at(31, vec![deleted(ticket(12))]).await;
    let view = desk.view().await;
    let newest_first =
        |ns: &[u128]| -> Vec<Uuid> { ns.iter().map(|n| ticket(*n).uuid()).collect() };

    let every: Vec<u128> = (1..=23).rev().filter(|n| *n != 12).collect();
    assert_eq!(
        list(&view, &everything(), Viewer::All),
        newest_first(&every)
    );

    // 22 tickets in pages of 5: 5, 5, 5, 5, 2.
    let all_pages = pages(&view, &everything(), Viewer::All, 5);
    let got = page_ids(&all_pages);
    assert_eq!(
        got.iter().map(Vec::len).collect::<Vec<_>>(),
        vec![5, 5, 5, 5, 2]
    );
    assert_eq!(got.concat(), newest_first(&every));
    assert_eq!(all_pages.last().unwrap().next, None);
    let distinct: BTreeSet<Uuid> = got.concat().into_iter().collect();
    assert_eq!(distinct.len(), 22, "no ticket on two pages");

    // One ticket a page.
    let ones = page_ids(&pages(&view, &everything(), Viewer::All, 1));
    assert_eq!(ones.len(), 22);
    assert_eq!(ones.concat(), newest_first(&every));

    // A page as large as the list: one page, no next.
    let whole = view.list(&everything(), Viewer::All, None, 22).unwrap();
    assert_eq!(whole.tickets.len(), 22);
    assert_eq!(whole.next, None);
    let short = view.list(&everything(), Viewer::All, None, 21).unwrap();
    assert_eq!(short.tickets.len(), 21);
    assert!(short.next.is_some());

    // Answered: 3, 6, 9, 15, 18, 21 (12 was deleted). Pages that end exactly at the end.
    let answered_ids = newest_first(&[21, 18, 15, 9, 6, 3]);
    let by3 = pages(&view, &with_status(Status::Answered), Viewer::All, 3);
    assert_eq!(
        page_ids(&by3),
        vec![answered_ids[..3].to_vec(), answered_ids[3..].to_vec()]
    );
    assert_eq!(by3[1].next, None, "the last page has no next");
    let by4 = page_ids(&pages(
        &view,
        &with_status(Status::Answered),
        Viewer::All,
        4,
    ));
    assert_eq!(
        by4,
        vec![answered_ids[..4].to_vec(), answered_ids[4..].to_vec()]
    );

    // The even tag: 22, 20, …, 2 without 12; in pages of 4: 4, 4, 2.
    let even = newest_first(&[22, 20, 18, 16, 14, 10, 8, 6, 4, 2]);
    let by_tag = page_ids(&pages(&view, &with_tag("even"), Viewer::All, 4));
    assert_eq!(
        by_tag,
        vec![even[..4].to_vec(), even[4..8].to_vec(), even[8..].to_vec()]
    );

    // New and even: 22, 20, 16, 14, 10, 8, 4, 2 (18 and 6 are answered).
    let new_even = Filter {
        status: Some(Status::New),
        tag: Some("even".into()),
        ..Filter::default()
    };
    let got = page_ids(&pages(&view, &new_even, Viewer::All, 3));
    assert_eq!(got.concat(), newest_first(&[22, 20, 16, 14, 10, 8, 4, 2]));
    assert_eq!(got.iter().map(Vec::len).collect::<Vec<_>>(), vec![3, 3, 2]);

    // Cursors: opaque strings that survive a round trip; garbage is refused.
    let c = Cursor {
        created_at: at(3),
        id: ticket(7).uuid(),
    };
    assert_eq!(Cursor::decode(&c.encode()), Some(c));
    for bad in [
        "",
        "x",
        "12.nope",
        "abc.0190000000007000800000010000000a",
        "12",
    ] {
        assert_eq!(Cursor::decode(bad), None, "{bad:?}");
    }
    // A page after the oldest ticket is empty.
    let oldest = view
        .list(
            &everything(),
            Viewer::All,
            Some(Cursor {
                created_at: at(0),
                id: ticket(1).uuid(),
            }),
            10,
        )
        .unwrap();
    assert_eq!(oldest.tickets, vec![]);
    assert_eq!(oldest.next, None);

    // Paging on while the desk works: a cursor stays good when its own ticket is deleted,
    // and a ticket created meanwhile (newer than every page) does not push the others on.
    let first = view.list(&everything(), Viewer::All, None, 5).unwrap();
    let cursor = first.next.expect("more pages");
    assert_eq!(cursor.id, ticket(19).uuid());
    desk.at(40, vec![deleted(ticket(19))]).await;
    desk.at(41, vec![created(ticket(24), None)]).await;
    desk.at(42, vec![deleted(ticket(17))]).await;
    let view = desk.view().await;
    let second = view
        .list(&everything(), Viewer::All, Some(cursor), 5)
        .unwrap();
    assert_eq!(
        second.tickets.iter().map(|t| t.id).collect::<Vec<_>>(),
        newest_first(&[18, 16, 15, 14, 13])
    );
}

// ----------------------------------------------------------------------------------- counts

#[tokio::test]
async fn counts_per_department_move_with_the_tickets() {
    let mut desk = Desk::new();
    let (d1, d2, d3) = (dept(1), dept(2), dept(3));
    let a1 = agent(1);
    let [t1, t2, t3, t4, t5] = [1, 2, 3, 4, 5].map(ticket);
    desk.at(0, vec![department_created(d1, "Billing")]).await;
    desk.at(0, vec![department_created(d2, "Support")]).await;
    desk.at(0, vec![department_created(d3, "Sales")]).await;
    let expect = |view: &TicketsView, rows: &[(Option<DepartmentId>, Option<&str>, Counts)]| {
        let want: BTreeMap<Uuid, (Option<String>, Counts)> = rows
            .iter()
            .map(|(d, name, c)| {
                (
                    d.map_or(Uuid::nil(), |d| d.uuid()),
                    (name.map(String::from), *c),
                )
            })
            .collect();
        let mut got = counts_by_department(view, Viewer::All);
        // A department whose tickets all left may be reported with zeros, or not at all.
        got.retain(|d, (name, c)| {
            want.contains_key(d) || name.is_some() || *c != Counts::default()
        });
        assert_eq!(got, want);
    };

    // Departments without tickets are reported, with their names and zeros.
    let view = desk.view().await;
    expect(
        &view,
        &[
            (Some(d1), Some("Billing"), counts(0, 0, 0, 0)),
            (Some(d2), Some("Support"), counts(0, 0, 0, 0)),
            (Some(d3), Some("Sales"), counts(0, 0, 0, 0)),
        ],
    );

    desk.at(1, vec![created(t1, Some(d1))]).await;
    desk.at(1, vec![created(t2, Some(d1))]).await;
    desk.at(1, vec![created(t3, Some(d2))]).await;
    desk.at(1, vec![created(t4, None)]).await;
    desk.at(1, vec![created(t5, None)]).await;
    let view = desk.view().await;
    expect(
        &view,
        &[
            (None, None, counts(2, 0, 0, 0)),
            (Some(d1), Some("Billing"), counts(2, 0, 0, 0)),
            (Some(d2), Some("Support"), counts(1, 0, 0, 0)),
            (Some(d3), Some("Sales"), counts(0, 0, 0, 0)),
        ],
    );

    desk.at(2, vec![answered(t1, a1)]).await;
    let view = desk.view().await;
    assert_eq!(counts_of(&view, Some(d1)), counts(1, 1, 0, 0));
    desk.at(3, vec![replied(t1)]).await;
    let view = desk.view().await;
    assert_eq!(counts_of(&view, Some(d1)), counts(1, 0, 1, 0));
    desk.at(4, vec![answered(t3, a1)]).await;
    desk.at(5, vec![resolved(t3)]).await;
    let view = desk.view().await;
    assert_eq!(counts_of(&view, Some(d2)), counts(0, 0, 0, 1));

    // Transfers move a ticket's count, in its status, between departments.
    desk.at(6, vec![transferred(t2, Some(d1), d2)]).await;
    desk.at(7, vec![transferred(t4, None, d3)]).await;
    let view = desk.view().await;
    expect(
        &view,
        &[
            (None, None, counts(1, 0, 0, 0)),
            (Some(d1), Some("Billing"), counts(0, 0, 1, 0)),
            (Some(d2), Some("Support"), counts(1, 0, 0, 1)),
            (Some(d3), Some("Sales"), counts(1, 0, 0, 0)),
        ],
    );
    // A resolved ticket moves as resolved.
    desk.at(8, vec![transferred(t3, Some(d2), d1)]).await;
    let view = desk.view().await;
    assert_eq!(counts_of(&view, Some(d1)), counts(0, 0, 1, 1));
    assert_eq!(counts_of(&view, Some(d2)), counts(1, 0, 0, 0));

    // Deleted tickets leave the counts, whatever their status was.
    desk.at(9, vec![deleted(t5)]).await;
    desk.at(9, vec![deleted(t1)]).await;
    desk.at(9, vec![deleted(t3)]).await;
    let view = desk.view().await;
    expect(
        &view,
        &[
            (None, None, counts(0, 0, 0, 0)),
            (Some(d1), Some("Billing"), counts(0, 0, 0, 0)),
            (Some(d2), Some("Support"), counts(1, 0, 0, 0)),
            (Some(d3), Some("Sales"), counts(1, 0, 0, 0)),
        ],
    );
    // Nor does a transfer of a deleted ticket bring it back anywhere.
    desk.at(10, vec![transferred(t1, Some(d1), d2)]).await;
    let view = desk.view().await;
    assert_eq!(counts_of(&view, Some(d2)), counts(1, 0, 0, 0));

    // A rename is reported under the department's id.
    desk.at(11, vec![department_renamed(d2, "Customer Support")])
        .await;
    desk.at(12, vec![answered(t2, a1)]).await;
    desk.at(13, vec![resolved(t4)]).await;
    let view = desk.view().await;
    expect(
        &view,
        &[
            (None, None, counts(0, 0, 0, 0)),
            (Some(d1), Some("Billing"), counts(0, 0, 0, 0)),
            (Some(d2), Some("Customer Support"), counts(0, 1, 0, 0)),
            (Some(d3), Some("Sales"), counts(0, 0, 0, 1)),
        ],
    );
}

// ------------------------------------------------------------------------------- visibility

#[tokio::test]
async fn visibility_follows_departments_memberships_and_assignments() {
    let mut desk = Desk::new();
    let (d1, d2) = (dept(1), dept(2));
    let (a1, a2, a3) = (agent(1), agent(2), agent(3));
    let [t1, t2, t3, t4, t5] = [1, 2, 3, 4, 5].map(ticket);
    let none: Vec<Uuid> = vec![];

    // No departments: everyone sees everything.
    desk.at(1, vec![created(t1, None)]).await;
    desk.at(1, vec![created(t2, None), assigned(t2, a2)]).await;
    let view = desk.view().await;
    for viewer in [Viewer::All, Viewer::Agent(a1.uuid()), Viewer::Nobody] {
        assert_eq!(
            list(&view, &everything(), viewer),
            ids(&[t2, t1]),
            "{viewer:?}"
        );
        assert!(sees(&view, t1, viewer), "{viewer:?}");
        assert_eq!(
            counts_by_department(&view, viewer),
            BTreeMap::from([(Uuid::nil(), (None, counts(2, 0, 0, 0)))]),
            "{viewer:?}"
        );
    }

    // The first department: from now on agents see their departments and their tickets.
    desk.at(2, vec![department_created(d1, "Billing")]).await;
    desk.at(2, vec![department_created(d2, "Support")]).await;
    let view = desk.view().await;
    assert_eq!(list(&view, &everything(), Viewer::All), ids(&[t2, t1]));
    assert_eq!(list(&view, &everything(), Viewer::Agent(a1.uuid())), none);
    assert_eq!(
        list(&view, &everything(), Viewer::Agent(a2.uuid())),
        ids(&[t2])
    );
    assert_eq!(list(&view, &everything(), Viewer::Nobody), none);
    assert!(!sees(&view, t1, Viewer::Agent(a1.uuid())));
    assert!(!sees(&view, t1, Viewer::Nobody));
    assert!(sees(&view, t1, Viewer::All));
    assert!(sees(&view, t2, Viewer::Agent(a2.uuid())));
    assert_eq!(counts_by_department(&view, Viewer::Nobody), BTreeMap::new());
    assert_eq!(
        counts_by_department(&view, Viewer::Agent(a1.uuid())),
        BTreeMap::new()
    );
    assert_eq!(
        counts_by_department(&view, Viewer::All),
        BTreeMap::from([
            (Uuid::nil(), (None, counts(2, 0, 0, 0))),
            (d1.uuid(), (Some("Billing".into()), counts(0, 0, 0, 0))),
            (d2.uuid(), (Some("Support".into()), counts(0, 0, 0, 0))),
        ])
    );

    desk.at(3, vec![created(t3, Some(d1))]).await;
    desk.at(3, vec![created(t4, Some(d2))]).await;
    desk.at(3, vec![created(t5, Some(d2)), assigned(t5, a1)])
        .await;
    // Assigned, though not a member.
    let view = desk.view().await;
    assert_eq!(
        list(&view, &everything(), Viewer::Agent(a1.uuid())),
        ids(&[t5])
    );

    desk.at(4, vec![joined(a1, d1)]).await;
    let view = desk.view().await;
    let a1_sees = |view: &TicketsView| list(view, &everything(), Viewer::Agent(a1.uuid()));
    let a2_sees = |view: &TicketsView| list(view, &everything(), Viewer::Agent(a2.uuid()));
    assert_eq!(a1_sees(&view), ids(&[t5, t3]));
    assert!(sees(&view, t3, Viewer::Agent(a1.uuid())));
    assert!(!sees(&view, t4, Viewer::Agent(a1.uuid())));
    assert_eq!(
        counts_by_department(&view, Viewer::Agent(a1.uuid())),
        BTreeMap::from([(d1.uuid(), (Some("Billing".into()), counts(1, 0, 0, 0)))])
    );
    assert_eq!(list(&view, &everything(), Viewer::Nobody), none);
    assert_eq!(
        list(&view, &everything(), Viewer::All),
        ids(&[t5, t4, t3, t2, t1])
    );

    desk.at(5, vec![joined(a2, d2)]).await;
    let view = desk.view().await;
    assert_eq!(a2_sees(&view), ids(&[t5, t4, t2]));
    assert_eq!(
        counts_by_department(&view, Viewer::Agent(a2.uuid())),
        BTreeMap::from([(d2.uuid(), (Some("Support".into()), counts(2, 0, 0, 0)))])
    );

    // Membership added and removed over time.
    desk.at(6, vec![joined(a1, d2)]).await;
    let view = desk.view().await;
    assert_eq!(a1_sees(&view), ids(&[t5, t4, t3]));
    assert_eq!(
        counts_by_department(&view, Viewer::Agent(a1.uuid()))
            .into_keys()
            .collect::<Vec<_>>(),
        vec![d1.uuid(), d2.uuid()]
    );
    desk.at(7, vec![left(a1, d2)]).await;
    let view = desk.view().await;
    assert_eq!(a1_sees(&view), ids(&[t5, t3]));
    assert!(!sees(&view, t4, Viewer::Agent(a1.uuid())));

    // A ticket without a department is seen by its assignee.
    desk.at(8, vec![assigned(t1, a1)]).await;
    let view = desk.view().await;
    assert_eq!(a1_sees(&view), ids(&[t5, t3, t1]));
    assert!(sees(&view, t1, Viewer::Agent(a1.uuid())));
    assert!(!sees(&view, t1, Viewer::Agent(a2.uuid())));

    // A transfer moves the ticket out of one team's sight and into another's.
    desk.at(9, vec![transferred(t4, Some(d2), d1)]).await;
    let view = desk.view().await;
    assert_eq!(a1_sees(&view), ids(&[t5, t4, t3, t1]));
    assert_eq!(a2_sees(&view), ids(&[t5, t2]));

    // Unassigned: only the department's members still see it.
    desk.at(10, vec![unassigned(t5, a1)]).await;
    let view = desk.view().await;
    assert_eq!(a1_sees(&view), ids(&[t4, t3, t1]));
    assert_eq!(a2_sees(&view), ids(&[t5, t2]));
    assert!(!sees(&view, t5, Viewer::Agent(a1.uuid())));

    // Filters and pages within what one sees.
    assert_eq!(
        list(&view, &in_department(Some(d1)), Viewer::Agent(a2.uuid())),
        none
    );
    assert_eq!(
        list(&view, &in_department(Some(d1)), Viewer::Agent(a1.uuid())),
        ids(&[t4, t3])
    );
    assert_eq!(
        list(&view, &in_department(None), Viewer::Agent(a1.uuid())),
        ids(&[t1])
    );
    assert_eq!(
        list(&view, &in_department(None), Viewer::Agent(a2.uuid())),
        ids(&[t2])
    );
    assert_eq!(
        list(&view, &with_status(Status::New), Viewer::Agent(a2.uuid())),
        ids(&[t5, t2])
    );
    let a2_pages = page_ids(&pages(&view, &everything(), Viewer::Agent(a2.uuid()), 1));
    assert_eq!(a2_pages, vec![ids(&[t5]), ids(&[t2])]);
    let a1_pages = page_ids(&pages(&view, &everything(), Viewer::Agent(a1.uuid()), 2));
    assert_eq!(a1_pages, vec![ids(&[t4, t3]), ids(&[t1])]);

    // A deleted ticket stays readable by id for those who may see it.
    desk.at(11, vec![joined(a3, d1)]).await;
    desk.at(12, vec![deleted(t3)]).await;
    let view = desk.view().await;
    assert_eq!(
        view.get(t3.uuid(), Viewer::Agent(a3.uuid()))
            .unwrap()
            .map(|t| t.status),
        Some(Status::Deleted)
    );
    assert_eq!(view.get(t3.uuid(), Viewer::Agent(a2.uuid())).unwrap(), None);
    assert_eq!(view.get(t3.uuid(), Viewer::Nobody).unwrap(), None);
    assert_eq!(
        list(
            &view,
            &with_status(Status::Deleted),
            Viewer::Agent(a3.uuid())
        ),
        ids(&[t3])
    );
    assert_eq!(
        list(
            &view,
            &with_status(Status::Deleted),
            Viewer::Agent(a2.uuid())
        ),
        none
    );
    assert_eq!(
        list(&view, &with_status(Status::Deleted), Viewer::All),
        ids(&[t3])
    );

    // The last membership gone: only what is assigned.
    desk.at(13, vec![left(a1, d1)]).await;
    let view = desk.view().await;
    assert_eq!(a1_sees(&view), ids(&[t1]));
    assert_eq!(
        counts_by_department(&view, Viewer::Agent(a1.uuid())),
        BTreeMap::new()
    );
    // An unknown id is no ticket, for anyone.
    assert_eq!(view.get(ticket(77).uuid(), Viewer::All).unwrap(), None);
    assert_eq!(
        counts_by_department(&view, Viewer::All),
        BTreeMap::from([
            (Uuid::nil(), (None, counts(2, 0, 0, 0))),
            (d1.uuid(), (Some("Billing".into()), counts(1, 0, 0, 0))),
            (d2.uuid(), (Some("Support".into()), counts(1, 0, 0, 0))),
        ])
    );
}

// -------------------------------------------------------------------------------- time

#[tokio::test]
async fn model_time_is_the_envelopes_and_never_runs_backwards() {
    let mut desk = Desk::new();
    let (ta, tb, tc) = (ticket(1), ticket(2), ticket(3));
    desk.at(10, vec![ClockTicked {}.into()]).await;
    desk.view().await;
    // The time of the last message survives a restart.
    desk.restart();

    // Stamped before the tick: takes the tick's time.
    desk.at(5, vec![created(ta, None)]).await;
    let view = desk.view().await;
    let a = get(&view, ta);
    assert_eq!((a.created_at, a.updated_at), (at(10), at(10)));
    desk.at(3, vec![answered(ta, agent(1))]).await;
    let view = desk.view().await;
    let a = get(&view, ta);
    assert_eq!((a.first_answer_at, a.updated_at), (Some(at(10)), at(10)));

    // A later envelope: its own time, to the millisecond.
    let exact = at(12).plus_millis(345);
    desk.at_time(exact, vec![created(tb, None)]).await;
    // Then one stamped earlier: the time of the message before it (tb's).
    desk.at(11, vec![created(tc, None)]).await;
    desk.at_time(exact.plus_millis(1), vec![resolved(ta)]).await;
    let view = desk.view().await;
    assert_eq!(get(&view, tb).created_at, exact);
    assert_eq!(get(&view, tc).created_at, exact);
    let a = get(&view, ta);
    assert_eq!(
        (a.resolved_at, a.updated_at),
        (Some(exact.plus_millis(1)), exact.plus_millis(1))
    );
    // Equal creation times list by id, newest (largest) first.
    assert_eq!(list(&view, &everything(), Viewer::All), ids(&[tc, tb, ta]));
}

// ---------------------------------------------------------------------- generated history

/// A help desk's traffic drawn from a seeded generator. It keeps what the command side
/// keeps, so every envelope is one the command side could have appended, and what the rules of
/// docs/TICKETS.md say each ticket is now.
struct Sim {
    rng: u64,
    minute: i64,
    /// The model time of the last message (docs/STATISTICS.md, Time).
    last_time: Timestamp,
    tickets: Vec<SimTicket>,
    names: BTreeMap<Uuid, String>,
}

#[derive(Debug, Clone)]
struct SimTicket {
    id: TicketId,
    status: Status,
    department: Option<DepartmentId>,
    assignee: Option<AgentId>,
    tags: Vec<String>,
    created_at: Timestamp,
    answers: u32,
}

const DEPARTMENTS: u128 = 3;
const AGENTS: u128 = 4;
const TAGS: [&str; 4] = ["billing", "vip", "bug", "refund"];

impl Sim {
    fn new(seed: u64) -> Self {
        Sim {
            rng: seed,
            minute: 0,
            last_time: Timestamp::EPOCH,
            tickets: Vec::new(),
            names: BTreeMap::new(),
        }
    }

    fn next(&mut self) -> u64 {
        // xorshift64*
        self.rng ^= self.rng >> 12;
        self.rng ^= self.rng << 25;
        self.rng ^= self.rng >> 27;
        self.rng.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn pick(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn department(&mut self) -> Option<DepartmentId> {
        match self.pick(DEPARTMENTS as usize + 1) {
            0 => None,
            n => Some(dept(n as u128)),
        }
    }

    fn agent(&mut self) -> AgentId {
        agent(self.pick(AGENTS as usize) as u128 + 1)
    }

    async fn append(&mut self, log: &mut TestLog, events: Vec<Event>) {
        self.minute += 1;
        // One envelope in seven is an import stamped earlier than the log's last.
        let occurred = if self.pick(7) == 0 {
            at(self.minute - 5)
        } else {
            at(self.minute)
        };
        self.last_time = self.last_time.max(occurred);
        log.append(aggregate_of(&events[0]), occurred, events).await;
    }

    /// The departments, with their members.
    async fn setup(&mut self, log: &mut TestLog) {
        for n in 1..=DEPARTMENTS {
            let name = format!("Department {n}");
            self.names.insert(dept(n).uuid(), name.clone());
            self.append(log, vec![department_created(dept(n), &name)])
                .await;
        }
        for a in 1..=AGENTS {
            self.append(log, vec![joined(agent(a), dept(1 + a % DEPARTMENTS))])
                .await;
        }
    }

    /// `n` envelopes of traffic.
    async fn traffic(&mut self, log: &mut TestLog, n: usize) {
        for _ in 0..n {
            let events = self.step();
            self.append(log, events).await;
            let time = self.last_time;
            // A ticket created by this envelope takes its model time.
            for t in &mut self.tickets {
                if t.created_at == Timestamp::EPOCH {
                    t.created_at = time;
                }
            }
        }
    }

    /// The next envelope's events, applied to the simulated state.
    fn step(&mut self) -> Vec<Event> {
        let live: Vec<usize> = (0..self.tickets.len())
            .filter(|i| self.tickets[*i].status != Status::Deleted)
            .collect();
        if self.pick(25) == 0 {
            // Department housekeeping.
            let d = dept(self.pick(DEPARTMENTS as usize) as u128 + 1);
            return match self.pick(3) {
                0 => {
                    let name = format!("Department {} v{}", d, self.minute);
                    self.names.insert(d.uuid(), name.clone());
                    vec![department_renamed(d, &name)]
                }
                1 => vec![joined(self.agent(), d)],
                _ => vec![left(self.agent(), d)],
            };
        }
        if live.is_empty() || self.pick(4) == 0 {
            return self.create();
        }
        let i = live[self.pick(live.len())];
        let id = self.tickets[i].id;
        let action = self.pick(12);
        let t = self.tickets[i].clone();
        let events = match action {
            0 | 1 if t.status != Status::Resolved => {
                let a = self.agent();
                self.tickets[i].answers += 1;
                self.tickets[i].status = Status::Answered;
                vec![answered(id, a)]
            }
            2 if t.status != Status::Resolved => {
                self.tickets[i].status = Status::Resolved;
                vec![resolved(id)]
            }
            3 if t.status == Status::Resolved => {
                self.tickets[i].status = Status::Open;
                vec![reopened(id)]
            }
            4 if self.pick(3) == 0 => {
                self.tickets[i].status = Status::Deleted;
                vec![deleted(id)]
            }
            5 => {
                let tag = TAGS[self.pick(TAGS.len())];
                if t.tags.iter().any(|x| x == tag) {
                    self.tickets[i].tags.retain(|x| x != tag);
                    vec![untagged(id, tag)]
                } else {
                    self.tickets[i].tags.push(tag.into());
                    vec![tagged(id, tag)]
                }
            }
            6 => {
                let a = self.agent();
                if t.assignee == Some(a) {
                    self.tickets[i].assignee = None;
                    vec![unassigned(id, a)]
                } else {
                    self.tickets[i].assignee = Some(a);
                    vec![assigned(id, a)]
                }
            }
            7 => {
                let to = dept(self.pick(DEPARTMENTS as usize) as u128 + 1);
                if t.department == Some(to) {
                    vec![priority_changed(id, Priority::High)]
                } else {
                    self.tickets[i].department = Some(to);
                    let mut events = vec![transferred(id, t.department, to)];
                    if let Some(a) = t.assignee.filter(|_| self.pick(2) == 0) {
                        self.tickets[i].assignee = None;
                        events.push(unassigned(id, a));
                    }
                    events
                }
            }
            8 => {
                let p = [
                    Priority::Low,
                    Priority::Normal,
                    Priority::High,
                    Priority::Urgent,
                ][self.pick(4)];
                vec![priority_changed(id, p)]
            }
            _ => {
                // The customer writes.
                match t.status {
                    Status::Resolved => {
                        self.tickets[i].status = Status::Open;
                        vec![reopened(id), replied(id)]
                    }
                    Status::Answered => {
                        self.tickets[i].status = Status::Open;
                        vec![replied(id)]
                    }
                    _ => vec![replied(id)],
                }
            }
        };
        events
    }

    fn create(&mut self) -> Vec<Event> {
        let id = ticket(self.tickets.len() as u128 + 1);
        let mut t = SimTicket {
            id,
            status: Status::New,
            department: self.department(),
            assignee: None,
            tags: vec![],
            created_at: Timestamp::EPOCH,
            answers: 0,
        };
        let mut events = vec![created(id, t.department)];
        // Routing results, now and then.
        if self.pick(3) == 0 {
            let to = dept(self.pick(DEPARTMENTS as usize) as u128 + 1);
            if t.department != Some(to) {
                events.push(transferred(id, t.department, to));
                t.department = Some(to);
            }
            let a = self.agent();
            events.push(assigned(id, a));
            t.assignee = Some(a);
            events.push(tagged(id, "routed"));
            t.tags.push("routed".into());
        }
        self.tickets.push(t);
        events
    }

    /// The counts CountTickets gives (docs/TICKETS.md, Statuses), by department: live
    /// tickets by status.
    fn counts(&self) -> BTreeMap<Uuid, Counts> {
        let mut out: BTreeMap<Uuid, Counts> = BTreeMap::new();
        for t in &self.tickets {
            let c = out
                .entry(t.department.map_or(Uuid::nil(), |d| d.uuid()))
                .or_default();
            match t.status {
                Status::New => c.new += 1,
                Status::Answered => c.answered += 1,
                Status::Open => c.open += 1,
                Status::Resolved => c.resolved += 1,
                Status::Deleted => {}
            }
        }
        out
    }

    /// Checks a view holding the whole history against the simulated state.
    fn check(&self, view: &TicketsView) {
        for t in &self.tickets {
            let got = get(view, t.id);
            assert_eq!(
                (
                    got.status,
                    got.department,
                    got.assignee,
                    &got.tags,
                    got.created_at,
                    got.answers
                ),
                (
                    t.status,
                    t.department.map(|d| d.uuid()),
                    t.assignee.map(|a| a.uuid()),
                    &t.tags,
                    t.created_at,
                    t.answers
                ),
                "ticket {}",
                t.id
            );
        }
        let live: BTreeSet<Uuid> = self
            .tickets
            .iter()
            .filter(|t| t.status != Status::Deleted)
            .map(|t| t.id.uuid())
            .collect();
        let listed: Vec<Uuid> = list(view, &everything(), Viewer::All);
        assert_eq!(listed.iter().copied().collect::<BTreeSet<_>>(), live);
        assert_eq!(listed.len(), live.len());
        let want = self.counts();
        let got = counts_by_department(view, Viewer::All);
        let keys: BTreeSet<Uuid> = want.keys().chain(got.keys()).copied().collect();
        for d in keys {
            assert_eq!(
                got.get(&d).map(|(_, c)| *c).unwrap_or_default(),
                want.get(&d).copied().unwrap_or_default(),
                "counts of department {d}"
            );
        }
        for (d, name) in &self.names {
            assert_eq!(got.get(d).and_then(|(n, _)| n.as_ref()), Some(name));
        }
        if let Some((name, _)) = got.get(&Uuid::nil()) {
            assert_eq!(*name, None, "no department has no name");
        }
    }
}

#[tokio::test]
async fn a_rebuild_and_a_clean_build_equal_the_incremental_build() {
    let mut log = TestLog::new();
    let data = tempfile::tempdir().unwrap();
    let mut sim = Sim::new(0x5eed_0001);
    sim.setup(&mut log).await;
    // Built in batches of 3, with a restart after every round.
    for _ in 0..6 {
        sim.traffic(&mut log, 40).await;
        let mut p = projector(Tickets, &log, data.path(), 3);
        caught_up(&mut p).await;
    }
    let last = log.dyn_log().last_position().await.unwrap();
    let mut incremental = projector(Tickets, &log, data.path(), 3);
    let records = caught_up(&mut incremental).await;
    assert_eq!(incremental.checkpoint().position, last);
    sim.check(&TicketsView::new(incremental.handle()));
    assert!(sim.tickets.iter().any(|t| t.status == Status::Deleted));
    assert!(sim.tickets.len() > 40, "{} tickets", sim.tickets.len());

    // A clean build in another data directory, in one go.
    let other = tempfile::tempdir().unwrap();
    let mut clean = projector(Tickets, &log, other.path(), 1_000);
    assert!(
        caught_up(&mut clean).await == records,
        "the clean build differs"
    );

    // A rebuild of the incremental store.
    incremental.rebuild().unwrap();
    assert_eq!(incremental.checkpoint().position, 0);
    assert!(dump(&incremental.handle().tree()).unwrap().is_empty());
    assert!(
        caught_up(&mut incremental).await == records,
        "the rebuild differs"
    );
    sim.check(&TicketsView::new(incremental.handle()));
}

// ------------------------------------------------------------------------------- partitions

#[tokio::test]
async fn two_partitions_split_the_tickets_and_add_up_to_one_replica() {
    let mut log = TestLog::new();
    let data = tempfile::tempdir().unwrap();
    let mut sim = Sim::new(0x5eed_0002);
    sim.setup(&mut log).await;
    sim.traffic(&mut log, 200).await;

    let mut whole = projector(Tickets, &log, data.path(), 50);
    caught_up(&mut whole).await;
    let whole = TicketsView::new(whole.handle());
    sim.check(&whole);

    let mut parts = Vec::new();
    let mut projectors = Vec::new();
    for index in 0..2 {
        let mut config = ProjectorConfig::new(data.path());
        config.partition = Partition { index, count: 2 };
        config.batch = 7;
        let mut p = Projector::open(Tickets, log.dyn_log(), config).unwrap();
        caught_up(&mut p).await;
        assert!(p.path().ends_with(format!("tickets-{index}of2")));
        parts.push(TicketsView::new(p.handle()));
        projectors.push(p);
    }

    // Each ticket lives in exactly one partition, as it is in the single replica.
    let mut held = [0usize; 2];
    for t in &sim.tickets {
        let expected = get(&whole, t.id);
        let owners: Vec<usize> = (0..2)
            .filter(|i| parts[*i].get(t.id.uuid(), Viewer::All).unwrap().is_some())
            .collect();
        assert_eq!(owners.len(), 1, "ticket {} is in one partition", t.id);
        held[owners[0]] += 1;
        assert_eq!(get(&parts[owners[0]], t.id), expected);
    }
    assert!(
        held.iter().all(|n| *n > 0),
        "both partitions hold tickets: {held:?}"
    );
    assert_eq!(held[0] + held[1], sim.tickets.len());

    // The lists: disjoint, together the single replica's.
    let mut filters = vec![everything(), in_department(None), assigned_to(agent(1))];
    filters.extend(Status::ALL.map(with_status));
    filters.extend((1..=DEPARTMENTS).map(|d| in_department(Some(dept(d)))));
    filters.extend(TAGS.iter().map(|t| with_tag(t)));
    let viewers = [
        Viewer::All,
        Viewer::Nobody,
        Viewer::Agent(agent(1).uuid()),
        Viewer::Agent(agent(2).uuid()),
    ];
    for filter in &filters {
        for viewer in viewers {
            let a: BTreeSet<Uuid> = list(&parts[0], filter, viewer).into_iter().collect();
            let b: BTreeSet<Uuid> = list(&parts[1], filter, viewer).into_iter().collect();
            assert!(a.is_disjoint(&b), "{filter:?} {viewer:?}");
            let both: BTreeSet<Uuid> = a.union(&b).copied().collect();
            let one: BTreeSet<Uuid> = list(&whole, filter, viewer).into_iter().collect();
            assert_eq!(both, one, "{filter:?} {viewer:?}");
        }
    }

    // Counts: the partitions' added up are the single replica's; names everywhere.
    for viewer in viewers {
        let mut sum: BTreeMap<Uuid, (Option<String>, Counts)> = BTreeMap::new();
        for part in &parts {
            for (d, (name, c)) in counts_by_department(part, viewer) {
                let entry = sum.entry(d).or_insert((name.clone(), Counts::default()));
                if name.is_some() {
                    assert_eq!(entry.0, name, "both partitions know department {d}'s name");
                }
                entry.1.add(&c);
            }
        }
        let one = counts_by_department(&whole, viewer);
        let keys: BTreeSet<Uuid> = sum.keys().chain(one.keys()).copied().collect();
        for d in keys {
            assert_eq!(
                sum.get(&d).map(|(_, c)| *c).unwrap_or_default(),
                one.get(&d).map(|(_, c)| *c).unwrap_or_default(),
                "department {d}, {viewer:?}"
            );
            if let Some((name, _)) = one.get(&d) {
                assert_eq!(sum.get(&d).map(|(n, _)| n.clone()), Some(name.clone()));
            }
        }
    }
}

/// An agent who sees some tickets gets their departments' and their own, walked together:
/// newest first, each once (a ticket of their department assigned to them is in both
/// lists), in pages that neither overlap nor skip, and never another department's.
#[tokio::test]
async fn a_restricted_agents_list_walks_only_what_they_see() {
    let mut desk = Desk::new();
    let (d1, d2, d3) = (dept(1), dept(2), dept(3));
    let a1 = agent(1);
    desk.at(0, vec![department_created(d1, "Billing")]).await;
    desk.at(0, vec![department_created(d2, "Support")]).await;
    desk.at(0, vec![department_created(d3, "Sales")]).await;
    desk.at(0, vec![joined(a1, d1)]).await;
    desk.at(0, vec![joined(a1, d2)]).await;
    let mut visible = Vec::new();
    for n in 1..=30u128 {
        let t = ticket(n);
        let department = [d1, d2, d3][n as usize % 3];
        let mut events = vec![created(t, Some(department))];
        // Every fourth is a1's: in Sales they see it only as theirs.
        if n % 4 == 0 {
            events.push(assigned(t, a1));
        }
        if department != d3 || n % 4 == 0 {
            visible.push(t);
        }
        desk.at(n as i64, events).await;
    }
    desk.at(40, vec![resolved(ticket(4))]).await;
    let view = desk.view().await;
    visible.reverse();
    let viewer = Viewer::Agent(a1.uuid());
    assert_eq!(list(&view, &everything(), viewer), ids(&visible));
    let paged = page_ids(&pages(&view, &everything(), viewer, 4)).concat();
    assert_eq!(paged, ids(&visible));
    // With a status, the same tickets of that status only.
    let resolved_only = list(&view, &with_status(Status::Resolved), viewer);
    assert_eq!(resolved_only, ids(&[ticket(4)]));
}
