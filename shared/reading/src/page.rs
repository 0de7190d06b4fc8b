//! The page model every reader hands the parsers: pages → words with their boxes (in PDF
//! points, origin top-left, y down) and a confidence each. A PDF's text layer and OCR of a
//! scan or photo give the same model, so a parser reads a form by where things are on the
//! page, not by how a tool happened to order the text.

use serde::{Deserialize, Serialize};

/// A box on a page, in points (1/72 in) from the top-left corner.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Rect {
    pub x0: f32,
    pub y0: f32,
    pub x1: f32,
    pub y1: f32,
}

impl Rect {
    pub fn new(x0: f32, y0: f32, x1: f32, y1: f32) -> Rect {
        Rect { x0, y0, x1, y1 }
    }
    pub fn width(&self) -> f32 {
        self.x1 - self.x0
    }
    pub fn height(&self) -> f32 {
        self.y1 - self.y0
    }
    pub fn cx(&self) -> f32 {
        (self.x0 + self.x1) / 2.0
    }
    pub fn cy(&self) -> f32 {
        (self.y0 + self.y1) / 2.0
    }
    pub fn union(&self, o: &Rect) -> Rect {
        Rect {
            x0: self.x0.min(o.x0),
            y0: self.y0.min(o.y0),
            x1: self.x1.max(o.x1),
            y1: self.y1.max(o.y1),
        }
    }
    /// How much of the two boxes' vertical extents overlap, as a share of the smaller.
    pub fn v_overlap(&self, o: &Rect) -> f32 {
        let overlap = self.y1.min(o.y1) - self.y0.max(o.y0);
        let smaller = self.height().min(o.height()).max(0.01);
        (overlap / smaller).max(0.0)
    }
    /// The overlapping area as a share of the smaller box's area.
    pub fn area_overlap(&self, o: &Rect) -> f32 {
        let w = self.x1.min(o.x1) - self.x0.max(o.x0);
        let h = self.y1.min(o.y1) - self.y0.max(o.y0);
        if w <= 0.0 || h <= 0.0 {
            return 0.0;
        }
        let smaller = (self.width() * self.height())
            .min(o.width() * o.height())
            .max(0.01);
        w * h / smaller
    }
    /// Rounded to a tenth of a point, for storage and display.
    pub fn rounded(&self) -> Rect {
        let r = |v: f32| (v * 10.0).round() / 10.0;
        Rect::new(r(self.x0), r(self.y0), r(self.x1), r(self.y1))
    }
}

/// How a page's words were read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReadMethod {
    /// The PDF's own text layer: exact.
    TextLayer,
    /// Optical character recognition of an image, a scanned page or outlined text.
    Ocr,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Word {
    pub text: String,
    pub rect: Rect,
    /// 0–1: how sure the reader is of this word.
    pub confidence: f32,
}

impl Word {
    pub fn new(text: impl Into<String>, rect: Rect, confidence: f32) -> Word {
        Word {
            text: text.into(),
            rect,
            confidence,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Page {
    /// 1-based, as people count pages.
    pub number: u32,
    pub width: f32,
    pub height: f32,
    pub method: ReadMethod,
    pub words: Vec<Word>,
}

impl Page {
    /// Characters that are not whitespace: a page with (almost) none has no text layer.
    pub fn visible_chars(&self) -> usize {
        self.words
            .iter()
            .map(|w| w.text.chars().filter(|c| !c.is_whitespace()).count())
            .sum()
    }

    /// The words as lines, top to bottom.
    pub fn lines(&self) -> Vec<Line<'_>> {
        lines(self.words.iter())
    }

    /// The median word height: the page's unit for "a line" and "a character or two".
    pub fn line_height(&self) -> f32 {
        median_height(self.words.iter())
    }

    /// The page's text as lines, columns separated by wide gaps, for classification.
    pub fn text(&self) -> String {
        self.lines()
            .iter()
            .map(|l| l.text())
            .collect::<Vec<_>>()
            .join("\n")
    }
}

impl Page {
    /// A page from monospaced, laid-out text (`pdftotext -layout` style): each character
    /// 5 pt wide, each line 10 pt apart, words 8 pt tall. For tests and tools that write a
    /// form as text.
    pub fn laid_out(text: &str, method: ReadMethod, confidence: f32) -> Page {
        let mut words = Vec::new();
        for (row, line) in text.lines().enumerate() {
            let y = 20.0 + 10.0 * row as f32;
            let mut start: Option<usize> = None;
            let chars: Vec<char> = line.chars().collect();
            for i in 0..=chars.len() {
                let space = i == chars.len() || chars[i].is_whitespace();
                match (start, space) {
                    (None, false) => start = Some(i),
                    (Some(s), true) => {
                        let t: String = chars[s..i].iter().collect();
                        words.push(Word::new(
                            t,
                            Rect::new(10.0 + 5.0 * s as f32, y, 10.0 + 5.0 * i as f32, y + 8.0),
                            confidence,
                        ));
                        start = None;
                    }
                    _ => {}
                }
            }
        }
        let width = words.iter().map(|w| w.rect.x1).fold(612.0, f32::max);
        Page {
            number: 1,
            width,
            height: 792.0,
            method,
            words,
        }
    }
}

pub fn median_height<'a>(words: impl Iterator<Item = &'a Word>) -> f32 {
    let mut h: Vec<f32> = words
        .map(|w| w.rect.height())
        .filter(|h| *h > 0.0)
        .collect();
    if h.is_empty() {
        return 10.0;
    }
    h.sort_by(|a, b| a.total_cmp(b));
    h[h.len() / 2]
}

/// Text the text layer holds but the page does not show: drawn under a covering box or
/// with no ink. Found by the reader; a sign that the document was edited after issue.
#[derive(Clone, Debug, PartialEq)]
pub struct HiddenText {
    pub page: u32,
    pub rect: Rect,
    pub text: String,
    /// What the page shows there instead, when something does.
    pub shown: Option<String>,
}

/// A document as read: its pages (those read; long scans are read up to a limit) and what
/// the reader noticed.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ReadDocument {
    pub pages: Vec<Page>,
    /// Pages in the file, read or not.
    pub page_count: u32,
    pub hidden: Vec<HiddenText>,
}

