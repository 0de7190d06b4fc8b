//! Reading values as printed: dates, dollar amounts, labels compared however a reader spaced
//! them, and the characters OCR usually confuses in numbers.

use std::sync::LazyLock;

use chrono::NaiveDate;
use regex::Regex;

pub(crate) fn re(pattern: &str) -> Regex {
    Regex::new(pattern).expect("static pattern")
}

/// Whitespace runs become one space; stray OCR punctuation at the ends is dropped.
pub fn collapse(s: &str) -> String {
    // A bar inside text is a table rule OCR read as a character; `!` glued to a word is noise.
    let cleaned = s.replace('|', " ");
    let mut words: Vec<String> = cleaned
        .split_whitespace()
        .map(|w| w.trim_end_matches('!').to_owned())
        .filter(|w| !w.is_empty())
        .collect();
    // OCR often splits a capital from the rest of its word ("J ames"): a lone capital
    // followed by a lowercase word is one word. ("S Corporation" stays: the next word is
    // capitalised.)
    let mut i = 0;
    while i + 1 < words.len() {
        let lone_capital = words[i].len() == 1 && words[i].chars().all(|c| c.is_ascii_uppercase());
        if lone_capital && words[i + 1].starts_with(|c: char| c.is_ascii_lowercase()) {
            let next = words.remove(i + 1);
            words[i].push_str(&next);
        }
        i += 1;
    }
    let joined = words.join(" ");
    let ends = |c: char| matches!(c, ':' | ';' | ',' | '_' | '-' | '—' | '«') || c.is_whitespace();
    let mut out = joined
        .trim_matches(ends)
        .trim_start_matches('.')
        .trim()
        .to_owned();
    // A full stop after a letter ends an abbreviation ("Co.", "Inc."): it stays.
    while out.ends_with('.') && !out[..out.len() - 1].ends_with(|c: char| c.is_alphabetic()) {
        out.pop();
        out = out.trim_end_matches(ends).to_owned();
    }
    out
}

/// Uppercase letters and digits only: labels compare equal however a reader spaced them.
pub fn squash(s: &str) -> String {
    s.chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Edit distance between two short strings (labels), by characters.
pub fn edit_distance(a: &str, b: &str) -> usize {
    let a: Vec<char> = a.chars().collect();
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// Whether `printed` (squashed) reads as `label` (squashed), forgiving a slip per eight
/// characters in labels long enough that a slip can't make them another label.
pub fn reads_as(printed: &str, label: &str) -> bool {
    if printed == label {
        return true;
    }
    let slips = label.len() / 8;
    // Lengths further apart than the slips allowed can't be within them: the common case
    // (most words near a label are not it), answered without the quadratic distance.
    slips > 0 && within_edits(printed, label, slips)
}

/// Whether `a` and `b` are at most `k` edits apart. Banded: only the cells within `k` of
/// the diagonal are computed, and it stops as soon as a whole row is past `k`; ASCII (the
/// usual label) is compared by bytes without allocating. Labels are read against every
/// run of words on a page, so this is the extractors' hot path.
pub fn within_edits(a: &str, b: &str, k: usize) -> bool {
    if a.is_ascii() && b.is_ascii() {
        banded(a.as_bytes(), b.as_bytes(), k)
    } else {
        let a: Vec<char> = a.chars().collect();
        let b: Vec<char> = b.chars().collect();
        banded(&a, &b, k)
    }
}

fn banded<T: PartialEq>(a: &[T], b: &[T], k: usize) -> bool {
    if a.len().abs_diff(b.len()) > k {
        return false;
    }
    const STACK: usize = 96;
    let (mut prev_stack, mut cur_stack) = ([0usize; STACK], [0usize; STACK]);
    let (mut prev_heap, mut cur_heap);
    let (mut prev, mut cur): (&mut [usize], &mut [usize]) = if b.len() < STACK {
        (&mut prev_stack[..=b.len()], &mut cur_stack[..=b.len()])
    } else {
        prev_heap = vec![0usize; b.len() + 1];
        cur_heap = vec![0usize; b.len() + 1];
        (&mut prev_heap[..], &mut cur_heap[..])
    };
    let over = k + 1;
    for (j, cell) in prev.iter_mut().enumerate() {
        *cell = j.min(over);
    }
    for i in 1..=a.len() {
        let lo = i.saturating_sub(k).max(1);
        let hi = (i + k).min(b.len());
        cur[0] = i.min(over);
        if lo > 1 {
            cur[lo - 1] = over;
        }
        let mut row_min = cur[lo - 1];
        for j in lo..=hi {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            let v = (prev[j] + 1)
                .min(cur[j - 1] + 1)
                .min(prev[j - 1] + cost)
                .min(over);
            cur[j] = v;
            row_min = row_min.min(v);
        }
        if hi < b.len() {
            cur[hi + 1] = over;
        }
        if row_min > k {
            return false;
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()] <= k
}

/// Digits as OCR misreads them in numeric context.
pub fn fix_digits(s: &str) -> (String, bool) {
    let mut fixed = false;
    let out = s
        .chars()
        .map(|c| {
            let d = match c {
                'O' | 'o' | 'Q' | 'D' => '0',
                'l' | 'I' | '|' | 'i' | '!' => '1',
                'S' | 's' => '5',
                'B' => '8',
                'Z' | 'z' => '2',
                _ => return c,
            };
            fixed = true;
            d
        })
        .collect();
    (out, fixed)
}

pub(crate) static DATE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"([0-9OoQDlIi|!SsBZz]{1,2})\s?[/\-.]\s?([0-9OoQDlIi|!SsBZz]{1,2})\s?[/\-.]\s?([0-9OoQDlIi|!SsBZz]{4})",
    )
});

