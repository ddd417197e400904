//! Roles and permissions (docs/SECURITY.md, Roles and permissions).
//!
//! A permission lets a principal do something beyond working on conversations as
//! themself. Roles are sets of permissions: three built in, plus custom roles defined in the
//! configuration. The domain checks permissions inside `decide`, next to the state they are
//! about, because several rules need both (an Administrator cannot change an Owner; an agent
//! may self-assign but needs `tickets.assign` for someone else).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::actor::Actor;
use crate::ids::{AgentId, RoleId};
use crate::state::ConfigState;

/// One permission. The discriminant is the bit in [`Permissions`], which is stored in the
/// log (RoleDefined): never renumber, only add.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[repr(u8)]
pub enum Permission {
    TicketsViewAll = 0,
    TicketsAssign = 1,
    TicketsTransfer = 2,
    TicketsDelete = 3,
    AgentsManage = 4,
    AgentsPauseOthers = 5,
    DepartmentsManage = 6,
    RoutingManage = 7,
    GamificationManage = 8,
    ReportsView = 9,
    ReportsExport = 10,
    RolesManage = 11,
    SystemImport = 12,
    SystemReplay = 13,
}

impl Permission {
    pub const ALL: [Permission; 14] = [
        Permission::TicketsViewAll,
        Permission::TicketsAssign,
        Permission::TicketsTransfer,
        Permission::TicketsDelete,
        Permission::AgentsManage,
        Permission::AgentsPauseOthers,
        Permission::DepartmentsManage,
        Permission::RoutingManage,
        Permission::GamificationManage,
        Permission::ReportsView,
        Permission::ReportsExport,
        Permission::RolesManage,
        Permission::SystemImport,
        Permission::SystemReplay,
    ];

    pub const fn as_str(self) -> &'static str {
        match self {
            Permission::TicketsViewAll => "tickets.view_all",
            Permission::TicketsAssign => "tickets.assign",
            Permission::TicketsTransfer => "tickets.transfer",
            Permission::TicketsDelete => "tickets.delete",
            Permission::AgentsManage => "agents.manage",
            Permission::AgentsPauseOthers => "agents.pause_others",
            Permission::DepartmentsManage => "departments.manage",
            Permission::RoutingManage => "routing.manage",
            Permission::GamificationManage => "gamification.manage",
            Permission::ReportsView => "reports.view",
            Permission::ReportsExport => "reports.export",
            Permission::RolesManage => "roles.manage",
            Permission::SystemImport => "system.import",
            Permission::SystemReplay => "system.replay",
        }
    }

    const fn bit(self) -> u32 {
        1 << (self as u8)
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Permission {
    type Err = UnknownPermission;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Permission::ALL
            .into_iter()
            .find(|p| p.as_str() == s)
            .ok_or_else(|| UnknownPermission(s.to_owned()))
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown permission {0:?}")]
pub struct UnknownPermission(pub String);

/// A set of permissions (a bitset; stored as a `u32`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Permissions(u32);

impl Permissions {
    pub const fn empty() -> Self {
        Permissions(0)
    }

    pub const fn all() -> Self {
        let mut bits = 0;
        let mut i = 0;
        while i < Permission::ALL.len() {
            bits |= Permission::ALL[i].bit();
            i += 1;
        }
        Permissions(bits)
    }

    pub const fn contains(self, p: Permission) -> bool {
        self.0 & p.bit() != 0
    }

    pub const fn with(self, p: Permission) -> Self {
        Permissions(self.0 | p.bit())
    }

    pub const fn without(self, p: Permission) -> Self {
        Permissions(self.0 & !p.bit())
    }

    pub fn insert(&mut self, p: Permission) {
        self.0 |= p.bit();
    }

    pub fn remove(&mut self, p: Permission) {
        self.0 &= !p.bit();
    }

    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }

    /// The raw bits (unknown bits, from a newer writer, are kept but never granted by
    /// [`Permissions::contains`] of a permission this build does not know).
    pub const fn bits(self) -> u32 {
        self.0
    }

    pub const fn from_bits(bits: u32) -> Self {
        Permissions(bits)
    }

    pub fn iter(self) -> impl Iterator<Item = Permission> {
        Permission::ALL
            .into_iter()
            .filter(move |p| self.contains(*p))
    }
}

impl FromIterator<Permission> for Permissions {
    fn from_iter<I: IntoIterator<Item = Permission>>(iter: I) -> Self {
        let mut set = Permissions::empty();
        for p in iter {
            set.insert(p);
        }
        set
    }
}

impl fmt::Display for Permissions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.iter().map(Permission::as_str).collect();
        f.write_str(&names.join(","))
    }
}

