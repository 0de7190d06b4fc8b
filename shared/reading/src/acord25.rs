//! An ACORD 25 certificate of liability insurance read as the form it is: its printed labels
//! (`PRODUCER`, `INSURED`, `INSURER A`…`F` / `NAIC #`, the coverage table's `INSR LTR`,
//! `ADDL`, `SUBR`, `POLICY NUMBER`, `POLICY EFF`, `POLICY EXP` and limit labels,
//! `DESCRIPTION OF OPERATIONS`, `CERTIFICATE HOLDER`) are found on the page, and each value
//! is read from its region relative to them: the coverage table by columns (from the header)
//! and rows (from the coverage names), each limit from its cell, whether the amount sits on
//! the label's line or a line away. The same code reads a text layer and OCR, every edition
//! since 2010, agency-system renderings and carrier look-alikes with their own labels.

use std::sync::LazyLock;

use regex::Regex;

use crate::fields::{FieldProblem, Fields, Spot};
use crate::layout::{Match, find, first, right_of, words_in};
use crate::page::{Line, Page, Rect, Word, lines};
use crate::text::{collapse, dates, fix_digits, money, re, reads_as, squash};

/// A coverage row of the table: field prefix, the names that start it, its limits.
struct Coverage {
    key: &'static str,
    names: &'static [&'static str],
    limits: &'static [(&'static str, &'static str)],
}

const COVERAGES: [Coverage; 4] = [
    Coverage {
        key: "general_liability",
        names: &["COMMERCIAL GENERAL LIABILITY", "GENERAL LIABILITY"],
        limits: &[
            ("EACH OCCURRENCE", "each_occurrence"),
            ("DAMAGE TO RENTED PREMISES", "damage_to_rented_premises"),
            ("MED EXP", "med_exp"),
            ("PERSONAL ADV INJURY", "personal_adv_injury"),
            ("GENERAL AGGREGATE", "general_aggregate"),
            ("PRODUCTS COMP OP AGG", "products_comp_op_agg"),
        ],
    },
    Coverage {
        key: "auto",
        names: &["AUTOMOBILE LIABILITY", "AUTO LIABILITY"],
        limits: &[
            ("COMBINED SINGLE LIMIT", "combined_single_limit"),
            ("BODILY INJURY PER PERSON", "bodily_injury_per_person"),
            ("BODILY INJURY PER ACCIDENT", "bodily_injury_per_accident"),
            ("PROPERTY DAMAGE", "property_damage"),
        ],
    },
    Coverage {
        key: "umbrella",
        names: &["UMBRELLA LIAB", "EXCESS LIAB"],
        limits: &[
            ("EACH OCCURRENCE", "each_occurrence"),
            ("AGGREGATE", "aggregate"),
        ],
    },
    Coverage {
        key: "workers_comp",
        names: &[
            "WORKERS COMPENSATION",
            "EMPLOYERS LIABILITY",
            "ANY PROPRIETOR PARTNER EXECUTIVE",
        ],
        limits: &[
            ("EL EACH ACCIDENT", "each_accident"),
            ("EL DISEASE EA EMPLOYEE", "disease_each_employee"),
            ("EL DISEASE POLICY LIMIT", "disease_policy_limit"),
        ],
    },
];

/// Marks a reader gives a ticked box.
fn is_mark(t: &str) -> bool {
    matches!(
        t.trim_matches(|c: char| matches!(c, '[' | ']' | '|' | '(' | ')')),
        "X" | "x" | "✖" | "✔" | "✓" | "☒" | "■" | "Y"
    )
}

static EMAIL: LazyLock<Regex> =
    LazyLock::new(|| re(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}"));
static PHONE: LazyLock<Regex> = LazyLock::new(|| re(r"\(?\b\d{3}\)?[\s.\-]?\d{3}[\s.\-]\d{4}\b"));
static POLICY: LazyLock<Regex> = LazyLock::new(|| re(r"^[A-Z0-9][A-Z0-9\-./]{3,29}$"));
static NAIC: LazyLock<Regex> = LazyLock::new(|| re(r"^[0-9OoQDlIiSsBZz]{5}$"));

/// The page's geometry as the form's labels give it.
struct Form<'a> {
    page: &'a Page,
    lines: Vec<Line<'a>>,
    /// A line's height: the unit of every tolerance.
    lh: f32,
    /// The form's left edge (where `PRODUCER` and `INSURED` are printed).
    left: f32,
    /// The form's right edge.
    right: f32,
    /// Where the right-hand column (contact, insurers, cancellation) starts.
    mid: f32,
}

impl<'a> Form<'a> {
    fn find(&self, phrase: &str) -> Vec<Match<'a>> {
        find(&self.lines, phrase)
    }

    fn spot(&self, words: &[&Word]) -> Option<Spot> {
        Spot::of(self.page, words)
    }
}