/// Dates in `s` (US month/day/year), as ISO dates with a confidence factor each.
pub fn dates(s: &str) -> Vec<(String, f32)> {
    DATE.captures_iter(s)
        .filter_map(|c| {
            let (m, f1) = fix_digits(&c[1]);
            let (d, f2) = fix_digits(&c[2]);
            let (y, f3) = fix_digits(&c[3]);
            let date = NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)?;
            let factor = if f1 || f2 || f3 { 0.8 } else { 1.0 };
            Some((date.format("%Y-%m-%d").to_string(), factor))
        })
        .collect()
}

/// Dates written out ("April 21, 2023", "21 April 2023"), as ISO dates.
pub fn long_dates(s: &str) -> Vec<String> {
    static LONG: LazyLock<Regex> = LazyLock::new(|| {
        re(
            r"(?i)\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?\s+(\d{1,2}),?\s+(\d{4})\b",
        )
    });
    const MONTHS: [&str; 12] = [
        "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
    ];
    LONG.captures_iter(s)
        .filter_map(|c| {
            let m = c[1].to_ascii_lowercase();
            let month = MONTHS.iter().position(|x| m.starts_with(x))? as u32 + 1;
            let date = NaiveDate::from_ymd_opt(c[3].parse().ok()?, month, c[2].parse().ok()?)?;
            Some(date.format("%Y-%m-%d").to_string())
        })
        .collect()
}

// `S` and `§` are how OCR reads a dollar sign; a `5` might be too, but it is more often
// the amount's first digit ("500000"), so it is never taken for one.
static MONEY: LazyLock<Regex> =
    LazyLock::new(|| re(r"[$S§]?\s?(\d{1,3}(?:\s?[,.]\s?[0-9O]{3})+|\d{4,})"));

/// An amount like `$1,000,000` (or OCR's `S1.000,000`) as whole dollars.
pub fn money(s: &str) -> Option<(String, f32)> {
    let c = MONEY.captures_iter(s).last()?;
    let raw = &c[1];
    let (digits, fixed) = fix_digits(raw);
    let digits: String = digits.chars().filter(char::is_ascii_digit).collect();
    let value: u64 = digits.parse().ok()?;
    // Separators must sit every three digits; OCR swapping `,` and `.` is forgiven.
    let factor = if fixed { 0.8 } else { 1.0 };
    Some((value.to_string(), factor))
}

