//! The key table's labels in the user's language, for the key bar and the help.

use crate::fincore::presets::Preset;
use crate::i18n::Strings;
use crate::model::Model;
use crate::model::keys::Label;

/// The short word the key bar shows beside a binding's keys.
pub fn bar_label(label: Label, model: &Model, text: &Strings) -> &'static str {
    match label {
        Label::Help => text.key_help,
        Label::Quit => text.key_quit,
        Label::Detect => text.key_detect,
        Label::Hint => text.key_hint,
        Label::Note => text.key_note,
        Label::Check => text.key_check,
        Label::Cases => text.key_cases,
        Label::CloseDrill => text.key_close_drill,
        Label::Inject(_) => text.key_inject,
        Label::Reset => text.key_reset,
        Label::InjectPanel => text.key_inject_panel,
        Label::Containers => text.key_containers,
        Label::ProviderFailures => text.key_provider,
        Label::ResetProvider => text.key_reset_provider,
        Label::Patterns => text.key_patterns,
        Label::Load => text.key_load,
        Label::Profile => text.key_profile,
        Label::Focus => text.key_focus,
        Label::Zoom if model.view.zoomed => text.key_unzoom,
        Label::Zoom => text.key_zoom,
        Label::Scroll | Label::ScrollReview => text.key_scroll,
        Label::Theme => text.key_theme,
        Label::Pause if model.replay.as_ref().is_some_and(|r| r.paused) => text.key_resume,
        Label::Pause => text.key_pause,
    }
}

/// The help's description of a binding; bindings with one label share a row.
pub fn help_label(label: Label, text: &Strings) -> &'static str {
    match label {
        Label::Help => text.help_help,
        Label::Quit => text.help_quit,
        Label::Detect => text.help_detect,
        Label::Hint => text.help_hint,
        Label::Note => text.help_note,
        Label::Check => text.help_check,
        Label::Cases => text.help_cases,
        Label::CloseDrill => text.help_close_drill,
        Label::Inject(Preset::Latency) => text.help_inject_latency,
        Label::Inject(Preset::Errors) => text.help_inject_errors,
        Label::Inject(Preset::SlowDb) => text.help_inject_slow_db,
        Label::Inject(Preset::MemoryLeak) => text.help_inject_leak,
        Label::Inject(Preset::Chaos) => text.help_inject_chaos,
        Label::Inject(Preset::DbFailure) => text.help_inject_db_failure,
        Label::Reset => text.help_reset,
        Label::InjectPanel => text.help_inject_panel,
        Label::Containers => text.help_containers,
        Label::ProviderFailures => text.help_provider,
        Label::ResetProvider => text.help_reset_provider,
        Label::Patterns => text.help_patterns,
        Label::Load => text.help_load,
        Label::Profile => text.help_profile,
        Label::Focus => text.help_focus,
        Label::Zoom => text.help_zoom,
        Label::Scroll => text.help_scroll,
        Label::ScrollReview => text.help_scroll_review,
        Label::Theme => text.help_theme,
        Label::Pause => text.help_pause,
    }
}
