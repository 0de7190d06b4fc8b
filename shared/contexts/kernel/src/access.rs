//! Who is asking, as the API established it: the subject and the roles its token carries.
//! Each context decides what a viewer may do with its own records.

use crate::audit::{Actor, ActorKind};

/// Who is asking, as the API established it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Viewer {
    pub subject: String,
    /// Reviewer or admin.
    pub staff: bool,
    pub admin: bool,
    /// Holds the contractor role: may register a business.
    pub contractor: bool,
}

impl Viewer {
    /// The actor the audit trail records for this viewer.
    pub fn actor(&self) -> Actor {
        let kind = if self.admin {
            ActorKind::Admin
        } else if self.staff {
            ActorKind::Reviewer
        } else {
            ActorKind::Contractor
        };
        Actor {
            kind,
            id: self.subject.clone(),
        }
    }
}
