//! Who may do what: the four roles and the actions each allows.
//!
//! | action        | viewer | agent | leader | admin |
//! | ------------- | :----: | :---: | :----: | :---: |
//! | `Read`        |   ✓    |   ✓   |   ✓    |   ✓   |
//! | `Reports`     |   ✓    |   ✓   |   ✓    |   ✓   |
//! | `Reply`       |        |   ✓   |   ✓    |   ✓   |
//! | `Assign`      |        |   ✓   |   ✓    |   ✓   |
//! | `SetStatus`   |        |   ✓   |   ✓    |   ✓   |
//! | `Note`        |        |   ✓   |   ✓    |   ✓   |
//! | `Label`       |        |   ✓   |   ✓    |   ✓   |
//! | `OwnTokens`   |        |   ✓   |   ✓    |   ✓   |
//! | `Settings`    |        |       |   ✓    |   ✓   |
//! | `ManageUsers` |        |       |        |   ✓   |
//!
//! Each role may do everything the one before it may, and more. The server checks
//! [`allows`] on every request; nothing here does I/O.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A user's role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Everything, managing users included.
    Admin,
    /// An agent who may also read the settings.
    Leader,
    /// Works conversations: reply, assign, status, notes, labels; own API tokens.
    Agent,
    /// Reads the inbox and the reports, changes nothing.
    Viewer,
}

impl Role {
    /// Every role, most powerful first.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Leader, Role::Agent, Role::Viewer];

    /// The role's name, as stored and as typed: `admin`, `leader`, `agent`, `viewer`.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Leader => "leader",
            Role::Agent => "agent",
            Role::Viewer => "viewer",
        }
    }
}

impl FromStr for Role {
    type Err = AccessError;

    /// Parses a role name, ignoring case and surrounding spaces.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let wanted = s.trim();
        Role::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(wanted))
            .ok_or_else(|| AccessError::UnknownRole(s.to_owned()))
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Something a user may or may not do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Read the inbox, conversations, people, teams.
    Read,
    /// Reply to a conversation.
    Reply,
    /// Assign a conversation, or move it to a team.
    Assign,
    /// Change a conversation's status (resolve, reopen, pending, snooze).
    SetStatus,
    /// Write a private note.
    Note,
    /// Label a conversation.
    Label,
    /// Read the reports.
    Reports,
    /// Read the settings.
    Settings,
    /// Add users, change their roles and passwords, disable them; see every token.
    ManageUsers,
    /// Create and revoke one's own API tokens.
    OwnTokens,
    /// Merge two people into one, undo a merge, dismiss a suggested merge.
    MergePeople,
}

/// Whether `role` may do `action`.
pub fn allows(role: Role, action: Action) -> bool {
    use Action::*;
    match role {
        Role::Admin => true,
        Role::Leader => !matches!(action, ManageUsers),
        Role::Agent => !matches!(action, ManageUsers | Settings),
        Role::Viewer => matches!(action, Read | Reports),
    }
}

/// What can go wrong with roles.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AccessError {
    /// The name is no role.
    #[error("unknown role {0:?}: roles are admin, leader, agent, viewer")]
    UnknownRole(String),
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    const ACTIONS: [Action; 11] = [
        Action::Read,
        Action::Reply,
        Action::Assign,
        Action::SetStatus,
        Action::Note,
        Action::Label,
        Action::Reports,
        Action::Settings,
        Action::ManageUsers,
        Action::OwnTokens,
        Action::MergePeople,
    ];

    #[test]
    fn the_full_matrix() {
        use Action::*;
        let viewer = [Read, Reports];
        let agent = [
            Read,
            Reports,
            Reply,
            Assign,
            SetStatus,
            Note,
            Label,
            OwnTokens,
            MergePeople,
        ];
        let leader = [
            Read,
            Reports,
            Reply,
            Assign,
            SetStatus,
            Note,
            Label,
            OwnTokens,
            MergePeople,
            Settings,
        ];
        for action in ACTIONS {
            assert_eq!(
                allows(Role::Viewer, action),
                viewer.contains(&action),
                "viewer {action:?}"
            );
            assert_eq!(
                allows(Role::Agent, action),
                agent.contains(&action),
                "agent {action:?}"
            );
            assert_eq!(
                allows(Role::Leader, action),
                leader.contains(&action),
                "leader {action:?}"
            );
            assert!(allows(Role::Admin, action), "admin {action:?}");
        }
    }

    #[test]
    fn each_role_may_do_all_the_next_one_may() {
        for pair in Role::ALL.windows(2) {
            for action in ACTIONS {
                if allows(pair[1], action) {
                    assert!(allows(pair[0], action), "{} {action:?}", pair[0]);
                }
            }
        }
    }

    #[test]
    fn names_round_trip() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
            assert_eq!(role.to_string(), role.as_str());
            let json = serde_json::to_string(&role).unwrap();
            assert_eq!(json, format!("\"{}\"", role.as_str()));
            assert_eq!(serde_json::from_str::<Role>(&json).unwrap(), role);
        }
        assert_eq!(" Agent ".parse::<Role>().unwrap(), Role::Agent);
    }

    #[test]
    fn an_unknown_role_says_which_exist() {
        let err = "owner".parse::<Role>().unwrap_err();
        assert_eq!(err, AccessError::UnknownRole("owner".into()));
        assert_eq!(
            err.to_string(),
            "unknown role \"owner\": roles are admin, leader, agent, viewer"
        );
    }
}