impl ReadDocument {
    pub fn visible_chars(&self) -> usize {
        self.pages.iter().map(Page::visible_chars).sum()
    }

    /// OCR when any page used was OCRed, else the text layer.
    pub fn method_of(pages: &[&Page]) -> ReadMethod {
        if pages.iter().any(|p| p.method == ReadMethod::Ocr) {
            ReadMethod::Ocr
        } else {
            ReadMethod::TextLayer
        }
    }
}

/// Words that sit on one line, left to right.
#[derive(Clone, Debug)]
pub struct Line<'a> {
    pub words: Vec<&'a Word>,
    pub rect: Rect,
}

impl Line<'_> {
    /// The words joined by a space, or three where a gap is wide (a column break).
    pub fn text(&self) -> String {
        let h = median_height(self.words.iter().copied());
        let mut out = String::new();
        let mut prev: Option<&Word> = None;
        for w in &self.words {
            if let Some(p) = prev {
                out.push_str(if w.rect.x0 - p.rect.x1 > 1.5 * h {
                    "   "
                } else {
                    " "
                });
            }
            out.push_str(&w.text);
            prev = Some(w);
        }
        out
    }

    /// The words joined by single spaces.
    pub fn plain(&self) -> String {
        self.words
            .iter()
            .map(|w| w.text.as_str())
            .collect::<Vec<_>>()
            .join(" ")
    }

    pub fn confidence(&self) -> f32 {
        self.words.iter().map(|w| w.confidence).fold(1.0, f32::min)
    }
}

/// Groups words into lines: a word joins the line its box overlaps vertically by at least
/// half the smaller height; lines come top to bottom, words left to right.
pub fn lines<'a>(words: impl IntoIterator<Item = &'a Word>) -> Vec<Line<'a>> {
    let mut sorted: Vec<&Word> = words.into_iter().collect();
    sorted.sort_by(|a, b| a.rect.cy().total_cmp(&b.rect.cy()));
    let mut out: Vec<Line> = Vec::new();
    for w in sorted {
        // The line whose core this word overlaps most, among the last few (lines are built
        // top to bottom, so only recent ones can still take words).
        let best = out
            .iter_mut()
            .rev()
            .take(4)
            .map(|l| {
                let core = l.words[0].rect;
                (w.rect.v_overlap(&core), l)
            })
            .filter(|(o, _)| *o >= 0.5)
            .max_by(|a, b| a.0.total_cmp(&b.0));
        match best {
            Some((_, line)) => {
                line.rect = line.rect.union(&w.rect);
                line.words.push(w);
            }
            None => out.push(Line {
                words: vec![w],
                rect: w.rect,
            }),
        }
    }
    for l in &mut out {
        l.words.sort_by(|a, b| a.rect.x0.total_cmp(&b.rect.x0));
    }
    out.sort_by(|a, b| a.rect.y0.total_cmp(&b.rect.y0));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(t: &str, x0: f32, y0: f32, x1: f32, y1: f32) -> Word {
        Word::new(t, Rect::new(x0, y0, x1, y1), 0.99)
    }

    #[test]
    fn words_group_into_lines_with_column_gaps() {
        let words = [
            w("Insured", 10.0, 100.0, 40.0, 108.0),
            w("INSURER", 300.0, 100.5, 340.0, 108.5),
            w("Aurora", 10.0, 112.0, 40.0, 120.0),
            w("A", 45.0, 112.0, 50.0, 120.0),
            w("tall", 60.0, 109.0, 80.0, 123.0),
        ];
        let ls = lines(words.iter());
        assert_eq!(ls.len(), 2);
        assert_eq!(ls[0].text(), "Insured   INSURER");
        assert_eq!(ls[1].text(), "Aurora A tall");
    }

    #[test]
    fn rect_overlaps() {
        let a = Rect::new(0.0, 0.0, 10.0, 10.0);
        let b = Rect::new(5.0, 5.0, 15.0, 15.0);
        assert!((a.area_overlap(&b) - 0.25).abs() < 1e-6);
        assert!((a.v_overlap(&b) - 0.5).abs() < 1e-6);
        assert_eq!(a.union(&b), Rect::new(0.0, 0.0, 15.0, 15.0));
    }
}
