//! Scheduled reminders and the badge digest, decided from what the daily run reads. Pure:
//! the facts and the day in, at most one [`Notice`] out. Each notice's id names the
//! contractor, the reason and the threshold, so however many times the run repeats (or
//! overlaps), the notification log lets each reminder go out once:
//!
//! - evidence expiring: 30 and 7 days before `valid_until` (the id also names that date, so
//!   next year's renewal is reminded again);
//! - a draft idle for 3 and 10 days since its last change;
//! - a requirement in `errors` unresolved for 5 days since its last verdict (a new upload
//!   that fails again restarts the clock: the contractor acted);
//! - badges earned on a day, in one email the next day.

use chrono::{DateTime, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::notifications::{Category, Notice};

/// Days before the evidence ends, nearest first.
pub const EXPIRY_DAYS: [i64; 2] = [7, 30];
/// Days a draft has not changed, longest first.
pub const IDLE_DAYS: [i64; 2] = [10, 3];
/// Days a requirement has stayed in `errors`.
pub const ERRORS_DAYS: i64 = 5;
/// How far back the run looks for idle drafts and unresolved errors: anything older was
/// reminded already (or the run was down for a month, and a reminder would be stale).
pub const LOOKBACK_DAYS: i64 = 30;

/// The reminder for evidence that ends on `valid_until`, as of `today`.
pub fn expiring(
    contractor: &str,
    requirement: &str,
    valid_until: NaiveDate,
    today: NaiveDate,
) -> Option<Notice> {
    let days = (valid_until - today).num_days();
    if days < 0 {
        // Lapsed: the daily re-check suspends and the suspension email says so.
        return None;
    }
    let threshold = EXPIRY_DAYS.into_iter().find(|t| days <= *t)?;
    Some(Notice {
        id: format!("ntf_rem_{contractor}_expiring_{requirement}_{valid_until}_{threshold}d"),
        template: "expiring",
        category: Category::Reminders,
        data: json!({
            "subject": requirement,
            "valid_until": valid_until.to_string(),
            "days": days,
            "path": format!("requirements/{requirement}"),
        }),
    })
}

/// The reminder for a draft last changed at `last_change`, as of `now`.
pub fn idle_draft(
    contractor: &str,
    last_change: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Option<Notice> {
    let days = (now - last_change).num_days();
    if days > LOOKBACK_DAYS {
        return None;
    }
    let threshold = IDLE_DAYS.into_iter().find(|t| days >= *t)?;
    Some(Notice {
        id: format!("ntf_rem_{contractor}_idle_draft_{threshold}d"),
        template: "idle_draft",
        category: Category::Reminders,
        data: json!({"days": days, "path": ""}),
    })
}

/// The reminder for a requirement in `errors` since `since` (its last verdict), with the
/// findings the contractor can act on.
pub fn unresolved_errors(
    contractor: &str,
    requirement: &str,
    since: DateTime<Utc>,
    reasons: Vec<(String, String)>,
    now: DateTime<Utc>,
) -> Option<Notice> {
    let days = (now - since).num_days();
    if !(ERRORS_DAYS..=LOOKBACK_DAYS).contains(&days) {
        return None;
    }
    Some(Notice {
        id: format!(
            "ntf_rem_{contractor}_errors_{requirement}_{}_{ERRORS_DAYS}d",
            since.format("%Y%m%dT%H%M%S")
        ),
        template: "errors_unresolved",
        category: Category::Reminders,
        data: json!({
            "subject": requirement,
            "days": days,
            "reasons": reasons.into_iter().map(|(code, message)| json!({"code": code, "message": message})).collect::<Vec<_>>(),
            "path": format!("requirements/{requirement}"),
        }),
    })
}

/// One badge in a digest, titled in both languages (the email picks the contractor's).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DigestBadge {
    pub id: String,
    pub en: String,
    pub es: String,
}

/// One email for the badges a contractor earned on `day` (none: no email).
pub fn badge_digest(
    contractor: &str,
    day: NaiveDate,
    mut badges: Vec<DigestBadge>,
) -> Option<Notice> {
    badges.sort_by(|a, b| a.id.cmp(&b.id));
    badges.dedup_by(|a, b| a.id == b.id);
    if badges.is_empty() {
        return None;
    }
    let listed: Vec<Value> = badges
        .iter()
        .map(|b| json!({"id": b.id, "en": b.en, "es": b.es}))
        .collect();
    Some(Notice {
        id: format!("ntf_digest_{contractor}_{day}"),
        template: "badges",
        category: Category::Updates,
        data: json!({"badges": listed, "day": day.to_string(), "path": "achievements"}),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn day(s: &str) -> NaiveDate {
        s.parse().unwrap()
    }

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    #[test]
    fn expiry_reminds_at_30_then_7_days_once_each_and_again_after_a_renewal() {
        let ends = day("2027-01-31");
        assert_eq!(
            expiring("ctr_1", "insurance", ends, day("2026-12-31")),
            None,
            "31 days out"
        );
        let first = expiring("ctr_1", "insurance", ends, day("2027-01-01")).unwrap();
        assert_eq!(first.id, "ntf_rem_ctr_1_expiring_insurance_2027-01-31_30d");
        assert_eq!(first.data["days"], 30);
        // Every later run up to 8 days out names the same reminder: the log sends it once.
        let later = expiring("ctr_1", "insurance", ends, day("2027-01-20")).unwrap();
        assert_eq!(later.id, first.id);
        let week = expiring("ctr_1", "insurance", ends, day("2027-01-24")).unwrap();
        assert_eq!(week.id, "ntf_rem_ctr_1_expiring_insurance_2027-01-31_7d");
        assert_eq!(
            expiring("ctr_1", "insurance", ends, day("2027-01-31"))
                .unwrap()
                .data["days"],
            0
        );
        assert_eq!(
            expiring("ctr_1", "insurance", ends, day("2027-02-01")),
            None,
            "lapsed"
        );
        let renewed = expiring("ctr_1", "insurance", day("2028-01-31"), day("2028-01-24")).unwrap();
        assert_ne!(renewed.id, week.id);
        assert_eq!(first.category, Category::Reminders);
    }

    #[test]
    fn an_idle_draft_is_reminded_at_3_and_10_days_and_not_after_the_lookback() {
        let changed = at("2026-12-01T10:00:00Z");
        assert_eq!(
            idle_draft("ctr_1", changed, at("2026-12-04T09:59:59Z")),
            None
        );
        let three = idle_draft("ctr_1", changed, at("2026-12-04T10:00:00Z")).unwrap();
        assert_eq!(three.id, "ntf_rem_ctr_1_idle_draft_3d");
        assert_eq!(
            idle_draft("ctr_1", changed, at("2026-12-10T10:00:00Z"))
                .unwrap()
                .id,
            three.id
        );
        let ten = idle_draft("ctr_1", changed, at("2026-12-11T10:00:00Z")).unwrap();
        assert_eq!(ten.id, "ntf_rem_ctr_1_idle_draft_10d");
        assert_eq!(
            idle_draft("ctr_1", changed, at("2027-01-01T10:00:00Z")),
            None
        );
    }

    #[test]
    fn errors_are_reminded_after_5_days_and_a_new_verdict_restarts_the_clock() {
        let since = at("2026-12-01T08:00:00Z");
        let reasons = vec![("limit_too_low".to_owned(), "Raise the limit.".to_owned())];
        assert_eq!(
            unresolved_errors(
                "ctr_1",
                "insurance",
                since,
                reasons.clone(),
                at("2026-12-06T07:00:00Z")
            ),
            None
        );
        let n = unresolved_errors(
            "ctr_1",
            "insurance",
            since,
            reasons.clone(),
            at("2026-12-06T08:00:00Z"),
        )
        .unwrap();
        assert_eq!(n.template, "errors_unresolved");
        assert_eq!(n.data["reasons"][0]["message"], "Raise the limit.");
        let again = unresolved_errors(
            "ctr_1",
            "insurance",
            at("2026-12-04T08:00:00Z"),
            reasons,
            at("2026-12-09T08:00:00Z"),
        )
        .unwrap();
        assert_ne!(again.id, n.id);
    }

    #[test]
    fn a_digest_lists_each_badge_once_and_none_is_no_email() {
        let b = |id: &str| DigestBadge {
            id: id.into(),
            en: id.to_uppercase(),
            es: id.into(),
        };
        let n = badge_digest(
            "ctr_1",
            day("2026-12-02"),
            vec![b("insured"), b("first_step"), b("insured")],
        )
        .unwrap();
        assert_eq!(n.id, "ntf_digest_ctr_1_2026-12-02");
        assert_eq!(n.data["badges"].as_array().unwrap().len(), 2);
        assert_eq!(n.data["badges"][0]["id"], "first_step");
        assert_eq!(badge_digest("ctr_1", day("2026-12-02"), vec![]), None);
    }
}
