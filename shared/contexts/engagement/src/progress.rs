//! The progress ring: one number (a weighted percentage over the requirements, not steps
//! saved) and one sentence (the next best action) the app shows.

use domain_kernel::terms::{ALL_STEPS, Status, StepStatus};
use serde::Serialize;

use crate::badges::{BadgeRules, Lang};
use crate::facts::Facts;

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Ring {
    /// 0–100.
    pub percent: u8,
    pub next_action: NextAction,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NextAction {
    /// What to do, for the app to act on (`fix`, `complete_step`, `submit`, `wait`,
    /// `in_review`, `done`, `closed`).
    pub code: &'static str,
    /// The requirement it is about, if one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub requirement: Option<String>,
    /// The sentence the app shows, in the viewer's language.
    pub text: String,
}

/// How much of a requirement's weight counts, by where it stands.
fn credit(f: &Facts, name: &str, status: StepStatus) -> f64 {
    if f.satisfied.contains(name) {
        1.0
    } else if f.pending.contains(name) {
        0.8
    } else if f.errors.iter().any(|e| e.requirement == name) {
        0.4
    } else if f.with_evidence.contains(name) || status == StepStatus::Complete {
        0.6
    } else if status == StepStatus::InProgress {
        0.25
    } else {
        0.0
    }
}

pub fn ring(rules: &BadgeRules, f: &Facts, lang: Lang) -> Ring {
    let percent = if f.status == Status::Approved {
        100
    } else {
        let (mut got, mut total) = (0.0, 0.0);
        for step in ALL_STEPS {
            let weight = f64::from(*rules.progress.weights.get(step.as_str()).unwrap_or(&0));
            let status = f
                .steps
                .get(&step)
                .copied()
                .unwrap_or(StepStatus::NotStarted);
            got += weight * credit(f, step.as_str(), status);
            total += weight;
        }
        if total == 0.0 {
            0
        } else {
            // Never 100 before approval: the last percent is the approval itself.
            ((got / total * 100.0).floor() as u8).min(99)
        }
    };
    Ring {
        percent,
        next_action: next_action(f, lang),
    }
}

fn say(lang: Lang, en: &str, es: &str) -> String {
    match lang {
        Lang::En => en.to_owned(),
        Lang::Es => es.to_owned(),
    }
}

/// What to ask for a step not done yet.
fn step_action(step: &str, lang: Lang) -> String {
    let (en, es) = match step {
        "business_profile" => (
            "Complete your business profile.",
            "Completa el perfil de tu negocio.",
        ),
        "tax_identity" => (
            "Add your tax details (W-9).",
            "Agrega tus datos fiscales (W-9).",
        ),
        "license" => (
            "Upload your contractor license.",
            "Sube tu licencia de contratista.",
        ),
        "insurance" => (
            "Upload your insurance certificate.",
            "Sube tu certificado de seguro.",
        ),
        "bank_account" => (
            "Connect your bank account for payouts.",
            "Conecta tu cuenta bancaria para recibir pagos.",
        ),
        "agreements" => (
            "Accept the marketplace agreements.",
            "Acepta los acuerdos del mercado.",
        ),
        _ => ("Finish your onboarding.", "Termina tu registro."),
    };
    say(lang, en, es)
}

fn label(step: &str, lang: Lang) -> &'static str {
    match (step, lang) {
        ("insurance", Lang::En) => "insurance",
        ("insurance", Lang::Es) => "seguro",
        ("license", Lang::En) => "license",
        ("license", Lang::Es) => "licencia",
        ("tax_identity", Lang::En) => "tax details",
        ("tax_identity", Lang::Es) => "datos fiscales",
        ("bank_account", Lang::En) => "bank account",
        ("bank_account", Lang::Es) => "cuenta bancaria",
        (_, Lang::En) => "details",
        (_, Lang::Es) => "datos",
    }
}

