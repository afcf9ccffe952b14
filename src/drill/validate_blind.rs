//! The wordings of a blind drill: until the participant names the cause, a checklist item or a
//! hint is shown in its `blind` wording, as written when it names nothing of the cause, or not
//! at all. What "names the cause" means is what can be checked reliably from the case itself:
//! its id, any failure knob's name (every knob names a kind of fault), the container its action
//! touches (as a whole word) and its diagnosis as written.

use toml::Spanned;

use super::case::BlindWording;
use super::case_file::{CaseFile, TextFile};
use super::validate::{Checker, ProblemSeverity};
use crate::knobs;

/// The words of one case that name its cause.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CauseTerms {
    /// Found anywhere in a text, ignoring case: the id and the knob names.
    anywhere: Vec<String>,
    /// Found as a whole word only: a container's short name (`db`) would match inside others.
    words: Vec<String>,
    /// The diagnosis in each language, found anywhere in a text of that language.
    diagnosis: Vec<String>,
}

impl CauseTerms {
    /// From the case file as written, so the terms exist even when other fields are wrong.
    pub(crate) fn of(raw: &CaseFile) -> CauseTerms {
        let mut anywhere = vec![raw.id.get_ref().trim().to_lowercase()];
        anywhere.extend(knobs::names().map(str::to_string));
        let injection = raw.injection.get_ref();
        // A knob the case sets but `knobs` does not know is an error reported elsewhere; its
        // name still gives the cause away.
        if let Some(failures) = &injection.failures {
            for name in failures.get_ref().keys() {
                let name = name.get_ref().trim().to_lowercase();
                if name != knobs::TTL_NAME && !anywhere.contains(&name) {
                    anywhere.push(name);
                }
            }
        }
        // The provider's knobs the case sets name its cause too (`webhook_duplicate_rate`).
        if let Some(provider) = &injection.provider {
            for name in provider.get_ref().keys() {
                let name = name.trim().to_lowercase();
                if !anywhere.contains(&name) {
                    anywhere.push(name);
                }
            }
        }
        anywhere.retain(|term| !term.is_empty());
        let words = injection
            .container
            .iter()
            .map(|container| container.target.name().to_string())
            .collect();
        let diagnosis = [&raw.diagnosis.en, &raw.diagnosis.ru]
            .into_iter()
            .map(|text| text.get_ref().trim().to_lowercase())
            .filter(|text| !text.is_empty())
            .collect();
        CauseTerms {
            anywhere,
            words,
            diagnosis,
        }
    }

    /// The first term of the cause that `text` contains, as the term is written.
    pub(crate) fn named_in(&self, text: &str) -> Option<&str> {
        let lower = text.to_lowercase();
        if let Some(term) = self
            .anywhere
            .iter()
            .find(|term| lower.contains(term.as_str()))
        {
            return Some(term);
        }
        let words: Vec<&str> = lower.split(|c: char| !c.is_alphanumeric()).collect();
        if let Some(term) = self
            .words
            .iter()
            .find(|term| words.contains(&term.as_str()))
        {
            return Some(term);
        }
        self.diagnosis
            .iter()
            .find(|diagnosis| lower.contains(diagnosis.as_str()))
            .map(String::as_str)
    }
}

impl Checker<'_> {
    /// How the item or hint at `field` (its text already checked) reads in a blind drill. A
    /// blind wording that names the cause is an error: it would give the answer away. A text
    /// that names it without a blind wording is a warning: the drill hides it until the cause
    /// is named, which is fair but leaves the participant without it (the shipped cases have
    /// none, a test holds them to no warnings); a user's older case file still loads.
    pub(super) fn blind_wording(
        &mut self,
        written: [&Spanned<String>; 2],
        blind: Option<&TextFile>,
        field: &str,
        terms: &CauseTerms,
    ) -> BlindWording {
        let Some(blind) = blind else {
            let named = written
                .into_iter()
                .find_map(|at| Some((terms.named_in(at.get_ref())?.to_string(), at.span())));
            return match named {
                Some((term, span)) => {
                    let message = format!(
                        "names the cause (`{term}`) and has no blind wording, so a blind drill \
                         hides it until the cause is named; expected `blind.en` and `blind.ru` \
                         worded without it"
                    );
                    self.push(span, field, message, ProblemSeverity::Warning);
                    BlindWording::Hidden
                }
                None => BlindWording::AsWritten,
            };
        };
        let field = format!("{field}.blind");
        let wording = self.text(&blind.en, &blind.ru, &field);
        for (written, at, lang) in [
            (&wording.en, &blind.en, "en"),
            (&wording.ru, &blind.ru, "ru"),
        ] {
            if let Some(term) = terms.named_in(written) {
                let message = format!(
                    "names the cause (`{term}`); expected a wording without the case id, \
                     failure knob names, the container or the diagnosis"
                );
                self.error(at.span(), &format!("{field}.{lang}"), message);
            }
        }
        BlindWording::Reworded(wording)
    }
}

