//! The account lifecycle as an explicit state machine:
//! `draft → in_progress → under_review → approved`, with `rejected` and `suspended` as exits.

use crate::contractor::Status;

/// Every transition the product allows; anything else is refused with a machine code.
pub const ALLOWED: &[(Status, Status)] = &[
    // The first saved step starts onboarding.
    (Status::Draft, Status::InProgress),
    // The contractor submits once every step is complete.
    (Status::InProgress, Status::UnderReview),
    // Editing a step after submitting takes the account back for another submit.
    (Status::UnderReview, Status::InProgress),
    // Verification and reviewers decide.
    (Status::UnderReview, Status::Approved),
    (Status::UnderReview, Status::Rejected),
    (Status::Draft, Status::Rejected),
    (Status::InProgress, Status::Rejected),
    // A lapse (insurance expired, license revoked) suspends; fixing it goes back to review.
    (Status::Approved, Status::Suspended),
    (Status::Suspended, Status::UnderReview),
    (Status::Suspended, Status::Approved),
    (Status::Suspended, Status::Rejected),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a contractor cannot go from {} to {}", .from.as_str(), .to.as_str())]
pub struct IllegalTransition {
    pub from: Status,
    pub to: Status,
}

pub fn check(from: Status, to: Status) -> Result<(), IllegalTransition> {
    if ALLOWED.contains(&(from, to)) {
        Ok(())
    } else {
        Err(IllegalTransition { from, to })
    }
}

/// Whether the contractor may still edit their steps in this status.
pub fn editable(status: Status) -> bool {
    matches!(
        status,
        Status::Draft | Status::InProgress | Status::UnderReview | Status::Suspended
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [Status; 6] = [
        Status::Draft,
        Status::InProgress,
        Status::UnderReview,
        Status::Approved,
        Status::Rejected,
        Status::Suspended,
    ];

    #[test]
    fn the_happy_path_is_allowed() {
        assert!(check(Status::Draft, Status::InProgress).is_ok());
        assert!(check(Status::InProgress, Status::UnderReview).is_ok());
        assert!(check(Status::UnderReview, Status::Approved).is_ok());
    }

    #[test]
    fn shortcuts_and_resurrections_are_refused() {
        assert!(check(Status::Draft, Status::Approved).is_err());
        assert!(check(Status::InProgress, Status::Approved).is_err());
        assert!(check(Status::Draft, Status::UnderReview).is_err());
        for to in ALL {
            assert!(check(Status::Rejected, to).is_err(), "rejected is final");
            assert!(check(to, to).is_err(), "no self-transition for {to:?}");
        }
    }

    #[test]
    fn only_open_accounts_are_editable() {
        assert!(editable(Status::Draft) && editable(Status::Suspended));
        assert!(!editable(Status::Approved) && !editable(Status::Rejected));
    }
}
