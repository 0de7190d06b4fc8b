//! EventBridge schedule expressions: `rate(5 minutes)` and six-field `cron(...)`
//! (minutes hours day-of-month month day-of-week year, with `*`, `?`, lists, ranges, steps
//! and month/day names). `L`, `W` and `#` are refused with a clear error rather than
//! silently misread.

use std::time::Duration;

use chrono::{DateTime, Datelike, Duration as ChronoDuration, NaiveDate, TimeZone, Timelike, Utc};

use crate::RunnerError;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Expression {
    Rate(Duration),
    Cron(Box<Cron>),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Cron {
    minutes: Vec<u32>,
    hours: Vec<u32>,
    /// `None` for `?`.
    days_of_month: Option<Vec<u32>>,
    months: Vec<u32>,
    /// 1 = Sunday … 7 = Saturday; `None` for `?`.
    days_of_week: Option<Vec<u32>>,
    years: Vec<u32>,
}

fn err(expr: &str, why: impl std::fmt::Display) -> RunnerError {
    RunnerError::Template(format!("schedule {expr:?}: {why}"))
}

pub fn parse(expr: &str) -> Result<Expression, RunnerError> {
    let text = expr.trim();
    if let Some(body) = text.strip_prefix("rate(").and_then(|s| s.strip_suffix(')')) {
        let mut parts = body.split_whitespace();
        let (Some(n), Some(unit), None) = (parts.next(), parts.next(), parts.next()) else {
            return Err(err(expr, "expected rate(<value> <unit>)"));
        };
        let n: u64 = n
            .parse()
            .map_err(|_| err(expr, "the rate value must be a positive whole number"))?;
        if n == 0 {
            return Err(err(expr, "the rate value must be positive"));
        }
        let (singular, seconds) = match unit {
            "minute" | "minutes" => ("minute", 60),
            "hour" | "hours" => ("hour", 3600),
            "day" | "days" => ("day", 86400),
            _ => return Err(err(expr, "the unit must be minute(s), hour(s) or day(s)")),
        };
        // EventBridge insists: `1 minute`, `5 minutes`.
        if (n == 1) != (unit == singular) {
            return Err(err(
                expr,
                format!("use `{singular}` for a value of 1 and `{singular}s` otherwise"),
            ));
        }
        return Ok(Expression::Rate(Duration::from_secs(n * seconds)));
    }
    if let Some(body) = text.strip_prefix("cron(").and_then(|s| s.strip_suffix(')')) {
        let fields: Vec<&str> = body.split_whitespace().collect();
        if fields.len() != 6 {
            return Err(err(
                expr,
                "cron needs six fields: minutes hours day-of-month month day-of-week year",
            ));
        }
        const MONTHS: [&str; 12] = [
            "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC",
        ];
        const DAYS: [&str; 7] = ["SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"];
        let dom = optional_field(expr, fields[2], 1, 31, &[])?;
        let dow = optional_field(expr, fields[4], 1, 7, &DAYS)?;
        if dom.is_some() == dow.is_some() {
            return Err(err(
                expr,
                "exactly one of day-of-month and day-of-week must be `?`",
            ));
        }
        return Ok(Expression::Cron(Box::new(Cron {
            minutes: field(expr, fields[0], 0, 59, &[])?,
            hours: field(expr, fields[1], 0, 23, &[])?,
            days_of_month: dom,
            months: field(expr, fields[3], 1, 12, &MONTHS)?,
            days_of_week: dow,
            years: field(expr, fields[5], 1970, 2199, &[])?,
        })));
    }
    Err(err(expr, "expected rate(...) or cron(...)"))
}

fn optional_field(
    expr: &str,
    raw: &str,
    lo: u32,
    hi: u32,
    names: &[&str],
) -> Result<Option<Vec<u32>>, RunnerError> {
    if raw == "?" {
        Ok(None)
    } else {
        field(expr, raw, lo, hi, names).map(Some)
    }
}

fn field(expr: &str, raw: &str, lo: u32, hi: u32, names: &[&str]) -> Result<Vec<u32>, RunnerError> {
    if raw.contains(['L', 'W', '#']) && !names.iter().any(|n| raw.to_uppercase().contains(n)) {
        return Err(err(
            expr,
            format!("`{raw}`: L, W and # are not supported by the local runner"),
        ));
    }
    let value = |s: &str| -> Result<u32, RunnerError> {
        let upper = s.to_uppercase();
        if let Some(i) = names.iter().position(|n| *n == upper) {
            return Ok(lo + i as u32);
        }
        let n: u32 = s
            .parse()
            .map_err(|_| err(expr, format!("`{s}` is not a number or a known name")))?;
        if !(lo..=hi).contains(&n) {
            return Err(err(expr, format!("`{n}` is outside {lo}-{hi}")));
        }
        Ok(n)
    };
    let mut out = Vec::new();
    for part in raw.split(',') {
        let (range, step) = match part.split_once('/') {
            Some((r, s)) => (
                r,
                s.parse::<u32>()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| err(expr, format!("bad step in `{part}`")))?,
            ),
            None => (part, 1),
        };
        let (start, end) = match range {
            "*" | "?" => (lo, hi),
            r => match r.split_once('-') {
                Some((a, b)) => (value(a)?, value(b)?),
                None if part.contains('/') => (value(r)?, hi),
                None => {
                    let v = value(r)?;
                    (v, v)
                }
            },
        };
        if start > end {
            return Err(err(expr, format!("`{part}`: range runs backwards")));
        }
        out.extend((start..=end).step_by(step as usize));
    }
    out.sort_unstable();
    out.dedup();
    Ok(out)
}