/// Reads the certificate on `page` into `out`; what can't be read as the form intends
/// (placeholders, sample forms) becomes a problem.
pub fn read(page: &Page, out: &mut Fields, problems: &mut Vec<FieldProblem>) {
    let ls = page.lines();
    let lh = page.line_height();
    let left = page
        .words
        .iter()
        .map(|w| w.rect.x0)
        .fold(page.width, f32::min);
    let right = page.words.iter().map(|w| w.rect.x1).fold(0.0, f32::max);
    let mut form = Form {
        page,
        lines: ls,
        lh,
        left,
        right,
        mid: left + (right - left) * 0.5,
    };
    let insurers = insurer_rows(&form);
    if let Some(x) = insurers
        .iter()
        .map(|r| r.label.x0)
        .min_by(|a, b| a.total_cmp(b))
    {
        form.mid = x;
    }
    let producer = first(form.find("PRODUCER"), |m| m.rect.x0 < form.mid - lh);
    let insured = first(form.find("INSURED"), |m| {
        m.rect.x0 < form.left + 4.0 * lh && producer.as_ref().is_none_or(|p| m.rect.y0 > p.rect.y1)
    });
    let coverages_label = first(form.find("COVERAGES"), |m| {
        m.rect.x0 < form.mid && insured.as_ref().is_none_or(|i| m.rect.y0 > i.rect.y1)
    })
    .or_else(|| first(form.find("CERTIFICATE NUMBER"), |_| true));
    let holder = form
        .find("CERTIFICATE HOLDER")
        .into_iter()
        .rfind(|m| m.rect.x0 < form.mid && m.words[0].rect.x0 < form.left + 4.0 * lh);
    // The remarks box's heading, not the workers' comp cell's "describe under DESCRIPTION
    // OF OPERATIONS below".
    let wc_note = first(form.find("DESCRIPTION OF OPERATIONS below"), |_| true);
    let description = first(form.find("DESCRIPTION OF OPERATIONS"), |m| {
        m.rect.x0 < form.left + 4.0 * lh
            && wc_note
                .as_ref()
                .is_none_or(|w| w.rect.v_overlap(&m.rect) < 0.5 || w.rect.x0 > m.rect.x1)
    });

    certificate_header(&form, out, problems);
    if let Some(p) = &producer {
        let bottom = insured.as_ref().map_or(p.rect.y1 + 8.0 * lh, |i| i.rect.y0);
        producer_block(&form, p, bottom, out);
    }
    contact_block(&form, insurers.first().map(|r| r.label.y0), out);
    if let Some(i) = &insured {
        let bottom = coverages_label
            .as_ref()
            .map_or(i.rect.y1 + 6.0 * lh, |c| c.rect.y0);
        insured_block(&form, i, bottom, out);
    }
    for row in &insurers {
        insurer(&form, row, out);
    }
    let table_bottom = description
        .as_ref()
        .map(|d| d.rect.y0)
        .or(holder.as_ref().map(|h| h.rect.y0))
        .unwrap_or(page.height);
    let table_top = coverages_label.as_ref().map_or(0.0, |c| c.rect.y1);
    let wc_end = wc_note.as_ref().map(|w| w.rect.y1 + 0.3 * lh);
    coverage_table(&form, table_top, table_bottom, wc_end, out);
    if let Some(d) = &description {
        let bottom = holder.as_ref().map_or(d.rect.y1 + 10.0 * lh, |h| h.rect.y0);
        description_block(&form, d, bottom, out);
    }
    if let Some(h) = &holder {
        holder_block(&form, h, out, problems);
    }
    sample_marks(&form, problems);
}

/// `DATE (MM/DD/YYYY)`, `CERTIFICATE NUMBER`, `REVISION NUMBER`.
fn certificate_header(form: &Form, out: &mut Fields, problems: &mut Vec<FieldProblem>) {
    let lh = form.lh;
    if let Some(label) = first(form.find("DATE (MM/DD/YYYY)"), |m| {
        m.rect.y0 < form.page.height * 0.3
    }) {
        let near = |w: &&Word| {
            let beside = w.rect.v_overlap(&label.rect) >= 0.5 && w.rect.x0 >= label.rect.x1 - 0.5;
            let below = w.rect.y0 >= label.rect.y1 - 0.3 * lh
                && w.rect.y0 <= label.rect.y1 + 2.5 * lh
                && w.rect.cx() >= label.rect.x0 - 3.0 * lh
                && w.rect.cx() <= label.rect.x1 + 3.0 * lh;
            (beside || below) && !label.words.iter().any(|l| std::ptr::eq(*l, *w))
        };
        let mut candidates: Vec<&Word> = form.page.words.iter().filter(near).collect();
        candidates.sort_by(|a, b| a.rect.y0.total_cmp(&b.rect.y0));
        if let Some(w) = candidates.iter().find(|w| !dates(&w.text).is_empty()) {
            let (d, f) = dates(&w.text)[0].clone();
            out.read("certificate_date", d, form.spot(&[w]).expect("a word"), f);
        } else if let Some(w) = candidates.iter().find(|w| squash(&w.text) == "MMDDYYYY") {
            problems.push(
                FieldProblem::new(
                    "certificate_date",
                    "placeholder",
                    "The certificate is not dated: it shows MM/DD/YYYY where the date goes. Ask your agent for an issued certificate.",
                )
                .at(form.page.number, w.rect),
            );
        }
    }
    let revision = first(form.find("REVISION NUMBER"), |_| true);
    if let Some(label) = first(form.find("CERTIFICATE NUMBER"), |_| true) {
        let until = revision
            .as_ref()
            .filter(|r| r.rect.v_overlap(&label.rect) >= 0.5)
            .map_or(form.right + lh, |r| r.rect.x0);
        let words: Vec<&Word> = right_of(form.page, &label.rect, until)
            .into_iter()
            .filter(|w| w.text.chars().any(|c| c.is_ascii_alphanumeric()))
            .collect();
        if let Some(spot) = form.spot(&words) {
            out.read("certificate_number", join(&words), spot, 1.0);
        }
    }
    if let Some(label) = revision {
        let words: Vec<&Word> = right_of(form.page, &label.rect, form.right + lh)
            .into_iter()
            .filter(|w| w.text.chars().any(|c| c.is_ascii_alphanumeric()))
            .collect();
        if let Some(spot) = form.spot(&words) {
            out.read("revision_number", join(&words), spot, 1.0);
        }
    }
}

fn join(words: &[&Word]) -> String {
    words
        .iter()
        .map(|w| w.text.as_str())
        .collect::<Vec<_>>()
        .join(" ")
}

/// Lines of a name-and-address block, without the noise agency systems print in them
/// (account numbers, certificate counters) and with phone numbers and email addresses apart.
struct Block<'a> {
    lines: Vec<Vec<&'a Word>>,
    phones: Vec<&'a Word>,
    emails: Vec<&'a Word>,
}

