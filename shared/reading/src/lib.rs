//! Reading documents as forms. Readers (a PDF's text layer, OCR) give a [`page::Page`] of
//! words with boxes; this crate finds which pages are the declared form and reads its fields
//! by where they are printed: ACORD 25 certificates ([`acord25`]), W-9s ([`w9`]) and license
//! cards ([`license`]). Every field keeps its page and box, so a reviewer can be shown the
//! spot; every problem says what was looked for and where.

pub mod acord25;
pub mod classify;
pub mod fields;
pub mod layout;
pub mod license;
pub mod page;
pub mod text;
pub mod w9;

pub use classify::FormKind;
pub use fields::{ExtractedField, Extraction, FieldProblem, Fields, MIN_CONFIDENCE, PageUsed};
pub use page::{HiddenText, Page, ReadDocument, ReadMethod, Rect, Word};
pub use text::canonical;

/// Extracts the fields of `kind` from `doc`: the page (of a packet, the best page) that is
/// that form is read; missing and doubtful required fields, hidden text and a file that is
/// another kind of document become problems.
pub fn extract(kind: FormKind, doc: &ReadDocument) -> Extraction {
    let mut out = Fields::default();
    let mut problems = Vec::new();
    let chosen = choose_page(kind, doc);
    let used: Vec<&Page> = chosen.iter().map(|i| &doc.pages[*i]).collect();
    if kind != FormKind::PhotoId && doc.visible_chars() < 20 {
        problems.push(FieldProblem::new(
            "document",
            "no_text",
            "We could not read any text in this file. Upload the PDF from the issuer or a sharp, well-lit photo of the whole page.",
        ));
    } else if kind != FormKind::PhotoId && used.is_empty() {
        let other = doc.pages.iter().find_map(classify::classify);
        problems.push(FieldProblem::new(
            "document",
            "kind_not_found",
            match other {
                Some(o) => format!(
                    "This file looks like {}, not {}. Upload {} here.",
                    o.described(),
                    kind.described(),
                    kind.described()
                ),
                None => format!("We could not find {} in this file.", kind.described()),
            },
        ));
    } else {
        for page in &used {
            match kind {
                FormKind::InsuranceCertificate => acord25::read(page, &mut out, &mut problems),
                FormKind::License => license::read(page, &mut out),
                FormKind::W9 => w9::read(page, &mut out),
                FormKind::PhotoId => {}
            }
        }
        let method = ReadDocument::method_of(&used);
        for (field, what, where_) in required(kind) {
            let looked = format!("We looked for {what} {where_}");
            let fix = match method {
                ReadMethod::TextLayer => {
                    "and did not find it: check with the issuer that it is filled in."
                }
                ReadMethod::Ocr => {
                    "and could not read it: if it is printed there, upload the original PDF or a sharper photo of the whole page."
                }
            };
            match out.0.get(*field) {
                None => problems.push(FieldProblem::new(
                    field,
                    "missing",
                    format!("{looked} {fix}"),
                )),
                Some(f) if f.confidence < MIN_CONFIDENCE => {
                    let p = FieldProblem::new(
                        field,
                        "low_confidence",
                        format!(
                            "{what} is hard to read {where_}: upload the original PDF or a sharper photo of the whole page."
                        ),
                    );
                    problems.push(match (f.page, f.rect) {
                        (Some(page), Some(rect)) => p.at(page, rect),
                        _ => p,
                    })
                }
                Some(_) => {}
            }
        }
    }
    for h in doc
        .hidden
        .iter()
        .filter(|h| used.iter().any(|p| p.number == h.page))
    {
        let field = out
            .0
            .iter()
            .find(|(_, f)| {
                f.page == Some(h.page) && f.rect.is_some_and(|r| r.area_overlap(&h.rect) > 0.3)
            })
            .map_or("document".to_owned(), |(k, _)| k.clone());
        let shown = h
            .shown
            .as_deref()
            .map_or(String::new(), |s| format!(" under “{s}”"));
        problems.push(
            FieldProblem::new(
                &field,
                "possible_alteration",
                format!(
                    "The file hides text that the page does not show (“{}”{shown}): it may have been edited after it was issued. A reviewer will compare it with the original.",
                    h.text
                ),
            )
            .at(h.page, h.rect),
        );
    }
    Extraction {
        method: ReadDocument::method_of(&used),
        fields: out.0,
        problems,
        pages: used.iter().map(|p| fields::PageUsed::of(p)).collect(),
        page_count: (doc.page_count > 0).then_some(doc.page_count),
    }
}

