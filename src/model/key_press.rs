//! One key with its modifiers: parsed from `config.toml`, matched against the terminal's
//! key events, and written back for the key bar and the help.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

/// A key with its modifiers, as written in `config.toml` (`q`, `ctrl-r`, `enter`, `f5`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeyPress {
    pub code: KeyCode,
    pub ctrl: bool,
}

impl KeyPress {
    pub(super) const fn plain(code: KeyCode) -> KeyPress {
        KeyPress { code, ctrl: false }
    }

    pub(super) const fn char(c: char) -> KeyPress {
        KeyPress::plain(KeyCode::Char(c))
    }

    pub fn parse(text: &str) -> Result<KeyPress, String> {
        let trimmed = text.trim();
        let lower = trimmed.to_ascii_lowercase();
        let (ctrl, rest) = match lower.strip_prefix("ctrl-").or(lower.strip_prefix("ctrl+")) {
            Some(rest) => (true, rest),
            None => (false, lower.as_str()),
        };
        let code = match rest {
            "enter" | "return" => KeyCode::Enter,
            "esc" | "escape" => KeyCode::Esc,
            "tab" => KeyCode::Tab,
            "backtab" | "shift-tab" => KeyCode::BackTab,
            "up" => KeyCode::Up,
            "down" => KeyCode::Down,
            "left" => KeyCode::Left,
            "right" => KeyCode::Right,
            "pageup" | "pgup" => KeyCode::PageUp,
            "pagedown" | "pgdn" => KeyCode::PageDown,
            "home" => KeyCode::Home,
            "end" => KeyCode::End,
            "space" => KeyCode::Char(' '),
            "backspace" => KeyCode::Backspace,
            "delete" | "del" => KeyCode::Delete,
            _ if rest.len() > 1 && rest.starts_with('f') => rest[1..]
                .parse::<u8>()
                .ok()
                .filter(|n| (1..=12).contains(n))
                .map(KeyCode::F)
                .ok_or_else(|| unknown_key(trimmed))?,
            _ => {
                // Single characters keep their case: `R` is Shift-r.
                let original = if ctrl { &trimmed[5..] } else { trimmed };
                let mut chars = original.chars();
                match (chars.next(), chars.next()) {
                    (Some(c), None) if !c.is_control() => {
                        KeyCode::Char(if ctrl { c.to_ascii_lowercase() } else { c })
                    }
                    _ => return Err(unknown_key(trimmed)),
                }
            }
        };
        Ok(KeyPress { code, ctrl })
    }

    pub fn matches(&self, key: &KeyEvent) -> bool {
        let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
        if ctrl != self.ctrl {
            return false;
        }
        match (self.code, key.code) {
            // Terminals differ in reporting case for Ctrl combinations.
            (KeyCode::Char(want), KeyCode::Char(got)) if self.ctrl => {
                want.eq_ignore_ascii_case(&got)
            }
            (want, got) => want == got,
        }
    }

    /// How the key bar and the help write it.
    pub fn shown(&self) -> String {
        let name = match self.code {
            KeyCode::Enter => "Enter".to_string(),
            KeyCode::Esc => "Esc".to_string(),
            KeyCode::Tab => "Tab".to_string(),
            KeyCode::BackTab => "Shift-Tab".to_string(),
            KeyCode::Up => "↑".to_string(),
            KeyCode::Down => "↓".to_string(),
            KeyCode::Left => "←".to_string(),
            KeyCode::Right => "→".to_string(),
            KeyCode::PageUp => "PgUp".to_string(),
            KeyCode::PageDown => "PgDn".to_string(),
            KeyCode::Home => "Home".to_string(),
            KeyCode::End => "End".to_string(),
            KeyCode::Backspace => "Backspace".to_string(),
            KeyCode::Delete => "Del".to_string(),
            KeyCode::Char(' ') => "Space".to_string(),
            KeyCode::Char(c) if self.ctrl => c.to_ascii_uppercase().to_string(),
            KeyCode::Char(c) => c.to_string(),
            KeyCode::F(n) => format!("F{n}"),
            other => format!("{other:?}"),
        };
        if self.ctrl {
            format!("Ctrl-{name}")
        } else {
            name
        }
    }
}

fn unknown_key(text: &str) -> String {
    format!(
        "{text:?} is not a key: expected one character (\"r\", \"R\", \"+\"), a name (enter, esc, \
         tab, backtab, up, down, left, right, pageup, pagedown, home, end, space, backspace, \
         delete, f1-f12), optionally with \"ctrl-\""
    )
}