fn block<'a>(form: &Form<'a>, region: Rect, except: &[&Word]) -> Block<'a> {
    let words = words_in(form.page, region, except);
    let mut out = Block {
        lines: vec![],
        phones: vec![],
        emails: vec![],
    };
    for line in lines(words.iter().copied()) {
        let text = line.plain();
        if EMAIL.is_match(&text)
            || PHONE.is_match(&text)
                && !text.chars().any(|c| c.is_ascii_lowercase())
                && text.chars().filter(|c| c.is_ascii_alphabetic()).count() < 3
        {
            for w in &line.words {
                if EMAIL.is_match(&w.text) {
                    out.emails.push(w);
                } else if w.text.chars().any(|c| c.is_ascii_digit()) {
                    out.phones.push(w);
                }
            }
            continue;
        }
        // Numbers alone on a line, or far from the text (account numbers, counters).
        let kept: Vec<&Word> = line
            .words
            .iter()
            .copied()
            .filter(|w| {
                let number = w.text.chars().all(|c| c.is_ascii_digit() || c == '-');
                if !number {
                    return true;
                }
                line.words.iter().any(|o| {
                    !std::ptr::eq(*o, *w)
                        && o.text.chars().any(|c| c.is_alphabetic())
                        && (o.rect.x0 - w.rect.x1)
                            .abs()
                            .min((w.rect.x0 - o.rect.x1).abs())
                            < 4.0 * form.lh
                })
            })
            .collect();
        if !kept.is_empty()
            && kept
                .iter()
                .any(|w| w.text.chars().any(|c| c.is_alphanumeric()))
        {
            out.lines.push(kept);
        }
    }
    out
}

fn line_text(words: &[&Word]) -> String {
    collapse(&join(words))
}

/// A block's first line as `name_key` and the lines after it, joined, as `address_key`.
fn name_and_address(
    form: &Form,
    lines: &[Vec<&Word>],
    name_key: &str,
    address_key: &str,
    out: &mut Fields,
) {
    let Some((name, rest)) = lines.split_first() else {
        return;
    };
    out.read(
        name_key,
        line_text(name),
        form.spot(name).expect("words"),
        1.0,
    );
    if !rest.is_empty() {
        let all: Vec<&Word> = rest.iter().flat_map(|l| l.iter().copied()).collect();
        let text: Vec<String> = rest.iter().map(|l| line_text(l)).collect();
        out.read(
            address_key,
            text.join(", "),
            form.spot(&all).expect("words"),
            1.0,
        );
    }
}

/// The left column's block under `label` (producer, insured), down to `bottom`.
fn left_block<'a>(form: &Form<'a>, label: &Match, bottom: f32) -> Block<'a> {
    let lh = form.lh;
    let region = Rect::new(
        form.left - lh,
        label.rect.y0 - 0.3 * lh,
        form.mid - 0.5 * lh,
        bottom - 0.2 * lh,
    );
    block(form, region, &label.words)
}

fn producer_block(form: &Form, label: &Match, bottom: f32, out: &mut Fields) {
    let b = left_block(form, label, bottom);
    let Some(first_line) = b.lines.first() else {
        return;
    };
    // A person's name above the agency's: the agency is the producer.
    let business = |ws: &[&Word]| {
        let t = squash(&join(ws));
        [
            "INC",
            "LLC",
            "AGENCY",
            "INSURANCE",
            "SERVICES",
            "GROUP",
            "COMPANY",
            "CORP",
            "BROKER",
            "PARTNERS",
            "ASSOCIATES",
            "LTD",
        ]
        .iter()
        .any(|k| t.contains(k))
    };
    let mut name_at = 0;
    if !business(first_line)
        && b.lines
            .get(1)
            .is_some_and(|l| business(l) && !l[0].text.starts_with(|c: char| c.is_ascii_digit()))
    {
        name_at = 1;
    }
    // A person's name above the agency's: the name line is the agency's.
    name_and_address(
        form,
        &b.lines[name_at..],
        "producer",
        "producer_address",
        out,
    );
}

/// The contact box beside the producer: name, phone, fax, email.
fn contact_block(form: &Form, insurers_top: Option<f32>, out: &mut Fields) {
    let lh = form.lh;
    let Some(contact) = first(form.find("CONTACT"), |m| m.rect.x0 >= form.mid - 2.0 * lh) else {
        return;
    };
    let bottom = insurers_top
        .or_else(|| first(form.find("INSURERS AFFORDING COVERAGE"), |_| true).map(|m| m.rect.y0))
        .unwrap_or(contact.rect.y1 + 8.0 * lh);
    let phone_label = first(form.find("PHONE"), |m| {
        m.rect.y0 > contact.rect.y0 - lh && m.rect.x0 > form.mid - 2.0 * lh
    });
    let name_label = first(form.find("NAME"), |m| {
        m.rect.y0 > contact.rect.y0 - lh && m.rect.x0 > form.mid - 2.0 * lh
    });
    let name_bottom = phone_label
        .as_ref()
        .map_or(contact.rect.y1 + 2.0 * lh, |p| p.rect.y0 - 0.2 * lh);
    let name_left = name_label
        .as_ref()
        .map_or(contact.rect.x1, |n| n.rect.x1.max(contact.rect.x1));
    let mut except: Vec<&Word> = contact.words.clone();
    if let Some(n) = &name_label {
        except.extend(n.words.iter().copied());
    }
    let names = words_in(
        form.page,
        Rect::new(
            name_left,
            contact.rect.y0 - 0.5 * lh,
            form.right + lh,
            name_bottom,
        ),
        &except,
    );
    if let Some(spot) = form.spot(&names) {
        out.read("producer_contact", join(&names), spot, 1.0);
    }
    let region = words_in(
        form.page,
        Rect::new(form.mid - lh, contact.rect.y0, form.right + lh, bottom),
        &[],
    );
    let fax_x = first(form.find("FAX"), |m| {
        m.rect.y0 > contact.rect.y0 - lh && m.rect.x0 > form.mid
    })
    .map(|m| m.rect.x0);
    for l in lines(region.iter().copied()) {
        let text = l.plain();
        for w in &l.words {
            if EMAIL.is_match(&w.text) {
                out.read(
                    "producer_email",
                    EMAIL.find(&w.text).expect("matched").as_str(),
                    form.spot(&[w]).expect("word"),
                    1.0,
                );
            }
        }
        for m in PHONE.find_iter(&text) {
            // The words the number was printed in.
            let ws: Vec<&Word> = l
                .words
                .iter()
                .copied()
                .filter(|w| {
                    m.as_str().contains(w.text.as_str())
                        && w.text.chars().any(|c| c.is_ascii_digit())
                })
                .collect();
            let Some(spot) = form.spot(&ws) else { continue };
            let is_fax = fax_x.is_some_and(|x| spot.rect.x0 >= x - lh);
            out.read(
                if is_fax {
                    "producer_fax"
                } else {
                    "producer_phone"
                },
                m.as_str(),
                spot,
                1.0,
            );
        }
    }
}

