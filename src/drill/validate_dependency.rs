//! Checks of what a case does to the dependency: `[injection.provider]`,
//! `[baseline.patterns]` and recovery's `provider_*` and `patterns`. The bodies are checked by
//! the provider's and the patterns' own parsers, whose messages name the field.

use super::case_file::CaseFile;
use super::dependency::{ProviderBody, check_pattern_name, starting_patterns};
use super::validate::Checker;
use serde_json::Value;

/// What validation learnt of the dependency, for [`super::case::Case`].
pub(super) struct DependencyParts {
    pub provider: Option<ProviderBody>,
    pub starting_patterns: Option<Value>,
    pub provider_cleared: bool,
    pub provider_still_failing: bool,
    pub patterns: Vec<String>,
}

impl Checker<'_> {
    pub(super) fn dependency(&mut self, raw: &CaseFile) -> DependencyParts {
        let provider = raw.injection.get_ref().provider.as_ref().and_then(|table| {
            ProviderBody::from_table(table.get_ref())
                .map_err(|message| {
                    // At the knob the message names, when it names one.
                    let (span, field) = match field_named(&message)
                        .map(|knob| (self.key_span(&["injection", "provider", knob]), knob))
                        .filter(|(span, _)| span.end > 0)
                    {
                        Some((span, knob)) => (span, format!("injection.provider.{knob}")),
                        None => (table.span(), "injection.provider".to_string()),
                    };
                    self.error(span, &field, message)
                })
                .ok()
        });
        let recovery = &raw.recovery;
        let mut patterns = Vec::new();
        if let Some(names) = &recovery.patterns {
            for (index, name) in names.get_ref().iter().enumerate() {
                match check_pattern_name(name.get_ref()) {
                    Ok(()) => patterns.push(name.get_ref().clone()),
                    Err(message) => {
                        self.error(name.span(), &format!("recovery.patterns[{index}]"), message)
                    }
                }
            }
        }
        let still_failing = recovery
            .provider_still_failing
            .as_ref()
            .is_some_and(|flag| *flag.get_ref());
        let provider_cleared = recovery.provider_cleared.unwrap_or(!still_failing);
        if let Some(flag) = &recovery.provider_still_failing {
            if *flag.get_ref() && provider.is_none() {
                let message = "no provider failure to keep; expected `[injection.provider]`";
                self.error(flag.span(), "recovery.provider_still_failing", message);
            }
            if *flag.get_ref() && provider_cleared {
                let message = "contradicts `provider_cleared = true`";
                self.error(flag.span(), "recovery.provider_still_failing", message);
            }
        }
        let baseline_patterns = raw.baseline.patterns.as_ref();
        let touches = provider.is_some() || baseline_patterns.is_some() || !patterns.is_empty();
        let starting_patterns = if touches {
            match starting_patterns(baseline_patterns.map(|table| table.get_ref())) {
                Ok(body) => Some(body),
                Err(message) => {
                    // `retry.tries`: at the pattern's key.
                    let span = field_named(&message)
                        .and_then(|field| field.split('.').next())
                        .map(|pattern| self.key_span(&["baseline", "patterns", pattern]))
                        .filter(|span| span.end > 0)
                        .or_else(|| baseline_patterns.map(|t| t.span()))
                        .unwrap_or(0..0);
                    self.error(span, "baseline.patterns", message);
                    None
                }
            }
        } else {
            None
        };
        DependencyParts {
            provider,
            starting_patterns,
            provider_cleared,
            provider_still_failing: still_failing,
            patterns,
        }
    }
}

/// The field a parser's message names between backticks: "field `error_rate`: …".
fn field_named(message: &str) -> Option<&str> {
    let start = message.find('`')? + 1;
    let length = message[start..].find('`')?;
    Some(&message[start..start + length])
}