impl Expression {
    /// The first firing strictly after `after`. A rate fires every period from `origin`.
    pub fn next_after(&self, after: DateTime<Utc>, origin: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Expression::Rate(period) => {
                let period = ChronoDuration::from_std(*period).ok()?;
                let elapsed = after - origin;
                let periods = if elapsed < ChronoDuration::zero() {
                    0
                } else {
                    elapsed.num_seconds() / period.num_seconds() + 1
                };
                Some(origin + period * periods as i32)
            }
            Expression::Cron(c) => c.next_after(after),
        }
    }
}

impl Cron {
    fn day_matches(&self, date: NaiveDate) -> bool {
        let dow = date.weekday().num_days_from_sunday() + 1;
        self.years.contains(&(date.year() as u32))
            && self.months.contains(&date.month())
            && self
                .days_of_month
                .as_ref()
                .is_none_or(|d| d.contains(&date.day()))
            && self.days_of_week.as_ref().is_none_or(|d| d.contains(&dow))
    }

    fn next_after(&self, after: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let start = after.with_second(0)?.with_nanosecond(0)? + ChronoDuration::minutes(1);
        let mut date = start.date_naive();
        // Bounded search: five years of days is more than any valid expression needs.
        for _ in 0..(366 * 5) {
            if self.day_matches(date) {
                for &h in &self.hours {
                    for &m in &self.minutes {
                        let t = Utc.from_utc_datetime(&date.and_hms_opt(h, m, 0)?);
                        if t >= start {
                            return Some(t);
                        }
                    }
                }
            }
            date = date.succ_opt()?;
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn rates() {
        assert_eq!(
            parse("rate(5 minutes)").unwrap(),
            Expression::Rate(Duration::from_secs(300))
        );
        assert_eq!(
            parse("rate(1 day)").unwrap(),
            Expression::Rate(Duration::from_secs(86400))
        );
        assert!(parse("rate(1 minutes)").is_err());
        assert!(parse("rate(5 minute)").is_err());
        assert!(parse("rate(0 minutes)").is_err());
        let origin = at("2026-11-22T10:00:00Z");
        let e = parse("rate(5 minutes)").unwrap();
        assert_eq!(
            e.next_after(origin, origin),
            Some(at("2026-11-22T10:05:00Z"))
        );
        assert_eq!(
            e.next_after(at("2026-11-22T10:07:00Z"), origin),
            Some(at("2026-11-22T10:10:00Z"))
        );
    }

    #[test]
    fn crons() {
        let daily = parse("cron(0 3 * * ? *)").unwrap();
        assert_eq!(
            daily.next_after(at("2026-11-22T02:59:59Z"), at("2026-01-01T00:00:00Z")),
            Some(at("2026-11-22T03:00:00Z"))
        );
        assert_eq!(
            daily.next_after(at("2026-11-22T03:00:00Z"), at("2026-01-01T00:00:00Z")),
            Some(at("2026-11-23T03:00:00Z"))
        );
        // Weekdays at 09:30, by name; 2026-11-22 is a Sunday.
        let weekdays = parse("cron(30 9 ? * MON-FRI *)").unwrap();
        assert_eq!(
            weekdays.next_after(at("2026-11-22T12:00:00Z"), at("2026-01-01T00:00:00Z")),
            Some(at("2026-11-23T09:30:00Z"))
        );
        let every15 = parse("cron(0/15 * * * ? *)").unwrap();
        assert_eq!(
            every15.next_after(at("2026-11-22T12:01:00Z"), at("2026-01-01T00:00:00Z")),
            Some(at("2026-11-22T12:15:00Z"))
        );
        let first_of_dec = parse("cron(0 8 1 DEC ? 2026-2027)").unwrap();
        assert_eq!(
            first_of_dec.next_after(at("2026-11-22T00:00:00Z"), at("2026-01-01T00:00:00Z")),
            Some(at("2026-12-01T08:00:00Z"))
        );
    }

    #[test]
    fn refuses_what_it_cannot_honour() {
        assert!(parse("cron(0 3 * * * *)").is_err(), "both day fields set");
        assert!(parse("cron(0 3 ? * ? *)").is_err(), "neither day field set");
        assert!(parse("cron(0 3 L * ? *)").is_err());
        assert!(parse("cron(0 3 ? * 2#1 *)").is_err());
        assert!(parse("cron(61 3 * * ? *)").is_err());
        assert!(parse("cron(0 3 * * ?)").is_err());
        assert!(parse("every day").is_err());
    }
}

#[cfg(test)]
mod properties {
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;

    use super::{Expression, parse};

    fn field(lo: u32, hi: u32) -> impl Strategy<Value = String> {
        prop_oneof![
            Just("*".to_owned()),
            (lo..=hi).prop_map(|v| v.to_string()),
            (lo..=hi, lo..=hi).prop_map(|(a, b)| format!("{}-{}", a.min(b), a.max(b))),
            (lo..=hi, 1..=hi.max(1)).prop_map(|(a, step)| format!("{a}/{step}")),
            prop::collection::vec(lo..=hi, 1..4).prop_map(|v| v
                .iter()
                .map(u32::to_string)
                .collect::<Vec<_>>()
                .join(",")),
        ]
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 512, timeout: 10_000, ..ProptestConfig::default() })]

