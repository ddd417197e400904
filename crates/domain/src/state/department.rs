use std::collections::BTreeSet;

use crate::event::Event;
use crate::ids::AgentId;

/// A department and its members (membership lives here, not on the agent).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DepartmentState {
    exists: bool,
    pub name: String,
    pub members: BTreeSet<AgentId>,
}

impl DepartmentState {
    pub fn exists(&self) -> bool {
        self.exists
    }

    pub fn is_member(&self, agent: AgentId) -> bool {
        self.members.contains(&agent)
    }

    pub(crate) fn apply(&mut self, event: &Event) {
        match event {
            Event::DepartmentCreated(e) => {
                self.exists = true;
                self.name.clone_from(&e.name);
            }
            Event::DepartmentUpdated(e) => {
                self.name.clone_from(&e.name);
            }
            Event::AgentAddedToDepartment(e) => {
                self.members.insert(e.agent);
            }
            Event::AgentRemovedFromDepartment(e) => {
                self.members.remove(&e.agent);
            }
            _ => {}
        }
    }
}
