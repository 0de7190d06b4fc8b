//! Finding a form's printed labels on a page and the words in a region relative to them.

use crate::page::{Line, Page, Rect, Word};
use crate::text::{reads_as, squash};

/// Where a label is printed: its words, their box, and what the last word carries after the
/// label when a reader glued a value to it (`INSURER A:FEDERATED` → `FEDERATED`).
#[derive(Clone, Debug)]
pub struct Match<'a> {
    pub words: Vec<&'a Word>,
    pub rect: Rect,
    pub rest: String,
}

/// Every place `phrase` is printed: consecutive words of one line whose letters and digits
/// read as the phrase's (spacing, punctuation and case aside; a slip per eight characters
/// forgiven in long labels). Top to bottom.
pub fn find<'a>(lines: &[Line<'a>], phrase: &str) -> Vec<Match<'a>> {
    find_with(lines, phrase, true)
}

/// As [`find`], letter for letter (for labels a slip would turn into another, such as
/// `C Corporation` and `S Corporation`).
pub fn find_exact<'a>(lines: &[Line<'a>], phrase: &str) -> Vec<Match<'a>> {
    find_with(lines, phrase, false)
}

fn find_with<'a>(lines: &[Line<'a>], phrase: &str, slips: bool) -> Vec<Match<'a>> {
    let target = squash(phrase);
    if target.is_empty() {
        return vec![];
    }
    let same = |printed: &str| {
        if slips {
            reads_as(printed, &target)
        } else {
            printed == target
        }
    };
    let mut out = Vec::new();
    for line in lines {
        let words = &line.words;
        for i in 0..words.len() {
            let mut acc = String::new();
            // The first reading with a slip, kept while a longer run could read exactly.
            let mut slipped: Option<(usize, usize, usize)> = None;
            let mut exact: Option<(usize, usize, usize)> = None;
            for (j, word) in words.iter().enumerate().skip(i) {
                let before = acc.len();
                acc.push_str(&squash(&word.text));
                if acc.is_empty() {
                    break;
                }
                let n = target.len();
                if acc.len() >= n && n > before && acc[..n] == target {
                    exact = Some((j, n, before));
                    break;
                }
                if slips && slipped.is_none() {
                    for m in [n.saturating_sub(1), n + 1, n] {
                        if m > before && m > 0 && acc.len() >= m && same(&acc[..m]) {
                            slipped = Some((j, m, before));
                            break;
                        }
                    }
                }
                if acc.len() > n + 1 {
                    break;
                }
            }
            if let Some((j, n, before)) = exact.or(slipped) {
                let rest = rest_after(&words[j].text, n - before);
                let used = &words[i..=j];
                let rect = used.iter().fold(used[0].rect, |r, w| r.union(&w.rect));
                out.push(Match {
                    words: used.to_vec(),
                    rect,
                    rest,
                });
            }
        }
    }
    out
}

/// What is left of `word` after its first `alnum` letters and digits, without the
/// punctuation that separated it (`A:FEDERATED`, 1 → `FEDERATED`).
fn rest_after(word: &str, alnum: usize) -> String {
    let mut seen = 0;
    for (i, c) in word.char_indices() {
        if seen == alnum {
            return word[i..]
                .trim_start_matches(|c: char| !c.is_alphanumeric() && c != '$' && c != '(')
                .to_owned();
        }
        if c.is_ascii_alphanumeric() {
            seen += 1;
        }
    }
    String::new()
}

/// Whether a match begins its run of text on the line: no word sits just before it (so
/// `Employer identification number` as a box label, not inside a sentence).
pub fn starts_segment(page: &Page, m: &Match) -> bool {
    let h = m.rect.height().max(1.0);
    !page.words.iter().any(|w| {
        w.rect.v_overlap(&m.rect) >= 0.5
            && w.rect.x1 <= m.rect.x0 + 0.5
            && m.rect.x0 - w.rect.x1 < 1.2 * h
    })
}

/// The first of `matches` (top to bottom) that satisfies `keep`.
pub fn first<'a>(matches: Vec<Match<'a>>, keep: impl Fn(&Match<'a>) -> bool) -> Option<Match<'a>> {
    matches.into_iter().find(|m| keep(m))
}

/// Words whose centre lies in `region`, in reading order, minus `except` (label words).
pub fn words_in<'a>(page: &'a Page, region: Rect, except: &[&Word]) -> Vec<&'a Word> {
    page.words
        .iter()
        .filter(|w| {
            let (x, y) = (w.rect.cx(), w.rect.cy());
            x >= region.x0 && x <= region.x1 && y >= region.y0 && y <= region.y1
        })
        .filter(|w| !except.iter().any(|e| std::ptr::eq(*e, *w)))
        .collect()
}

/// Words on the same line as `anchor` (overlapping it vertically by half), right of it.
pub fn right_of<'a>(page: &'a Page, anchor: &Rect, until_x: f32) -> Vec<&'a Word> {
    let mut out: Vec<&Word> = page
        .words
        .iter()
        .filter(|w| {
            w.rect.v_overlap(anchor) >= 0.5 && w.rect.x0 >= anchor.x1 - 0.5 && w.rect.cx() < until_x
        })
        .collect();
    out.sort_by(|a, b| a.rect.x0.total_cmp(&b.rect.x0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::{ReadMethod, lines};

    fn page(words: &[(&str, f32, f32)]) -> Page {
        Page {
            number: 1,
            width: 612.0,
            height: 792.0,
            method: ReadMethod::TextLayer,
            words: words
                .iter()
                .map(|(t, x, y)| {
                    Word::new(
                        *t,
                        Rect::new(*x, *y, x + 6.0 * t.len() as f32, y + 8.0),
                        0.99,
                    )
                })
                .collect(),
        }
    }

    #[test]
    fn labels_are_found_however_spaced_or_glued() {
        let p = page(&[
            ("INSURER", 300.0, 100.0),
            ("A:FEDERATED", 350.0, 100.0),
            ("MUTUAL", 420.0, 100.0),
            ("REVISON", 10.0, 200.0),
            ("NUMBER:", 60.0, 200.0),
            ("1", 120.0, 200.0),
            ("INSURED", 10.0, 300.0),
        ]);
        let ls = lines(p.words.iter());
        let m = find(&ls, "INSURER A");
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].rest, "FEDERATED");
        assert_eq!(find(&ls, "REVISION NUMBER").len(), 1);
        assert_eq!(find(&ls, "INSURER").len(), 1, "INSURED is another label");
        let right = right_of(&p, &find(&ls, "REVISION NUMBER")[0].rect, 612.0);
        assert_eq!(right.len(), 1);
        assert_eq!(right[0].text, "1");
    }
}