        /// Anything at all: an answer, never a panic or a hang.
        #[test]
        fn any_text_is_parsed_or_refused(text in "\\PC{0,80}") {
            let _ = parse(&text);
            let _ = parse(&format!("cron({text})"));
            let _ = parse(&format!("rate({text})"));
        }

        /// Well-formed expressions parse, and the next firing is later than the time asked
        /// about, and is itself a firing (asking again from just before gives it back).
        #[test]
        fn well_formed_crons_fire_after_the_time_asked(
            minute in field(0, 59),
            hour in field(0, 23),
            month in field(1, 12),
            dom in prop_oneof![field(1, 28), Just("?".to_owned())],
            at in 1_700_000_000i64..1_900_000_000,
        ) {
            let dow = if dom == "?" { "*" } else { "?" };
            let text = format!("cron({minute} {hour} {dom} {month} {dow} *)");
            let expr = parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
            prop_assert!(matches!(expr, Expression::Cron(_)));
            let after = Utc.timestamp_opt(at, 0).unwrap();
            if let Some(next) = expr.next_after(after, after) {
                prop_assert!(next > after, "{text}: {next} after {after}");
                let again = expr.next_after(next - chrono::Duration::seconds(1), after);
                prop_assert_eq!(again, Some(next), "{}", text);
            }
        }
    }
}
