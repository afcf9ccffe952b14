//! The frame every panel sits in: a bordered block whose title says what it shows and from
//! which source, highlighted when focused.

use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders};

use super::View;

pub fn panel_block<'a>(view: &View, title: &str, focused: bool) -> Block<'a> {
    let theme = view.theme;
    let border = theme.border_style(focused);
    // The focused panel's title takes its border's colour, so focus reads at a glance.
    let title_style = if focused {
        theme.title_style().fg(theme.border_focused)
    } else {
        theme.title_style()
    };
    Block::new()
        .borders(Borders::ALL)
        .border_type(if focused {
            BorderType::Thick
        } else {
            BorderType::Rounded
        })
        .border_style(border)
        .title(Line::from(Span::styled(format!(" {title} "), title_style)))
}

/// A second, muted title on the right: the source and window of the figures.
pub fn with_source<'a>(block: Block<'a>, view: &View, source: String) -> Block<'a> {
    block.title(
        Line::from(Span::styled(
            format!(" {source} "),
            view.theme.muted_style(),
        ))
        .right_aligned(),
    )
}