/// The form extraction gives a value printed as `printed`: US dates as ISO dates, dollar
/// amounts as whole dollars, other text with its spacing collapsed. Lets a caller compare
/// what a person typed (or a test's ground truth) with what was read.
pub fn canonical(printed: &str) -> String {
    let t = printed.trim();
    if let [(d, _)] = dates(t).as_slice()
        && DATE.find(t).is_some_and(|m| m.len() == t.len())
    {
        return d.clone();
    }
    if t.starts_with('$')
        && let Some((v, _)) = money(t)
    {
        return v;
    }
    collapse(t)
}

/// Whitespace-insensitive, case-sensitive comparison of printed strings (ground truth is
/// copied as printed, runs of spaces collapsed).
pub fn same_text(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.split_whitespace().collect::<Vec<_>>().join(" ");
    norm(a) == norm(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ocr_word_splits_and_noise_are_mended() {
        assert_eq!(collapse("J ames Holloway"), "James Holloway");
        assert_eq!(collapse("Michael! Delgado"), "Michael Delgado");
        assert_eq!(
            collapse("Keystone General|Insurance"),
            "Keystone General Insurance"
        );
        assert_eq!(collapse("S Corporation"), "S Corporation");
        assert_eq!(
            collapse("Obsidian Specialty Insurance Co. "),
            "Obsidian Specialty Insurance Co."
        );
        assert_eq!(collapse("Aurora Displays Corp :"), "Aurora Displays Corp");
        assert_eq!(collapse("12 Main St, ."), "12 Main St");
    }

    #[test]
    fn canonical_forms() {
        assert_eq!(canonical("04/25/2027"), "2027-04-25");
        assert_eq!(canonical("$2,000,000"), "2000000");
        assert_eq!(canonical(" Aurora  Displays Corp "), "Aurora Displays Corp");
        assert_eq!(canonical("EC13002308"), "EC13002308");
    }

    #[test]
    fn money_and_dates_tolerate_ocr() {
        assert_eq!(money("$1,000,000").unwrap().0, "1000000");
        assert_eq!(money("S2.000.000").unwrap().0, "2000000");
        assert_eq!(money("$ 1000000").unwrap().0, "1000000");
        assert_eq!(money("500000").unwrap().0, "500000");
        assert_eq!(money("$ 5000").unwrap().0, "5000");
        assert_eq!(money("E.L. EACH ACCIDENT $500,000").unwrap().0, "500000");
        assert_eq!(dates("04/25/2026 04/25/2027").len(), 2);
        assert_eq!(dates("11/5/2023")[0].0, "2023-11-05");
        assert_eq!(dates("O4/25/2O26")[0], ("2026-04-25".to_owned(), 0.8));
        assert!(dates("13/45/2026").is_empty());
        assert_eq!(long_dates("DATE ISSUED: April 21, 2023"), ["2023-04-21"]);
    }

    #[test]
    fn labels_read_with_a_slip_per_eight_characters() {
        assert!(reads_as("REVISONNUMBER", "REVISIONNUMBER"));
        assert!(reads_as("EACHOCCURENCE", "EACHOCCURRENCE"));
        assert!(
            !reads_as("INSURER", "INSURED"),
            "short labels must match exactly"
        );
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        // The banded check agrees with the full distance.
        for (a, b) in [
            ("KITTEN", "SITTING"),
            ("CERTIFICATEHOLDER", "CERTIFICATEH0LDER"),
            ("", "ABC"),
            ("ABC", ""),
            ("INSURED", "INSUREDS"),
            ("NAMEOFENTITY", "NAMEOFENTTY"),
            ("ÉTÉ", "ETE"),
        ] {
            for k in 0..5 {
                assert_eq!(
                    within_edits(a, b, k),
                    edit_distance(a, b) <= k,
                    "{a} {b} {k}"
                );
            }
        }
    }
}