fn insured_block(form: &Form, label: &Match, bottom: f32, out: &mut Fields) {
    let b = left_block(form, label, bottom);
    name_and_address(form, &b.lines, "insured_name", "insured_address", out);
}

/// `INSURER A :` … with what follows it on its line.
struct InsurerRow<'a> {
    letter: char,
    label: Rect,
    /// A value glued to the label by the reader.
    glued: Option<(&'a Word, String)>,
}

fn insurer_rows<'a>(form: &Form<'a>) -> Vec<InsurerRow<'a>> {
    static LETTER: LazyLock<Regex> = LazyLock::new(|| re(r"^([A-F])\s*[:;.,]?\s*(.*)$"));
    let mut rows: Vec<InsurerRow> = Vec::new();
    for line in &form.lines {
        for (i, w) in line.words.iter().enumerate() {
            let sq = squash(&w.text);
            let (letter, glued, label) = if sq == "INSURER" {
                let Some(next) = line.words.get(i + 1) else {
                    continue;
                };
                let Some(c) = LETTER.captures(next.text.trim()) else {
                    continue;
                };
                let rest = c[2].to_owned();
                (
                    c[1].chars().next().expect("one letter"),
                    (!rest.is_empty()).then_some((*next, rest)),
                    w.rect.union(&next.rect),
                )
            } else if sq.len() >= 8 && sq.starts_with("INSURER") && w.text.len() > 7 {
                // "INSURERA:" or "INSURER A:NAME" read as one word.
                let Some(c) = LETTER.captures(w.text[7..].trim()) else {
                    continue;
                };
                let rest = c[2].to_owned();
                (
                    c[1].chars().next().expect("one letter"),
                    (!rest.is_empty()).then_some((*w, rest)),
                    w.rect,
                )
            } else {
                continue;
            };
            if !rows.iter().any(|r| r.letter == letter) {
                rows.push(InsurerRow {
                    letter,
                    label,
                    glued,
                });
            }
        }
    }
    rows
}

fn insurer(form: &Form, row: &InsurerRow, out: &mut Fields) {
    let lh = form.lh;
    let naic_col = first(form.find("NAIC"), |m| {
        m.rect.x0 > row.label.x1 && m.rect.y0 < row.label.y1
    });
    let naic_x0 = naic_col
        .as_ref()
        .map_or(form.right - 6.0 * lh, |m| m.rect.x0 - 2.0 * lh);
    let on_line: Vec<&Word> = right_of(form.page, &row.label, form.right + lh)
        .into_iter()
        .filter(|w| {
            !row.glued
                .as_ref()
                .is_some_and(|(g, _)| std::ptr::eq(*g, *w))
        })
        .collect();
    // The NAIC is the five-digit number in the NAIC column; the name is what comes before.
    let naic = on_line
        .iter()
        .rposition(|w| w.rect.cx() >= naic_x0 && NAIC.is_match(w.text.trim()));
    let name_words: Vec<&Word> = match naic {
        Some(i) => on_line[..i].to_vec(),
        None => on_line
            .iter()
            .copied()
            .filter(|w| w.rect.x0 < naic_x0 + 2.0 * lh)
            .collect(),
    };
    let naic = naic.map(|i| on_line[i]);
    let letter = row.letter.to_ascii_lowercase();
    let mut name = join(&name_words);
    let mut spot_words = name_words.clone();
    if let Some((w, rest)) = &row.glued {
        name = format!("{rest} {name}");
        spot_words.insert(0, w);
    }
    if let Some(spot) = form.spot(&spot_words) {
        out.read(format!("insurer_{letter}.name"), name, spot, 1.0);
    }
    if let Some(w) = naic {
        let (digits, fixed) = fix_digits(w.text.trim());
        out.read(
            format!("insurer_{letter}.naic"),
            digits,
            form.spot(&[w]).expect("word"),
            if fixed { 0.8 } else { 1.0 },
        );
    }
}

/// The table's columns, from its header (or, where a reader lost the header, from where
/// ACORD 25 prints them relative to the form's width).
struct Columns {
    ltr: (f32, f32),
    addl: (f32, f32),
    subr: (f32, f32),
    policy: (f32, f32),
    eff: f32,
    exp: f32,
    /// Where limit labels start.
    limits: f32,
}

fn columns(form: &Form, top: f32, bottom: f32) -> (Columns, f32) {
    let lh = form.lh;
    let w = form.right - form.left;
    let at = |f: f32| form.left + w * f;
    let in_table = |m: &Match| m.rect.y0 >= top - lh && m.rect.y1 <= bottom;
    let policy = first(form.find("POLICY NUMBER"), |m| in_table(m));
    let header_y = policy.as_ref().map(|p| p.rect.cy());
    let in_header =
        |m: &Match| in_table(m) && header_y.is_none_or(|y| (m.rect.cy() - y).abs() < 2.5 * lh);
    let get = |phrase: &str| first(form.find(phrase), in_header).map(|m| m.rect);
    let eff = get("POLICY EFF").or_else(|| get("EFF"));
    let exp = get("POLICY EXP").or_else(|| get("EXP"));
    let ltr = get("LTR").or_else(|| get("INSR"));
    let addl = get("ADDL").or_else(|| get("INSD"));
    let subr = get("SUBR").or_else(|| get("WVD"));
    let header_bottom = [policy.as_ref().map(|m| m.rect), eff, exp, ltr, addl, subr]
        .iter()
        .flatten()
        .map(|r| r.y1)
        .fold(top, f32::max);
    let eff_x = eff.map_or(at(0.58), |r| r.cx());
    let exp_x = exp.map_or(at(0.66), |r| r.cx());
    let addl = addl.map_or((at(0.33), at(0.36)), |r| (r.x0 - 0.6 * lh, r.x1 + 0.2 * lh));
    let subr = subr.map_or((at(0.36), at(0.39)), |r| (r.x0 - 0.2 * lh, r.x1 + 0.6 * lh));
    let policy_col = (
        subr.1.max(addl.1),
        eff.map_or(at(0.54), |r| r.x0 - 0.3 * lh),
    );
    let ltr = ltr.map_or((form.left - lh, at(0.05)), |r| {
        (form.left - lh, r.x1 + 1.0 * lh)
    });
    let limits = exp.map_or(at(0.71), |r| r.x1 + 0.3 * lh);
    (
        Columns {
            ltr,
            addl,
            subr,
            policy: policy_col,
            eff: eff_x,
            exp: exp_x,
            limits,
        },
        header_bottom,
    )
}

