//! Every state change the user can ask for is an `Action`; keys map to actions here and
//! nowhere else. Only key presses count (a release or repeat must not act twice).

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use super::state::{AppState, PanelId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    Quit,
    FocusNext,
    FocusPrevious,
    ToggleZoom,
    Unzoom,
    ToggleHelp,
    CloseHelp,
    CycleTheme,
    ScrollLog(i32),
}

pub fn action_for(key: KeyEvent, state: &AppState) -> Option<Action> {
    if key.kind != KeyEventKind::Press {
        return None;
    }
    if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
        return Some(Action::Quit);
    }
    if state.help {
        // Any key closes the help; `q` still quits, as users expect.
        return Some(match key.code {
            KeyCode::Char('q') => Action::Quit,
            _ => Action::CloseHelp,
        });
    }
    let scrolling = state.zoomed && state.focus == PanelId::Logs;
    Some(match key.code {
        KeyCode::Char('q') => Action::Quit,
        KeyCode::Char('?') => Action::ToggleHelp,
        KeyCode::Char('z') => Action::ToggleZoom,
        KeyCode::Esc => Action::Unzoom,
        KeyCode::Char('t') => Action::CycleTheme,
        KeyCode::Up if scrolling => Action::ScrollLog(1),
        KeyCode::Down if scrolling => Action::ScrollLog(-1),
        KeyCode::PageUp if scrolling => Action::ScrollLog(20),
        KeyCode::PageDown if scrolling => Action::ScrollLog(-20),
        KeyCode::Tab | KeyCode::Right | KeyCode::Down => Action::FocusNext,
        KeyCode::BackTab | KeyCode::Left | KeyCode::Up => Action::FocusPrevious,
        _ => return None,
    })
}

/// Applies a UI action to the state. Returns false for `Quit`, which the loop handles.
pub fn apply(action: Action, state: &mut AppState, theme_names: &[String]) {
    match action {
        Action::Quit => {}
        Action::FocusNext => state.focus = state.focus.next(),
        Action::FocusPrevious => state.focus = state.focus.previous(),
        Action::ToggleZoom => {
            state.zoomed = !state.zoomed;
            state.log_scroll = 0;
        }
        Action::Unzoom => {
            state.zoomed = false;
            state.log_scroll = 0;
        }
        Action::ToggleHelp => state.help = !state.help,
        Action::CloseHelp => state.help = false,
        Action::CycleTheme => {
            let index = theme_names
                .iter()
                .position(|name| *name == state.theme_name)
                .map_or(0, |i| (i + 1) % theme_names.len().max(1));
            if let Some(name) = theme_names.get(index) {
                state.theme_name = name.clone();
            }
        }
        Action::ScrollLog(lines) => {
            let most = state.logs.len().saturating_sub(1);
            let scroll = i64::try_from(state.log_scroll).unwrap_or(0) + i64::from(lines);
            state.log_scroll = usize::try_from(scroll.max(0)).unwrap_or(0).min(most);
        }
    }
}
