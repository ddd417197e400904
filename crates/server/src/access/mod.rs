//! Who is calling: a bearer token to a principal, for commands and queries alike.

pub mod tokens;