/// A coverage's rows in the table.
struct Section<'a> {
    coverage: &'a Coverage,
    top: f32,
    bottom: f32,
}

fn coverage_table(form: &Form, top: f32, bottom: f32, wc_end: Option<f32>, out: &mut Fields) {
    let lh = form.lh;
    let (cols, header_bottom) = columns(form, top, bottom);
    let mut starts: Vec<(f32, &Coverage)> = Vec::new();
    for cov in &COVERAGES {
        let y = cov
            .names
            .iter()
            .flat_map(|n| form.find(n))
            .filter(|m| {
                m.rect.y0 >= header_bottom - 0.3 * lh
                    && m.rect.y1 <= bottom
                    && m.rect.x0 < cols.policy.0
            })
            .map(|m| m.rect.y0)
            .min_by(|a, b| a.total_cmp(b));
        if let Some(y) = y {
            starts.push((y, cov));
        }
    }
    starts.sort_by(|a, b| a.0.total_cmp(&b.0));
    // A limit label may sit a little above its coverage's name (Vertafore prints the
    // combined single limit half a line up).
    let pad = 0.5 * lh;
    let sections: Vec<Section> = starts
        .iter()
        .enumerate()
        .map(|(i, (y, cov))| Section {
            coverage: cov,
            top: (y - pad).max(header_bottom),
            bottom: starts.get(i + 1).map_or_else(
                // Workers' comp ends with its cell's last line; rows below are other lines.
                || match wc_end {
                    Some(end) if cov.key == "workers_comp" && end < bottom => end,
                    _ => bottom,
                },
                |n| n.0 - pad,
            ),
        })
        .collect();
    for s in &sections {
        section(form, &cols, s, out);
    }
    let last = sections.last().map_or(header_bottom, |s| s.bottom);
    if last < bottom - lh {
        other_lines(form, &cols, last, bottom, out);
    }
}

/// Rows below the four printed coverages (inland marine, professional liability, ...):
/// each row with a policy number is `other_N` with what the row says.
fn other_lines(form: &Form, cols: &Columns, top: f32, bottom: f32, out: &mut Fields) {
    let lh = form.lh;
    let policies = words_in(
        form.page,
        Rect::new(cols.policy.0, top, cols.policy.1, bottom),
        &[],
    );
    let mut n = 0;
    for l in lines(policies.iter().copied()) {
        let ws: Vec<&Word> = l
            .words
            .iter()
            .copied()
            .filter(|w| dates(&w.text).is_empty())
            .collect();
        let joined: String = ws.iter().map(|w| w.text.as_str()).collect();
        if !(POLICY.is_match(&joined) && joined.chars().filter(char::is_ascii_digit).count() >= 3) {
            continue;
        }
        n += 1;
        let key = format!("other_{n}");
        let row = |x0: f32, x1: f32| -> Vec<&Word> {
            form.page
                .words
                .iter()
                .filter(|w| {
                    w.rect.v_overlap(&l.rect) >= 0.5 && w.rect.cx() >= x0 && w.rect.cx() < x1
                })
                .collect()
        };
        out.read(
            format!("{key}.policy_number"),
            joined,
            form.spot(&ws).expect("words"),
            1.0,
        );
        let kind = row(cols.ltr.1, cols.addl.0);
        if let Some(spot) = form.spot(&kind) {
            out.read(format!("{key}.type"), join(&kind), spot, 1.0);
        }
        if let Some(w) = row(cols.ltr.0, cols.ltr.1)
            .into_iter()
            .find(|w| insurer_letter(w).is_some())
        {
            read_letter(form, out, &key, w);
        }
        let found: Vec<(&Word, String, f32)> = row(cols.policy.1 - lh, cols.limits)
            .into_iter()
            .flat_map(|w| dates(&w.text).into_iter().map(move |(d, f)| (w, d, f)))
            .collect();
        for ((w, d, f), name) in found.iter().zip(["effective", "expiry"]) {
            out.read(
                format!("{key}.{name}"),
                d.clone(),
                form.spot(&[w]).expect("word"),
                *f,
            );
        }
        let limits = row(cols.limits, form.right + lh);
        if let Some(spot) = form.spot(&limits) {
            out.read(format!("{key}.limits"), join(&limits), spot, 1.0);
        }
    }
}

