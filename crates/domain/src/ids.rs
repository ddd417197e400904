//! Typed ids.
//!
//! Every id is a UUID, but an agent id is not a ticket id: one newtype per kind lets the
//! compiler catch a swapped argument. They serialize as the bare UUID (`transparent`), so
//! the newtypes cost nothing in the log and can be introduced or renamed without touching
//! stored bytes.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};
use uuid::Uuid;

macro_rules! ids {
    ($($(#[$doc:meta])* $name:ident;)*) => {$(
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Uuid);

        impl $name {
            /// A new time-ordered (v7) id.
            pub fn new_v7() -> Self {
                $name(Uuid::now_v7())
            }

            pub const fn from_uuid(uuid: Uuid) -> Self {
                $name(uuid)
            }

            pub const fn uuid(&self) -> Uuid {
                self.0
            }
        }

        impl From<Uuid> for $name {
            fn from(uuid: Uuid) -> Self {
                $name(uuid)
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&self.0.hyphenated(), f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;

            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(s).map($name)
            }
        }
    )*};
}

ids! {
    /// An agent (a person who works conversations).
    AgentId;
    /// A department.
    DepartmentId;
    /// A ticket.
    TicketId;
    /// A chat.
    ChatId;
    /// A phone call.
    CallId;
    /// A level definition.
    LevelId;
    /// A routing rule.
    RuleId;
    /// A custom role.
    RoleId;
    /// An access token (its secret is never stored, only its hash).
    TokenId;
}