/// The page to read: the one that reads most as `kind`; a page no kind claims when none
/// does (a photo of a card may say little); none when the file is plainly something else.
fn choose_page(kind: FormKind, doc: &ReadDocument) -> Vec<usize> {
    if kind == FormKind::PhotoId {
        return vec![];
    }
    let kinds: Vec<Option<FormKind>> = doc.pages.iter().map(classify::classify).collect();
    let score = |i: usize| {
        classify::scores(&doc.pages[i])
            .into_iter()
            .find(|(k, _)| *k == kind)
            .map_or(0, |(_, n)| n)
    };
    let best = |ids: Vec<usize>| {
        ids.into_iter()
            .max_by(|a, b| score(*a).cmp(&score(*b)).then(b.cmp(a)))
    };
    let declared: Vec<usize> = (0..kinds.len())
        .filter(|i| kinds[*i] == Some(kind))
        .collect();
    if let Some(i) = best(declared) {
        return vec![i];
    }
    let unclaimed: Vec<usize> = (0..kinds.len()).filter(|i| kinds[*i].is_none()).collect();
    best(unclaimed).map_or(vec![], |i| vec![i])
}

/// Fields each kind must yield, how to name them to a person, and where on the form they
/// are printed.
pub fn required(kind: FormKind) -> &'static [(&'static str, &'static str, &'static str)] {
    match kind {
        FormKind::InsuranceCertificate => &[
            ("insured_name", "the insured's name", "in the INSURED box"),
            (
                "general_liability.policy_number",
                "the general liability policy number",
                "in the POLICY NUMBER column of the COMMERCIAL GENERAL LIABILITY row",
            ),
            (
                "general_liability.effective",
                "the general liability effective date",
                "in the POLICY EFF column of the COMMERCIAL GENERAL LIABILITY row",
            ),
            (
                "general_liability.expiry",
                "the general liability expiry date",
                "in the POLICY EXP column of the COMMERCIAL GENERAL LIABILITY row",
            ),
            (
                "general_liability.each_occurrence",
                "the general liability each-occurrence limit",
                "beside EACH OCCURRENCE in the LIMITS column",
            ),
            (
                "general_liability.general_aggregate",
                "the general liability aggregate limit",
                "beside GENERAL AGGREGATE in the LIMITS column",
            ),
        ],
        FormKind::License => &[
            (
                "licensee",
                "the licensee's name",
                "on the card (LICENSEE or ISSUED TO)",
            ),
            (
                "license_number",
                "the license number",
                "on the card (LICENSE NO or REGISTRATION NUMBER)",
            ),
            (
                "state",
                "the issuing state",
                "in the card's heading (STATE OF …, or the licensing agency's name)",
            ),
            (
                "expiry",
                "the license expiry date",
                "on the card (EXPIRES or EXPIRATION DATE)",
            ),
        ],
        FormKind::W9 => &[
            ("name", "the name", "on line 1 (Name of entity/individual)"),
            (
                "tax_classification",
                "the federal tax classification",
                "among the boxes of line 3",
            ),
            (
                "tin",
                "the taxpayer identification number",
                "in the SSN or EIN boxes of Part I",
            ),
        ],
        FormKind::PhotoId => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::page::{HiddenText, Rect};

    fn doc(pages: &[&str], method: ReadMethod, confidence: f32) -> ReadDocument {
        ReadDocument {
            pages: pages
                .iter()
                .enumerate()
                .map(|(i, t)| Page {
                    number: i as u32 + 1,
                    ..Page::laid_out(t, method, confidence)
                })
                .collect(),
            page_count: pages.len() as u32,
            hidden: vec![],
        }
    }

    fn value<'a>(x: &'a Extraction, k: &str) -> Option<&'a str> {
        x.fields.get(k).map(|f| f.value.as_str())
    }

    const COI_LAYOUT: &str = "\
CERTIFICATE OF LIABILITY INSURANCE                                  DATE (MM/DD/YYYY) 11/08/2026
PRODUCER Copperline Agency Inc                                      INSURER(S) AFFORDING COVERAGE             NAIC #
INSURED Aurora Displays Corp                                        INSURER A : Keystone General Insurance    35092
      3758 Mill Rd                                                  INSURER B : Cobalt Surety Company         14780
      Austin, TX 78789                                              INSURER C : Summit Specialty Insurance    26883
                                                                    INSURER D : Beacon Workers Assurance      19445