fn section(form: &Form, cols: &Columns, s: &Section, out: &mut Fields) {
    let lh = form.lh;
    let key = s.coverage.key;
    let band = |x0: f32, x1: f32| words_in(form.page, Rect::new(x0, s.top, x1, s.bottom), &[]);
    // Policy numbers: one per line of the policy column (an excess layer adds a second).
    let mut policies: Vec<(String, Vec<&Word>)> = Vec::new();
    for l in lines(band(cols.policy.0, cols.policy.1)) {
        let ws: Vec<&Word> = l
            .words
            .iter()
            .copied()
            .filter(|w| {
                dates(&w.text).is_empty()
                    && !is_mark(&w.text)
                    && !matches!(w.text.as_str(), "N/A" | "Y/N" | "$")
            })
            .collect();
        let joined: String = ws
            .iter()
            .map(|w| w.text.trim_matches(|c: char| matches!(c, '|' | '[' | ']')))
            .collect();
        if POLICY.is_match(&joined) && joined.chars().filter(char::is_ascii_digit).count() >= 3 {
            policies.push((joined, ws));
        }
    }
    let main_y = policies.first().map(|(_, ws)| ws[0].rect.cy());
    let nearest = |ws: &[&Word]| -> Option<usize> {
        let y = main_y?;
        (0..ws.len()).min_by(|a, b| {
            (ws[*a].rect.cy() - y)
                .abs()
                .total_cmp(&(ws[*b].rect.cy() - y).abs())
        })
    };
    // Insurer letters in the INSR LTR column.
    let letters: Vec<&Word> = band(cols.ltr.0, cols.ltr.1)
        .into_iter()
        .filter(|w| insurer_letter(w).is_some())
        .collect();
    let mut letters_left = letters.clone();
    if let Some((number, ws)) = policies.first() {
        out.read(
            format!("{key}.policy_number"),
            number.clone(),
            form.spot(ws).expect("words"),
            1.0,
        );
    }
    if let Some(i) = nearest(&letters_left).or(if main_y.is_none() && letters_left.len() == 1 {
        Some(0)
    } else {
        None
    }) {
        let w = letters_left.remove(i);
        read_letter(form, out, key, w);
    }
    // Further layers: each with the letter nearest to it.
    for (n, (number, ws)) in policies.iter().enumerate().skip(1) {
        let layer = format!("{key}.layer_{}", n + 1);
        out.read(
            format!("{layer}.policy_number"),
            number.clone(),
            form.spot(ws).expect("words"),
            1.0,
        );
        let y = ws[0].rect.cy();
        if let Some(i) = (0..letters_left.len()).min_by(|a, b| {
            (letters_left[*a].rect.cy() - y)
                .abs()
                .total_cmp(&(letters_left[*b].rect.cy() - y).abs())
        }) {
            let w = letters_left.remove(i);
            read_letter(form, out, &layer, w);
        }
    }
    // Dates: nearest to the policy line, in the column whose header is nearest.
    let mut eff: Vec<(&Word, String, f32)> = Vec::new();
    let mut exp: Vec<(&Word, String, f32)> = Vec::new();
    let half = (cols.exp - cols.eff).abs().max(4.0 * lh);
    for w in band(cols.policy.1 - lh, cols.exp + half) {
        for (i, (d, f)) in dates(&w.text).into_iter().enumerate() {
            let x = w.rect.cx();
            let to_eff = (x - cols.eff).abs() < (x - cols.exp).abs() && i == 0;
            if to_eff {
                eff.push((w, d, f))
            } else {
                exp.push((w, d, f))
            }
        }
    }
    for (name, found) in [("effective", eff), ("expiry", exp)] {
        let ws: Vec<&Word> = found.iter().map(|(w, _, _)| *w).collect();
        let pick = nearest(&ws).or(if found.len() == 1 { Some(0) } else { None });
        if let Some(i) = pick {
            let (w, d, f) = &found[i];
            out.read(
                format!("{key}.{name}"),
                d.clone(),
                form.spot(&[w]).expect("word"),
                *f,
            );
        }
    }
    // ADDL INSD and SUBR WVD.
    for (name, col) in [
        ("additional_insured", cols.addl),
        ("subrogation_waived", cols.subr),
    ] {
        let ws: Vec<&Word> = band(col.0, col.1)
            .into_iter()
            .filter(|w| matches!(w.text.trim(), "Y" | "N" | "X" | "x" | "✖" | "✔" | "☒"))
            .collect();
        if let Some(i) = nearest(&ws).or(if ws.len() == 1 { Some(0) } else { None }) {
            let v = if ws[i].text.trim() == "N" { "N" } else { "Y" };
            out.read(
                format!("{key}.{name}"),
                v,
                form.spot(&[ws[i]]).expect("word"),
                1.0,
            );
        }
    }
    if key == "general_liability" {
        occurrence(form, cols, s, out);
    }
    if key == "umbrella" {
        retention(form, cols, s, out);
    }
    limits(form, cols, s, out);
}

/// The insurer letter a word in the `INSR LTR` column is (`A`–`F`, OCR's brackets aside).
fn insurer_letter(w: &Word) -> Option<&str> {
    let t = w.text.trim_matches(|c: char| !c.is_alphanumeric());
    (t.len() == 1 && "ABCDEF".contains(t)).then_some(t)
}

/// Records `w` as the insurer letter of `key`, with the insurer's name and NAIC.
fn read_letter(form: &Form, out: &mut Fields, key: &str, w: &Word) {
    let Some(letter) = insurer_letter(w) else {
        return;
    };
    let spot = form.spot(&[w]).expect("word");
    resolve_insurer(out, key, letter, spot);
    out.read(format!("{key}.insurer"), letter, spot, 1.0);
}

fn resolve_insurer(out: &mut Fields, key: &str, letter: &str, spot: Spot) {
    let l = letter.to_ascii_lowercase();
    let name = out.0.get(&format!("insurer_{l}.name")).cloned();
    let naic = out.0.get(&format!("insurer_{l}.naic")).cloned();
    if let Some(n) = name {
        out.read(format!("{key}.insurer_name"), n.value, spot, n.confidence);
    }
    if let Some(n) = naic {
        out.read(format!("{key}.insurer_naic"), n.value, spot, n.confidence);
    }
}

/// Occurrence or claims-made: which of the two boxes is ticked.
fn occurrence(form: &Form, cols: &Columns, s: &Section, out: &mut Fields) {
    let lh = form.lh;
    let words = words_in(
        form.page,
        Rect::new(cols.ltr.0, s.top, cols.addl.0, s.bottom),
        &[],
    );
    let ls = lines(words.iter().copied());
    for (label, value) in [("CLAIMS MADE", "claims_made"), ("OCCUR", "occurrence")] {
        for m in find(&ls, label) {
            let ticked = words.iter().find(|w| {
                is_mark(&w.text)
                    && w.rect.v_overlap(&m.rect) >= 0.5
                    && w.rect.x1 <= m.rect.x0 + 0.5
                    && m.rect.x0 - w.rect.x1 < 2.5 * lh
            });
            if let Some(t) = ticked {
                out.read(
                    "general_liability.basis",
                    value,
                    form.spot(&[t]).expect("word"),
                    0.95,
                );
            }
        }
    }
}

/// An umbrella's retention (`DED` / `RETENTION $ 10,000`).
fn retention(form: &Form, cols: &Columns, s: &Section, out: &mut Fields) {
    let words = words_in(
        form.page,
        Rect::new(cols.ltr.0, s.top, cols.policy.0, s.bottom),
        &[],
    );
    let ls = lines(words.iter().copied());
    if let Some(m) = find(&ls, "RETENTION").into_iter().next() {
        let after: Vec<&Word> = words
            .iter()
            .copied()
            .filter(|w| w.rect.v_overlap(&m.rect) >= 0.5 && w.rect.x0 >= m.rect.x1 - 0.5)
            .collect();
        let text = format!("{} {}", m.rest, join(&after));
        if let Some((v, f)) = money(&text) {
            out.read(
                "umbrella.retention",
                v,
                form.spot(&after).unwrap_or(Spot {
                    page: form.page.number,
                    rect: m.rect,
                    confidence: 0.99,
                }),
                f,
            );
        }
    }
}