/// An agent's (or integration's) role. Stored in events: variants are append-only.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Role {
    /// Every permission.
    Owner,
    /// Every permission but `roles.manage`; cannot change an Owner.
    Administrator,
    /// No permission: works on conversations as themself.
    Agent,
    /// A role defined in the configuration.
    Custom(RoleId),
}

impl Role {
    /// Owner or Administrator: the roles only an Owner hands out.
    pub fn is_privileged(&self) -> bool {
        matches!(self, Role::Owner | Role::Administrator)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Role::Owner => f.write_str("Owner"),
            Role::Administrator => f.write_str("Administrator"),
            Role::Agent => f.write_str("Agent"),
            Role::Custom(id) => write!(f, "custom role {id}"),
        }
    }
}

/// The permissions a role grants now. A custom role that no longer exists grants what
/// the Agent role grants (nothing): removing a role in use is allowed, see `RemoveRole`.
pub fn permissions_for(role: &Role, config: &ConfigState) -> Permissions {
    match role {
        Role::Owner => Permissions::all(),
        Role::Administrator => Permissions::all().without(Permission::RolesManage),
        Role::Agent => Permissions::empty(),
        Role::Custom(id) => config.role(*id).map(|r| r.permissions).unwrap_or_default(),
    }
}

/// Who is asking, as authentication established it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// Recorded as the envelope's actor.
    pub actor: Actor,
    /// The agent behind the request, for an agent's token (integrations have none).
    pub agent: Option<AgentId>,
    pub role: Role,
    pub permissions: Permissions,
}

impl Principal {
    /// The system itself: every permission, and the Owner's standing.
    pub fn system() -> Self {
        Principal {
            actor: Actor::System,
            agent: None,
            role: Role::Owner,
            permissions: Permissions::all(),
        }
    }

    /// An agent with their role's permissions.
    pub fn agent(agent: AgentId, role: Role, config: &ConfigState) -> Self {
        Principal {
            actor: Actor::Agent(agent),
            agent: Some(agent),
            permissions: permissions_for(&role, config),
            role,
        }
    }

    pub fn has(&self, p: Permission) -> bool {
        self.permissions.contains(p)
    }

    pub fn is_system(&self) -> bool {
        self.actor == Actor::System
    }

    /// `PermissionDenied` naming `p` unless the principal has it.
    pub fn require(&self, p: Permission) -> Result<(), crate::DomainError> {
        if self.has(p) {
            Ok(())
        } else {
            Err(crate::DomainError::denied(format!(
                "this needs the permission {}",
                p.as_str()
            )))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permission_names_round_trip_and_bits_are_distinct() {
        let all = Permissions::all();
        assert_eq!(all.iter().count(), 14);
        for p in Permission::ALL {
            assert_eq!(p.as_str().parse::<Permission>().unwrap(), p);
            assert!(all.contains(p));
            assert!(!Permissions::empty().contains(p));
        }
        assert!("tickets.nope".parse::<Permission>().is_err());
    }

    #[test]
    fn builtin_roles() {
        let config = ConfigState::default();
        assert_eq!(permissions_for(&Role::Owner, &config), Permissions::all());
        let admin = permissions_for(&Role::Administrator, &config);
        assert!(!admin.contains(Permission::RolesManage));
        assert!(admin.contains(Permission::SystemImport));
        assert!(permissions_for(&Role::Agent, &config).is_empty());
        assert!(permissions_for(&Role::Custom(RoleId::new_v7()), &config).is_empty());
    }
}
