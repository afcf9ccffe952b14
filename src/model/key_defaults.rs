//! The default bindings, one a line, in the key bar's order: most useful first.

use crossterm::event::KeyCode::{
    BackTab, Down, Enter, Esc, Left, PageDown, PageUp, Right, Tab, Up,
};

use super::key_press::KeyPress;
use super::keys::{Action, Binding, Does, KeyTable, Label, When};
use crate::fincore::presets::Preset;

impl Default for KeyTable {
    #[rustfmt::skip]
    fn default() -> Self {
        use Does::Act;
        let k = KeyPress::char;
        let p = KeyPress::plain;
        let digits: Vec<KeyPress> = ('1'..='9').map(k).collect();
        let mut bindings = vec![
            Binding::new("help", &[k('?')], When::Always, Label::Help, Act(Action::ToggleHelp)),
            Binding::new("quit", &[k('q')], When::Always, Label::Quit, Act(Action::Quit)),
            Binding::new("replay_pause", &[k(' ')], When::Replay, Label::Pause, Act(Action::ToggleReplayPause)),
            Binding::new("declare_detection", &[p(Enter)], When::DrillRunning, Label::Detect, Act(Action::DrillDetect)),
            Binding::new("hint", &[k('h')], When::DrillRunning, Label::Hint, Act(Action::DrillHint)),
            Binding::new("add_note", &[k('n')], When::DrillShown, Label::Note, Act(Action::DrillNote)),
            Binding::new("tick_item", &digits, When::DrillRunning, Label::Check, Does::CheckItem),
            Binding::new("pick_drill", &[k('c')], When::CanPickCase, Label::Cases, Act(Action::OpenCases)),
        ];
        for preset in Preset::ALL {
            let name = preset_binding_name(preset);
            bindings.push(Binding::new(name, &[k(preset.key())], When::Changing, Label::Inject(preset), Act(Action::Inject(preset))));
        }
        bindings.extend([
            Binding::new("reset_failures", &[k('r')], When::Changing, Label::Reset, Act(Action::ResetFailures)),
            Binding::new("injection_panel", &[k('i')], When::Changing, Label::InjectPanel, Act(Action::OpenInjectPanel)),
            Binding::new("containers", &[k('s')], When::Changing, Label::Containers, Act(Action::OpenContainers)),
            Binding::new("provider_failures", &[k('P')], When::Dependency, Label::ProviderFailures, Act(Action::OpenProviderFailures)),
            Binding::new("reset_provider", &[k('O')], When::Dependency, Label::ResetProvider, Act(Action::ResetProvider)),
            Binding::new("patterns", &[k('b')], When::Dependency, Label::Patterns, Act(Action::OpenPatterns)),
            Binding::new("load_faster", &[k('+'), k('=')], When::Load, Label::Load, Act(Action::LoadFaster)),
            Binding::new("load_slower", &[k('-')], When::Load, Label::Load, Act(Action::LoadSlower)),
            Binding::new("next_profile", &[k('p')], When::Load, Label::Profile, Act(Action::NextProfile)),
            Binding::new("focus_next", &[p(Tab), p(Right), p(Down)], When::Always, Label::Focus, Act(Action::FocusNext)),
            Binding::new("focus_previous", &[p(BackTab), p(Left), p(Up)], When::Always, Label::Focus, Act(Action::FocusPrevious)).hidden(),
            Binding::new("zoom", &[k('z')], When::Always, Label::Zoom, Act(Action::ToggleZoom)),
            Binding::new("unzoom", &[p(Esc)], When::Zoomed, Label::Zoom, Act(Action::Unzoom)),
            Binding::new("close_drill", &[p(Esc)], When::DrillReview, Label::CloseDrill, Act(Action::CloseDrill)),
            Binding::new("scroll_up", &[p(Up)], When::LogZoomed, Label::Scroll, Act(Action::ScrollLog(1))),
            Binding::new("scroll_down", &[p(Down)], When::LogZoomed, Label::Scroll, Act(Action::ScrollLog(-1))),
            Binding::new("page_up", &[p(PageUp)], When::LogZoomed, Label::Scroll, Act(Action::ScrollLog(20))).hidden(),
            Binding::new("page_down", &[p(PageDown)], When::LogZoomed, Label::Scroll, Act(Action::ScrollLog(-20))).hidden(),
            Binding::new("review_up", &[p(Up)], When::DrillReview, Label::ScrollReview, Act(Action::ScrollReview(-1))),
            Binding::new("review_down", &[p(Down)], When::DrillReview, Label::ScrollReview, Act(Action::ScrollReview(1))),
            Binding::new("review_page_up", &[p(PageUp)], When::DrillReview, Label::ScrollReview, Act(Action::ScrollReview(-10))).hidden(),
            Binding::new("review_page_down", &[p(PageDown)], When::DrillReview, Label::ScrollReview, Act(Action::ScrollReview(10))).hidden(),
            Binding::new("next_theme", &[k('t')], When::Always, Label::Theme, Act(Action::CycleTheme)),
        ]);
        KeyTable::from_bindings(bindings)
    }
}

fn preset_binding_name(preset: Preset) -> &'static str {
    match preset {
        Preset::Latency => "inject_latency",
        Preset::Errors => "inject_errors",
        Preset::SlowDb => "inject_slow_db",
        Preset::MemoryLeak => "inject_memory_leak",
        Preset::Chaos => "inject_chaos",
        Preset::DbFailure => "inject_db_failure",
    }
}