/// A run of words on one line that reads as an amount (or `Included` / `Excluded`).
fn flush<'w>(run: &mut Vec<&'w Word>, amounts: &mut Vec<(String, Vec<&'w Word>, f32)>) {
    if run.is_empty() {
        return;
    }
    let text = join(run);
    let sq = squash(&text);
    if let Some((v, f)) = money(&text).filter(|(v, _)| v.len() >= 3) {
        amounts.push((v, run.clone(), f));
    } else if sq.starts_with("INCL") {
        amounts.push(("Included".into(), run.clone(), 1.0));
    } else if sq.starts_with("EXCL") {
        amounts.push(("Excluded".into(), run.clone(), 1.0));
    }
    run.clear();
}

/// A limit label's cell: the label's lines, and the field it fills (None for labels we
/// don't keep, which still own their amounts).
struct Cell<'a> {
    field: Option<&'static str>,
    rect: Rect,
    amount: Option<(String, Vec<&'a Word>, f32)>,
}

fn limits(form: &Form, cols: &Columns, s: &Section, out: &mut Fields) {
    let lh = form.lh;
    let words = words_in(
        form.page,
        Rect::new(cols.limits, s.top, form.right + lh, s.bottom),
        &[],
    );
    let amount_like = |w: &Word| {
        let t = w.text.trim();
        t == "$"
            || t.chars().any(|c| c.is_ascii_digit())
            || matches!(
                squash(t).as_str(),
                "INCLUDED" | "INCL" | "EXCLUDED" | "EXCL"
            )
    };
    // A date that reaches past its column is not a limit.
    let words: Vec<&Word> = words
        .into_iter()
        .filter(|w| dates(&w.text).is_empty())
        .collect();
    // Label lines, top to bottom; a line that starts no known label continues the one above
    // when it is right below it.
    let label_words: Vec<&Word> = words.iter().copied().filter(|w| !amount_like(w)).collect();
    let mut cells: Vec<Cell> = Vec::new();
    let mut last_known: Option<usize> = None;
    let label_lines = lines(label_words.iter().copied());
    let mut i = 0;
    while i < label_lines.len() {
        let l = &label_lines[i];
        let sq = squash(&l.plain());
        let mut matched = limit_label(&sq, s.coverage.limits);
        let mut rect = l.rect;
        if matched == Match2::Ambiguous
            && let Some(next) = label_lines.get(i + 1)
        {
            let joined = format!("{sq}{}", squash(&next.plain()));
            matched = limit_label(&joined, s.coverage.limits);
            rect = rect.union(&next.rect);
            i += 1;
        }
        match matched {
            Match2::One(field) => {
                cells.push(Cell {
                    field: Some(field),
                    rect,
                    amount: None,
                });
                last_known = Some(cells.len() - 1);
            }
            _ => {
                let continues = last_known
                    .map(|k| &cells[k])
                    .is_some_and(|c| l.rect.y0 - c.rect.y1 < 0.6 * lh && !starts_label(&sq));
                if continues {
                    let k = last_known.expect("checked");
                    cells[k].rect = cells[k].rect.union(&l.rect);
                } else if sq.chars().any(|c| c.is_ascii_alphabetic()) {
                    cells.push(Cell {
                        field: None,
                        rect,
                        amount: None,
                    });
                    last_known = None;
                }
            }
        }
        i += 1;
    }
    // Amounts: numbers (with `$` and separators as printed) right of the label column.
    let mut amounts: Vec<(String, Vec<&Word>, f32)> = Vec::new();
    for l in lines(words.iter().copied().filter(|w| amount_like(w))) {
        let mut run: Vec<&Word> = Vec::new();
        for w in &l.words {
            if run.last().is_some_and(|p| w.rect.x0 - p.rect.x1 > 1.2 * lh) {
                flush(&mut run, &mut amounts);
            }
            run.push(w);
        }
        flush(&mut run, &mut amounts);
    }
    // On the cell's own lines first; then a stray amount goes to the nearest empty cell
    // within a line and a half (agency systems push amounts a line up or down).
    let mut stray = Vec::new();
    for a in amounts {
        let y = a.1[0].rect.cy();
        let home = (0..cells.len())
            .filter(|k| y >= cells[*k].rect.y0 - 0.3 * lh && y <= cells[*k].rect.y1 + 0.3 * lh)
            .min_by(|p, q| {
                (cells[*p].rect.cy() - y)
                    .abs()
                    .total_cmp(&(cells[*q].rect.cy() - y).abs())
            });
        match home {
            Some(k) if cells[k].amount.is_none() => cells[k].amount = Some(a),
            _ => stray.push(a),
        }
    }
    for a in stray {
        let y = a.1[0].rect.cy();
        let near = (0..cells.len())
            .filter(|k| cells[*k].amount.is_none())
            .filter(|k| {
                let c = &cells[*k].rect;
                (y - c.y1).abs().min((c.y0 - y).abs()) < 1.5 * lh
            })
            .min_by(|p, q| {
                (cells[*p].rect.cy() - y)
                    .abs()
                    .total_cmp(&(cells[*q].rect.cy() - y).abs())
            });
        if let Some(k) = near {
            let (v, ws, f) = a;
            cells[k].amount = Some((v, ws, f * 0.95));
        }
    }
    for c in cells {
        if let (Some(field), Some((v, ws, f))) = (c.field, c.amount) {
            out.read(
                format!("{}.{field}", s.coverage.key),
                v,
                form.spot(&ws).expect("words"),
                f,
            );
        }
    }
}