COVERAGES
LTR    TYPE OF INSURANCE                             ADDL     SUBR POLICY NUMBER       EFF          EXP           LIMITS
A      COMMERCIAL GENERAL LIABILITY                  Y        N       GL8400346        04/25/2026   04/25/2027    EACH OCCURRENCE      $1,000,000
                                                                                                                  GENERAL AGGREGATE $2,000,000
B      AUTOMOBILE LIABILITY                                           BA744039-20      04/25/2026   04/25/2027    COMBINED SINGLE LIMIT $500,000
C      UMBRELLA LIAB OCCUR                                            UMB401193        04/25/2026   04/25/2027    EACH OCCURRENCE      $1,000,000
                                                                                                                  AGGREGATE            $5,000,000
D      WORKERS COMPENSATION                                           WC11542004       04/25/2026   04/25/2027    E.L. EACH ACCIDENT   $1,000,000
       DESCRIPTION OF OPERATIONS below
B      INLAND MARINE                                                  IM5521007        04/25/2026   04/25/2027    LEASED EQUIP $50,000
DESCRIPTION OF OPERATIONS: Holiday lighting installation.
CERTIFICATE HOLDER Holiday Lights Marketplace Inc
         500 Market St Suite 300                                                       AUTHORIZED REPRESENTATIVE";

    #[test]
    fn certificate_from_a_text_layer() {
        let x = extract(
            FormKind::InsuranceCertificate,
            &doc(&[COI_LAYOUT], ReadMethod::TextLayer, 0.99),
        );
        let v = |k: &str| value(&x, k);
        assert_eq!(v("certificate_date"), Some("2026-11-08"));
        assert_eq!(v("producer"), Some("Copperline Agency Inc"));
        assert_eq!(v("insured_name"), Some("Aurora Displays Corp"));
        assert_eq!(v("insured_address"), Some("3758 Mill Rd, Austin, TX 78789"));
        assert_eq!(v("insurer_a.name"), Some("Keystone General Insurance"));
        assert_eq!(v("insurer_d.naic"), Some("19445"));
        assert_eq!(v("general_liability.insurer"), Some("A"));
        assert_eq!(
            v("general_liability.insurer_name"),
            Some("Keystone General Insurance")
        );
        assert_eq!(v("general_liability.policy_number"), Some("GL8400346"));
        assert_eq!(v("general_liability.effective"), Some("2026-04-25"));
        assert_eq!(v("general_liability.expiry"), Some("2027-04-25"));
        assert_eq!(v("general_liability.each_occurrence"), Some("1000000"));
        assert_eq!(v("general_liability.general_aggregate"), Some("2000000"));
        assert_eq!(v("general_liability.additional_insured"), Some("Y"));
        assert_eq!(v("general_liability.subrogation_waived"), Some("N"));
        assert_eq!(v("auto.combined_single_limit"), Some("500000"));
        assert_eq!(v("umbrella.aggregate"), Some("5000000"));
        assert_eq!(v("umbrella.each_occurrence"), Some("1000000"));
        assert_eq!(v("workers_comp.each_accident"), Some("1000000"));
        assert_eq!(v("workers_comp.policy_number"), Some("WC11542004"));
        assert_eq!(v("umbrella.insurer"), Some("C"));
        assert_eq!(
            v("certificate_holder"),
            Some("Holiday Lights Marketplace Inc")
        );
        assert_eq!(
            v("description_of_operations"),
            Some("Holiday lighting installation.")
        );
        assert!(x.problems.is_empty(), "{:?}", x.problems);
        // Every field says where it was read.
        let f = &x.fields["general_liability.policy_number"];
        assert_eq!(f.page, Some(1));
        let r = f.rect.unwrap();
        assert_eq!(r, Rect::new(360.0, 100.0, 405.0, 108.0));
        assert_eq!(x.pages.len(), 1);
    }

    /// How agency systems lay the table out: values a line below their labels, limits
    /// without separators, an amount pushed under its label, an excess layer with its own
    /// letter and policy, a policy that starts after the certificate date, `Included`.
    #[test]
    fn certificate_as_agency_systems_lay_it_out() {
        let layout = "
                                                                                                                  DATE (MM/DD/YYYY)
CERTIFICATE OF LIABILITY INSURANCE                                                                                1/7/2025
PRODUCER                                                                          CONTACT NAME: IPTSERVICE
Insurance Professionals of Tennessee                                              PHONE (A/C, No, Ext): (615)324-0500     FAX (A/C, No): (615)823-6900
1612 Westgate Circle                                                              E-MAIL ADDRESS: service@go-ipt.com
Brentwood            TN 37027                                                     INSURER(S) AFFORDING COVERAGE              NAIC #
INSURED                                                                           INSURER A : OWNERS                         32700
Jeremy Byrd DBA X-Stream Cleaning                                                 INSURER B : Auto-Owners                    18988
184 Irvin Rd                                                                      INSURER C : Lexington Insurance Company    19437
La Vergne            TN     37086-3370                                            INSURER D :
COVERAGES                       CERTIFICATE NUMBER: CL251750113                                  REVISION NUMBER:
INSR                                   ADDL SUBR                          POLICY EFF   POLICY EXP
 LTR      TYPE OF INSURANCE            INSD WVD     POLICY NUMBER        (MM/DD/YYYY) (MM/DD/YYYY)     LIMITS
     X COMMERCIAL GENERAL LIABILITY                                                                    EACH OCCURRENCE            $ 1000000
         CLAIMS-MADE   X OCCUR                                                                         DAMAGE TO RENTED
 A                                     X    X                                                          PREMISES (Ea occurrence)   $ 300,000
                                                    03665020              2/2/2025     2/2/2026       MED EXP (Any one person)   $ 10,000
                                                                                                       PERSONAL & ADV INJURY      $ 1,000,000
     GEN'L AGGREGATE LIMIT APPLIES PER:                                                                GENERAL AGGREGATE          $ 2,000,000
                                                                                                                                    2,000,000
                                                                                                       PRODUCTS - COMP/OP AGG     $
     AUTOMOBILE LIABILITY                                                                              COMBINED SINGLE LIMIT
                                                                                                       (Ea accident)
                                                                                                                                  $ 1,000,000
 B        ANY AUTO                                  4666502002            2/2/2025     2/2/2026       BODILY INJURY (Per person) $ Included
 B   X UMBRELLA LIAB       OCCUR                    4666502003            2/2/2025     2/2/2026       EACH OCCURRENCE            $ 2,000,000
 C       EXCESS LIAB        CLAIMS-MADE             CXS4071612                                        AGGREGATE                  $ 2,000,000
         DED  X RETENTION $ 10,000
     WORKERS COMPENSATION
 A   AND EMPLOYERS' LIABILITY     Y/N               A106575475            2/2/2025     2/2/2026       E.L. EACH ACCIDENT         $ 1,000,000
DESCRIPTION OF OPERATIONS / LOCATIONS / VEHICLES
CERTIFICATE HOLDER                                                                CANCELLATION
(615)459-6753          butlerhomes14@gmail.com
      Butler Homes LLC                                                              SHOULD ANY OF THE ABOVE DESCRIBED POLICIES BE CANCELLED BEFORE
      8181 Rocky Fork Road
      Smyrna, TN 37167                                                            AUTHORIZED REPRESENTATIVE
ACORD 25 (2014/01)";
        let x = extract(
            FormKind::InsuranceCertificate,
            &doc(&[layout], ReadMethod::TextLayer, 0.99),
        );
        let v = |k: &str| value(&x, k);
        assert_eq!(v("certificate_date"), Some("2025-01-07"));
        assert_eq!(v("certificate_number"), Some("CL251750113"));
        assert_eq!(v("revision_number"), None);
        assert_eq!(v("producer"), Some("Insurance Professionals of Tennessee"));
        assert_eq!(v("producer_contact"), Some("IPTSERVICE"));
        assert_eq!(v("producer_email"), Some("service@go-ipt.com"));
        assert_eq!(v("producer_fax"), Some("(615)823-6900"));
        assert_eq!(v("insured_name"), Some("Jeremy Byrd DBA X-Stream Cleaning"));
        assert_eq!(
            v("insured_address"),
            Some("184 Irvin Rd, La Vergne TN 37086-3370")
        );
        assert_eq!(v("general_liability.insurer"), Some("A"));
        assert_eq!(v("general_liability.insurer_naic"), Some("32700"));
        assert_eq!(v("general_liability.policy_number"), Some("03665020"));
        assert_eq!(v("general_liability.effective"), Some("2025-02-02"));
        assert_eq!(v("general_liability.each_occurrence"), Some("1000000"));
        assert_eq!(
            v("general_liability.damage_to_rented_premises"),
            Some("300000")
        );
        assert_eq!(v("general_liability.general_aggregate"), Some("2000000"));
        assert_eq!(v("general_liability.products_comp_op_agg"), Some("2000000"));
        assert_eq!(v("general_liability.additional_insured"), Some("Y"));
        assert_eq!(v("general_liability.basis"), Some("occurrence"));
        assert_eq!(v("auto.combined_single_limit"), Some("1000000"));
        assert_eq!(v("auto.bodily_injury_per_person"), Some("Included"));
        assert_eq!(v("umbrella.insurer"), Some("B"));
        assert_eq!(v("umbrella.policy_number"), Some("4666502003"));
        assert_eq!(v("umbrella.layer_2.insurer"), Some("C"));
        assert_eq!(v("umbrella.layer_2.policy_number"), Some("CXS4071612"));
        assert_eq!(
            v("umbrella.layer_2.insurer_name"),
            Some("Lexington Insurance Company")
        );
        assert_eq!(v("umbrella.retention"), Some("10000"));
        assert_eq!(v("workers_comp.policy_number"), Some("A106575475"));
        assert_eq!(v("workers_comp.each_accident"), Some("1000000"));
        assert_eq!(v("certificate_holder"), Some("Butler Homes LLC"));
        assert_eq!(
            v("certificate_holder_address"),
            Some("8181 Rocky Fork Road, Smyrna, TN 37167")
        );
        assert_eq!(
            v("certificate_holder_email"),
            Some("butlerhomes14@gmail.com")
        );
        assert!(x.problems.is_empty(), "{:?}", x.problems);
    }

    #[test]
    fn a_template_with_placeholders_is_not_read_as_issued() {
        let layout = "
                                                                  DATE (MM/DD/YYYY)
CERTIFICATE OF LIABILITY INSURANCE                                MM/DD/YYYY
INSURED Apogee HVAC Solutions LLC                                 INSURER A : MS Transverse   41807
CERTIFICATE HOLDER                                                CANCELLATION
      NAME
      ADDRESS
      STATE, CITY ZIP CODE";
        let d = doc(&[layout], ReadMethod::TextLayer, 0.99);
        let x = extract(FormKind::InsuranceCertificate, &d);
        assert_eq!(value(&x, "certificate_date"), None);
        assert_eq!(value(&x, "certificate_holder"), None);
        let placeholders: Vec<&str> = x
            .problems
            .iter()
            .filter(|p| p.code == "placeholder")
            .map(|p| p.field.as_str())
            .collect();
        assert_eq!(placeholders, ["certificate_date", "certificate_holder"]);
    }

    #[test]
    fn missing_and_doubtful_required_fields_say_what_was_looked_for_and_where() {
        let raw = "CERTIFICATE OF LIABILITY INSURANCE     PRODUCER   NAIC\nINSURED Aurora Displays Corp\nINSR LTR   TYPE OF INSURANCE   ADDL SUBR   POLICY NUMBER   POLICY EFF   POLICY EXP   LIMITS\nA          COMMERCIAL GENERAL LIABILITY        GL8400346       04/25/2026   04/25/2027   EACH OCCURRENCE $1,000,000";
        let x = extract(
            FormKind::InsuranceCertificate,
            &doc(&[raw], ReadMethod::Ocr, 0.5),
        );
        let codes: Vec<(&str, &str)> = x
            .problems
            .iter()
            .map(|p| (p.field.as_str(), p.code.as_str()))
            .collect();
        assert!(
            codes.contains(&("general_liability.general_aggregate", "missing")),
            "{codes:?}"
        );
        assert!(
            codes.contains(&("general_liability.expiry", "low_confidence")),
            "{codes:?}"
        );
        let missing = x
            .problems
            .iter()
            .find(|p| p.field == "general_liability.general_aggregate")
            .unwrap();
        assert!(
            missing
                .message
                .contains("beside GENERAL AGGREGATE in the LIMITS column"),
            "{}",
            missing.message
        );
        let doubtful = x
            .problems
            .iter()
            .find(|p| p.field == "general_liability.expiry")
            .unwrap();
        assert!(
            doubtful.rect.is_some(),
            "a doubtful field points at its spot"
        );
        // From a text layer, a missing field is not the photo's fault.
        let text = extract(
            FormKind::InsuranceCertificate,
            &doc(&[raw], ReadMethod::TextLayer, 0.99),
        );
        let m = text
            .problems
            .iter()
            .find(|p| p.field == "general_liability.general_aggregate")
            .unwrap();
        assert!(!m.message.contains("photo"), "{}", m.message);
    }

    #[test]
    fn no_text_is_one_clear_problem() {
        let x = extract(FormKind::W9, &doc(&[" \n ~ "], ReadMethod::Ocr, 0.2));
        assert_eq!(x.problems.len(), 1);
        assert_eq!(x.problems[0].code, "no_text");
    }

    #[test]
    fn a_packet_yields_the_declared_form_and_names_its_page() {
        let w9 = "Form W-9  Request for Taxpayer Identification Number and Certification\n1 Name of entity/individual: James Fairbanks\n3a Federal tax classification: [X] Partnership\nPart I Taxpayer Identification Number (TIN)\nEmployer identification number: 60-9802211";
        let x = extract(
            FormKind::InsuranceCertificate,
            &doc(
                &[w9, COI_LAYOUT, "Thank you for your business."],
                ReadMethod::TextLayer,
                0.99,
            ),
        );
        assert_eq!(x.pages.iter().map(|p| p.number).collect::<Vec<_>>(), [2]);
        assert_eq!(value(&x, "insured_name"), Some("Aurora Displays Corp"));
        assert_eq!(x.fields["insured_name"].page, Some(2));
        let y = extract(
            FormKind::W9,
            &doc(&[w9, COI_LAYOUT], ReadMethod::TextLayer, 0.99),
        );
        assert_eq!(y.pages[0].number, 1);
        assert_eq!(value(&y, "tin"), Some("60-9802211"));
    }

    #[test]
    fn another_kind_of_document_is_said_so() {
        let w9 = "Form W-9  Request for Taxpayer Identification Number and Certification\n1 Name of entity/individual: James Fairbanks\n3a Federal tax classification: [X] Partnership\nEmployer identification number: 60-9802211";
        let x = extract(
            FormKind::InsuranceCertificate,
            &doc(&[w9], ReadMethod::TextLayer, 0.99),
        );
        assert_eq!(x.problems.len(), 1);
        assert_eq!(x.problems[0].code, "kind_not_found");
        assert!(
            x.problems[0].message.contains("looks like a W-9"),
            "{}",
            x.problems[0].message
        );
        assert!(x.fields.is_empty());
    }

    #[test]
    fn hidden_text_under_a_field_is_a_possible_alteration_there() {
        let mut d = doc(&[COI_LAYOUT], ReadMethod::TextLayer, 0.99);
        let at = d.pages[0]
            .words
            .iter()
            .find(|w| w.text == "Keystone")
            .unwrap()
            .rect;
        d.hidden.push(HiddenText {
            page: 1,
            rect: Rect::new(at.x0, at.y0, at.x1, at.y1),
            text: "Shadow".into(),
            shown: Some("Keystone".into()),
        });
        let x = extract(FormKind::InsuranceCertificate, &d);
        let p = x
            .problems
            .iter()
            .find(|p| p.code == "possible_alteration")
            .expect("flagged");
        assert_eq!(p.field, "insurer_a.name");
        assert_eq!(p.page, Some(1));
        assert!(p.message.contains("Shadow"));
        assert_eq!(
            value(&x, "insurer_a.name"),
            Some("Keystone General Insurance"),
            "the visible value is read"
        );
    }

    #[test]
    fn license_card() {
        let raw = "STATE OF FLORIDA\nDepartment of Business and Professional Regulation\nLICENSEE: Aisha Holloway\nBUSINESS NAME: Radiant Illumination Co\nLICENSE No: EC13002308\nCLASSIFICATION: EC Electrical Contractor, ER Residential Electrical\nEXPIRES: 10/22/2028";
        let x = extract(FormKind::License, &doc(&[raw], ReadMethod::Ocr, 0.93));
        let v = |k: &str| value(&x, k);
        assert_eq!(v("licensee"), Some("Aisha Holloway"));
        assert_eq!(v("business_name"), Some("Radiant Illumination Co"));
        assert_eq!(v("license_number"), Some("EC13002308"));
        assert_eq!(v("state"), Some("FL"));
        assert_eq!(
            v("classifications"),
            Some("EC Electrical Contractor, ER Residential Electrical")
        );
        assert_eq!(v("expiry"), Some("2028-10-22"));
        assert!(x.problems.is_empty(), "{:?}", x.problems);
    }

    #[test]
    fn the_issuing_state_is_read_however_the_card_says_it() {
        for heading in [
            "State: TX",
            "Issuing State: TX",
            "Texas Department of Licensing and Regulation",
            "STATE OF TEXAS",
        ] {
            let raw = format!(
                "{heading}\nLICENSEE: Ana Ramos\nLICENSE No: TECL12345\nEXPIRES: 03/31/2027"
            );
            let x = extract(
                FormKind::License,
                &doc(&[&raw], ReadMethod::TextLayer, 0.99),
            );
            assert_eq!(value(&x, "state"), Some("TX"), "{heading}");
        }
        let raw = "Certificate of Registration\nRegistration Number ECR-2858889\nIssued To: Stephens Advanced LLC\nExpiration Date: 06 27 2025";
        let x = extract(FormKind::License, &doc(&[raw], ReadMethod::TextLayer, 0.99));
        assert_eq!(value(&x, "license_number"), Some("ECR-2858889"));
        assert_eq!(value(&x, "licensee"), Some("Stephens Advanced LLC"));
        assert_eq!(value(&x, "expiry"), Some("2025-06-27"));
    }

    #[test]
    fn w9_with_an_ein() {
        let raw = "Form W-9\n1 Name of entity/individual: James Fairbanks\n2 Business name/disregarded entity name: Evergreen Lights LLC\n3a Federal tax classification: [X] Limited liability company\n5 Address: 6980 Mill Rd\n6 City, state, and ZIP code: Dallas, TX 75271\nSocial security number:\nEmployer identification number: 60-98O2211";
        let x = extract(FormKind::W9, &doc(&[raw], ReadMethod::Ocr, 0.95));
        let v = |k: &str| value(&x, k);
        assert_eq!(v("name"), Some("James Fairbanks"));
        assert_eq!(v("business_name"), Some("Evergreen Lights LLC"));
        assert_eq!(v("tax_classification"), Some("Limited liability company"));
        assert_eq!(v("address"), Some("6980 Mill Rd, Dallas, TX 75271"));
        assert_eq!(v("tin_type"), Some("ein"));
        assert_eq!(v("tin"), Some("60-9802211"));
        assert!(x.fields["tin"].confidence < 0.95 * 0.8);
    }

    #[test]
    fn w9_with_an_ssn_and_s_corporation_is_not_c() {
        let raw = "Form W-9\nName of entity/individual: Maria Nguyen\nFederal tax classification: [X] S Corporation\nSocial security number: 123-45-6789";
        let x = extract(FormKind::W9, &doc(&[raw], ReadMethod::TextLayer, 0.99));
        assert_eq!(value(&x, "tax_classification"), Some("S Corporation"));
        assert_eq!(value(&x, "tin_type"), Some("ssn"));
        assert_eq!(value(&x, "tin"), Some("123-45-6789"));
    }

    /// A blank line is empty, not its label: the form's own words are never a value.
    #[test]
    fn a_label_is_never_a_value() {
        let raw = "
Form W-9     Request for Taxpayer Identification Number and Certification
        1 Name of entity/individual. An entry is required. (For a sole proprietor or disregarded entity, enter the owner's name on line 1, and enter the business/disregarded
          entity's name on line 2.)

        2 Business name/disregarded entity name, if different from above.

        3a Check the appropriate box for federal tax classification of the entity/individual whose name is entered on line 1. Check
           only one of the following seven boxes.
              Individual/sole proprietor     C corporation     S corporation     Partnership     Trust/estate
        5 Address (number, street, and apt. or suite no.). See instructions.
        6 City, state, and ZIP code";
        let x = extract(FormKind::W9, &doc(&[raw], ReadMethod::TextLayer, 0.99));
        assert!(x.fields.is_empty(), "{:?}", x.fields);
        let cert = "
CERTIFICATE OF LIABILITY INSURANCE
PRODUCER                                   CONTACT NAME: Dana Lee
                                           PHONE (A/C, No, Ext): 512-555-0100
INSURED                                    INSURER A : Keystone General   35092
COVERAGES";
        let y = extract(
            FormKind::InsuranceCertificate,
            &doc(&[cert], ReadMethod::TextLayer, 0.99),
        );
        assert_eq!(
            value(&y, "producer"),
            None,
            "the contact column is not the producer"
        );
        assert_eq!(value(&y, "producer_contact"), Some("Dana Lee"));
        assert_eq!(value(&y, "insured_name"), None);
    }
}