#[cfg(test)]
mod tests {
    use super::super::case::{BlindWording, Step, Text};
    use super::super::library::CaseLibrary;
    use super::super::validate::{ProblemSeverity, check_case};

    const MINIMAL: &str = include_str!("../../tests/fixtures/cases/valid/minimal.toml");
    const INJECT: &str = "inject = [{ en = \"Inject\", ru = \"Внесите отказ\" }]";

    fn with_inject(item: &str) -> String {
        MINIMAL.replace(INJECT, &format!("inject = [{item}]"))
    }

    fn problems(text: &str) -> Vec<String> {
        check_case("x.toml", text)
            .problems
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn a_blind_wording_is_read_and_shown_only_while_the_cause_is_concealed() {
        let text = with_inject(
            "{ en = \"latency_ms reads 500\", ru = \"latency_ms равно 500\", \
             blind = { en = \"The failure state reads back\", ru = \"Состояние отказов видно\" } }",
        );
        let report = check_case("x.toml", &text);
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        let case = report.case.expect("valid");
        let item = &case.checklist_for(Step::Inject)[0];
        let blind = Text {
            en: "The failure state reads back".into(),
            ru: "Состояние отказов видно".into(),
        };
        assert_eq!(item.blind, BlindWording::Reworded(blind.clone()));
        assert_eq!(item.blind.shown(&item.text, true), Some(&blind));
        assert_eq!(item.blind.shown(&item.text, false), Some(&item.text));
        // Nothing of the cause: shown as written.
        let plain = &case.checklist_for(Step::Respond)[0];
        assert_eq!(plain.blind, BlindWording::AsWritten);
        assert_eq!(plain.blind.shown(&plain.text, true), Some(&plain.text));
    }

    #[test]
    fn dotted_blind_keys_on_a_hint_read_the_same() {
        let text = format!(
            "{MINIMAL}\n[[hints]]\nen = \"GET /api/failures shows latency_ms\"\n\
             ru = \"GET /api/failures показывает latency_ms\"\n\
             blind.en = \"GET /api/failures shows what is injected\"\n\
             blind.ru = \"GET /api/failures показывает, что внесено\"\n"
        );
        let report = check_case("x.toml", &text);
        assert!(report.problems.is_empty(), "{:?}", report.problems);
        let hint = &report.case.expect("valid").hints[0];
        let BlindWording::Reworded(blind) = &hint.blind else {
            panic!("{:?}", hint.blind);
        };
        assert_eq!(blind.ru, "GET /api/failures показывает, что внесено");
    }

    #[test]
    fn a_blind_wording_that_names_the_cause_is_an_error_at_its_place() {
        // Line 27 of the fixture; the knob in English, the case id (any case) in Russian.
        let text = with_inject(
            "{ en = \"Inject\", ru = \"Внесите отказ\", blind = { en = \"LATENCY_MS is set\", \
             ru = \"кейс Minimal начат\" } }",
        );
        let found = problems(&text);
        assert_eq!(
            found,
            [
                "x.toml:27:65: checklist.inject[0].blind.en: names the cause (`latency_ms`); \
                 expected a wording without the case id, failure knob names, the container or \
                 the diagnosis",
                "x.toml:27:91: checklist.inject[0].blind.ru: names the cause (`minimal`); \
                 expected a wording without the case id, failure knob names, the container or \
                 the diagnosis",
            ]
        );
        assert!(check_case("x.toml", &text).case.is_none());
    }

    #[test]
    fn any_knob_and_the_diagnosis_name_a_cause_too() {
        // Another knob than the one injected, and the diagnosis in Russian, in other case.
        let text = with_inject(
            "{ en = \"Inject\", ru = \"Внесите отказ\", blind = { en = \"maybe db_slow\", \
             ru = \"ДОБАВЛЕННАЯ ЗАДЕРЖКА\" } }",
        );
        let found = problems(&text);
        assert_eq!(found.len(), 2, "{found:?}");
        assert!(
            found[0].contains("names the cause (`db_slow`)"),
            "{found:?}"
        );
        assert!(
            found[1].contains("names the cause (`добавленная задержка`)"),
            "{found:?}"
        );
    }

    #[test]
    fn a_container_target_names_the_cause_as_a_whole_word_only() {
        let text = MINIMAL
            .replace(
                "[load]",
                "[injection.container]\naction = \"stop\"\ntarget = \"db\"\nwhen = \"no-sandbox\"\n\n[load]",
            )
            .replace(
                "respond = [{ en = \"Reset\", ru = \"Сбросьте отказы\" }]",
                "respond = [{ en = \"Start the db container\", ru = \"Запустите контейнер\" }]",
            )
            .replace("\"Look at latency\"", "\"Look at feedback\"");
        let report = check_case("x.toml", &text);
        let found: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
        // "db" inside "feedback" is no word; "the db container" is.
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].contains("checklist.respond[0]: names the cause (`db`)"));
    }

    #[test]
    fn a_text_that_names_the_cause_without_a_blind_wording_is_hidden_with_a_warning() {
        let text = with_inject("{ en = \"Check latency_ms\", ru = \"Проверьте latency_ms\" }");
        let report = check_case("x.toml", &text);
        let found: Vec<String> = report.problems.iter().map(ToString::to_string).collect();
        assert_eq!(
            found,
            [
                "x.toml:27:18: warning: checklist.inject[0]: names the cause (`latency_ms`) and \
                 has no blind wording, so a blind drill hides it until the cause is named; \
                 expected `blind.en` and `blind.ru` worded without it"
            ]
        );
        assert_eq!(report.problems[0].severity, ProblemSeverity::Warning);
        let case = report.case.expect("a warning keeps the case");
        let item = &case.checklist_for(Step::Inject)[0];
        assert_eq!(item.blind, BlindWording::Hidden);
        assert_eq!(item.blind.shown(&item.text, true), None);
        assert_eq!(item.blind.shown(&item.text, false), Some(&item.text));
    }

    #[test]
    fn a_blind_wording_needs_both_languages_and_no_other_keys() {
        let missing = problems(&with_inject(
            "{ en = \"Inject\", ru = \"Внесите отказ\", blind = { en = \"Something\" } }",
        ));
        assert_eq!(missing.len(), 1, "{missing:?}");
        assert!(missing[0].starts_with("x.toml:27:"), "{missing:?}");
        assert!(missing[0].contains("missing key `ru`"), "{missing:?}");
        let unknown = problems(&with_inject(
            "{ en = \"Inject\", ru = \"Внесите отказ\", blind = { en = \"A\", ru = \"Б\", de = \"C\" } }",
        ));
        assert_eq!(unknown.len(), 1, "{unknown:?}");
        assert!(unknown[0].contains("unknown key"), "{unknown:?}");
        let untranslated = problems(&with_inject(
            "{ en = \"Inject\", ru = \"Внесите отказ\", blind = { en = \"Same\", ru = \"Same\" } }",
        ));
        assert_eq!(
            untranslated,
            [
                "x.toml:27:78: checklist.inject[0].blind.ru: the same as `en`; expected a Russian \
              translation"
            ]
        );
    }

    /// Every item and hint a shipped case shows before the cause is named reads without it.
    #[test]
    fn the_shipped_cases_show_nothing_of_their_cause_before_it_is_named() {
        for case in CaseLibrary::shipped().cases() {
            let raw = toml::from_str(&std::fs::read_to_string(&case.source).expect("case file"))
                .expect("parses");
            let terms = super::CauseTerms::of(&raw);
            let items = Step::ALL
                .iter()
                .flat_map(|step| case.checklist_for(*step))
                .map(|item| (&item.text, &item.blind));
            let hints = case.hints.iter().map(|hint| (&hint.text, &hint.blind));
            for (text, blind) in items.chain(hints) {
                let shown = blind.shown(text, true).expect("no item hidden");
                for written in [&shown.en, &shown.ru] {
                    assert_eq!(terms.named_in(written), None, "{}: {written}", case.id);
                }
            }
        }
    }
}
