//! The generator's own model of the tickets, as an independent account: tests hold it
//! against what the server's read models say about the same tickets.

use helpdesk_domain::Priority;
use uuid::Uuid;

use crate::generator::Workload;
use crate::tickets::Status;

/// The generator's view of one ticket, for tests that hold it against the domain's.
#[doc(hidden)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelTicket {
    pub id: Uuid,
    pub department: Option<Uuid>,
    pub assignee: Option<Uuid>,
    pub priority: Priority,
    /// `new`, `answered`, `open`, `resolved` (deleted tickets leave the model).
    pub status: &'static str,
    pub tags: Vec<String>,
}

impl Workload {
    /// The tickets the generator keeps in its model (open ones and those resolved in the
    /// last days), sorted by id.
    #[doc(hidden)]
    pub fn model_tickets(&self) -> Vec<ModelTicket> {
        let parse = |s: &str| s.parse::<Uuid>().expect("generated ids are UUIDs");
        let mut tickets: Vec<ModelTicket> = self
            .tickets
            .values()
            .map(|t| ModelTicket {
                id: parse(&t.id),
                department: t.department.map(|d| self.departments[d].uuid),
                assignee: t.assignee.map(|a| parse(&self.agents[a].id)),
                priority: t.priority,
                status: match t.status {
                    Status::New => "new",
                    Status::Answered => "answered",
                    Status::Open => "open",
                    Status::Resolved => "resolved",
                    Status::Deleted => "deleted",
                },
                tags: t.tags.clone(),
            })
            .collect();
        tickets.sort_by_key(|t| t.id);
        tickets
    }
}