#[derive(Debug, PartialEq)]
enum Match2 {
    None,
    One(&'static str),
    /// The line is the start of more than one label ("BODILY INJURY (Per").
    Ambiguous,
}

/// Which of `limits` a label line reads as: the longest label the line starts with, or the
/// one label the line is the beginning of.
fn limit_label(line: &str, limits: &[(&'static str, &'static str)]) -> Match2 {
    let mut full: Vec<(usize, &'static str)> = limits
        .iter()
        .filter_map(|(label, field)| {
            let l = squash(label);
            let n = l.len().min(line.len());
            (line.len() >= l.len() && reads_as(&line[..n], &l)).then_some((l.len(), *field))
        })
        .collect();
    full.sort_by_key(|(n, _)| std::cmp::Reverse(*n));
    if let Some((_, f)) = full.first() {
        return Match2::One(f);
    }
    if line.len() < 6 {
        return Match2::None;
    }
    let partial: Vec<&'static str> = limits
        .iter()
        .filter(|(label, _)| {
            let l = squash(label);
            l.len() > line.len() && reads_as(line, &l[..line.len()])
        })
        .map(|(_, f)| *f)
        .collect();
    match partial.as_slice() {
        [] => Match2::None,
        [one] => Match2::One(one),
        _ => Match2::Ambiguous,
    }
}

/// Whether a line begins a limit label of any coverage (so it is not a continuation).
fn starts_label(line: &str) -> bool {
    COVERAGES
        .iter()
        .any(|c| limit_label(line, c.limits) != Match2::None)
        || [
            "PERSTATUTE",
            "OTHER",
            "OTH",
            "PREMISESOPERATIONS",
            "EMPLOYEEBENEFITS",
            "CAPP",
        ]
        .iter()
        .any(|l| line.starts_with(l))
}

/// The remarks under `DESCRIPTION OF OPERATIONS / LOCATIONS / VEHICLES (…)`: after the
/// heading on its own line, and the lines below it up to the holder's box.
fn description_block(form: &Form, heading: &Match, bottom: f32, out: &mut Fields) {
    let lh = form.lh;
    let mut beside = right_of(form.page, &heading.rect, form.right + lh);
    // The printed rest of the heading ("/ LOCATIONS / VEHICLES (ACORD 101, … required)").
    if squash(&join(&beside)).starts_with("LOCATIONS") {
        let end = beside
            .iter()
            .position(|w| w.text.ends_with(')'))
            .map_or(beside.len(), |i| i + 1);
        beside.drain(..end);
    }
    let below = words_in(
        form.page,
        Rect::new(
            form.left - lh,
            heading.rect.y1,
            form.right + lh,
            bottom - 0.2 * lh,
        ),
        &[],
    )
    .into_iter()
    .filter(|w| w.rect.v_overlap(&heading.rect) < 0.3);
    let mut words: Vec<&Word> = beside;
    if !heading.rest.is_empty() {
        words.insert(0, heading.words[heading.words.len() - 1]);
    }
    words.extend(below);
    let text: Vec<String> = lines(words.iter().copied())
        .iter()
        .map(|l| l.plain())
        .collect();
    if let Some(spot) = form.spot(&words) {
        out.read("description_of_operations", text.join(" "), spot, 1.0);
    }
}

/// The holder's box; a template's placeholder holder is a problem, not a value.
fn holder_block(form: &Form, label: &Match, out: &mut Fields, problems: &mut Vec<FieldProblem>) {
    let lh = form.lh;
    let right_col = [
        "CANCELLATION",
        "AUTHORIZED REPRESENTATIVE",
        "SHOULD ANY OF THE ABOVE",
    ]
    .iter()
    .filter_map(|p| {
        first(form.find(p), |m| {
            m.rect.x0 > label.rect.x1 && m.rect.y1 > label.rect.y0 - lh
        })
    })
    .map(|m| m.rect.x0)
    .fold(form.mid, f32::min);
    let footer = form
        .find("ACORD 25")
        .into_iter()
        .chain(form.find("ACORD CORPORATION"))
        .filter(|m| m.rect.y0 > label.rect.y1)
        .map(|m| m.rect.y0)
        .fold(form.page.height, f32::min);
    let region = Rect::new(
        form.left - lh,
        label.rect.y0 - 0.3 * lh,
        right_col - 0.5 * lh,
        footer - 0.2 * lh,
    );
    let b = block(form, region, &label.words);
    for w in &b.phones {
        out.read(
            "certificate_holder_phone",
            w.text.clone(),
            form.spot(&[w]).expect("word"),
            1.0,
        );
    }
    for w in &b.emails {
        out.read(
            "certificate_holder_email",
            w.text.clone(),
            form.spot(&[w]).expect("word"),
            1.0,
        );
    }
    if b.lines.is_empty() {
        return;
    }
    let placeholder = b.lines.iter().take(3).all(|l| {
        matches!(
            squash(&join(l)).as_str(),
            "NAME" | "ADDRESS" | "STATECITYZIPCODE" | "CITYSTATEZIPCODE" | "ADDRESS2"
        )
    });
    if placeholder {
        let all: Vec<&Word> = b.lines.iter().flat_map(|l| l.iter().copied()).collect();
        let spot = form.spot(&all).expect("words");
        problems.push(
            FieldProblem::new(
                "certificate_holder",
                "placeholder",
                "The certificate holder is a template's placeholder (NAME / ADDRESS), not a real holder. Ask your agent to issue the certificate to the marketplace.",
            )
            .at(spot.page, spot.rect),
        );
        return;
    }
    name_and_address(
        form,
        &b.lines,
        "certificate_holder",
        "certificate_holder_address",
        out,
    );
}

/// `SAMPLE` / `EXAMPLE` printed big or across the form: a specimen, not proof of coverage.
fn sample_marks(form: &Form, problems: &mut Vec<FieldProblem>) {
    let big = 1.8 * form.lh;
    let mark = form.page.words.iter().find(|w| {
        let t = squash(&w.text);
        (t == "SAMPLE" || t == "EXAMPLE" || t == "SPECIMEN")
            && (w.rect.height() >= big || w.rect.width() >= 6.0 * big)
    });
    if let Some(w) = mark {
        problems.push(
            FieldProblem::new(
                "document",
                "sample_document",
                "This is a sample certificate (marked SAMPLE or EXAMPLE), not proof of your coverage. Upload the certificate your agent issued to you.",
            )
            .at(form.page.number, w.rect),
        );
    }
}