/// The one thing the contractor should do next.
pub fn next_action(f: &Facts, lang: Lang) -> NextAction {
    let act = |code, requirement: Option<&str>, text| NextAction {
        code,
        requirement: requirement.map(str::to_owned),
        text,
    };
    match f.status {
        Status::Approved => {
            return act(
                "done",
                None,
                say(
                    lang,
                    "You're all set to take jobs.",
                    "Todo listo para aceptar trabajos.",
                ),
            );
        }
        Status::Rejected => {
            return act(
                "closed",
                None,
                say(
                    lang,
                    "Your application was closed. Contact support if you think this is a mistake.",
                    "Tu solicitud fue cerrada. Contacta a soporte si crees que es un error.",
                ),
            );
        }
        _ => {}
    }
    // What failed comes first: the reason is the contractor's to act on.
    if let Some(e) = f.errors.first() {
        let text = match lang {
            Lang::En => format!("Fix your {}: {}", label(&e.requirement, lang), e.reason),
            Lang::Es => format!("Corrige tu {}: {}", label(&e.requirement, lang), e.reason),
        };
        return act("fix", Some(&e.requirement), text);
    }
    for step in ALL_STEPS {
        let name = step.as_str();
        let status = f
            .steps
            .get(&step)
            .copied()
            .unwrap_or(StepStatus::NotStarted);
        if status != StepStatus::Complete && !f.satisfied.contains(name) {
            return act("complete_step", Some(name), step_action(name, lang));
        }
    }
    match f.status {
        Status::Draft | Status::InProgress => act(
            "submit",
            None,
            say(
                lang,
                "Submit your application for review.",
                "Envía tu solicitud para revisión.",
            ),
        ),
        Status::UnderReview if !f.pending.is_empty() => {
            let first = f.pending.iter().next().expect("not empty");
            let text = match lang {
                Lang::En => format!(
                    "We're checking your {}. Nothing to do for now.",
                    label(first, lang)
                ),
                Lang::Es => format!(
                    "Estamos revisando tu {}. Por ahora no tienes que hacer nada.",
                    label(first, lang)
                ),
            };
            act("wait", Some(first), text)
        }
        _ => act(
            "in_review",
            None,
            say(
                lang,
                "A reviewer is looking at your application.",
                "Un revisor está viendo tu solicitud.",
            ),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use domain_kernel::terms::StepName;
    use domain_onboarding::requirements::RequirementError;

    fn facts() -> Facts {
        Facts::fresh(Status::InProgress)
    }

    #[test]
    fn the_ring_weighs_requirements_not_steps_saved() {
        let rules = BadgeRules::shipped();
        let mut f = facts();
        assert_eq!(ring(&rules, &f, Lang::En).percent, 0);
        // The profile (10 of 100) verified on completion.
        f.steps
            .insert(StepName::BusinessProfile, StepStatus::Complete);
        f.satisfied.insert("business_profile".into());
        assert_eq!(ring(&rules, &f, Lang::En).percent, 10);
        // Insurance (25) uploaded and being checked counts 80% of its weight: 10 + 20.
        f.steps.insert(StepName::Insurance, StepStatus::Complete);
        f.pending.insert("insurance".into());
        assert_eq!(ring(&rules, &f, Lang::En).percent, 30);
        // Failing counts less than pending: 10 + 10.
        f.pending.clear();
        f.errors.push(RequirementError {
            requirement: "insurance".into(),
            code: "limit_too_low".into(),
            reason: "The general liability limit is below $1,000,000.".into(),
        });
        let r = ring(&rules, &f, Lang::En);
        assert_eq!(r.percent, 20);
        assert_eq!(r.next_action.code, "fix");
        assert_eq!(
            r.next_action.text,
            "Fix your insurance: The general liability limit is below $1,000,000."
        );
        // Everything satisfied but not approved stops at 99.
        for s in ALL_STEPS {
            f.steps.insert(s, StepStatus::Complete);
            f.satisfied.insert(s.as_str().into());
        }
        f.errors.clear();
        assert_eq!(ring(&rules, &f, Lang::En).percent, 99);
        f.status = Status::Approved;
        assert_eq!(ring(&rules, &f, Lang::En).percent, 100);
    }

    #[test]
    fn the_next_action_is_the_first_thing_left_in_the_contractors_language() {
        let mut f = facts();
        f.steps
            .insert(StepName::BusinessProfile, StepStatus::Complete);
        f.steps.insert(StepName::TaxIdentity, StepStatus::Complete);
        f.steps.insert(StepName::License, StepStatus::Complete);
        let a = next_action(&f, Lang::En);
        assert_eq!(
            (a.code, a.requirement.as_deref()),
            ("complete_step", Some("insurance"))
        );
        assert_eq!(a.text, "Upload your insurance certificate.");
        assert_eq!(
            next_action(&f, Lang::Es).text,
            "Sube tu certificado de seguro."
        );
        for s in ALL_STEPS {
            f.steps.insert(s, StepStatus::Complete);
        }
        assert_eq!(next_action(&f, Lang::En).code, "submit");
        f.status = Status::UnderReview;
        f.pending.insert("license".into());
        let a = next_action(&f, Lang::Es);
        assert_eq!(a.code, "wait");
        assert!(a.text.contains("licencia"), "{}", a.text);
        f.status = Status::Approved;
        assert_eq!(next_action(&f, Lang::En).code, "done");
    }
}
