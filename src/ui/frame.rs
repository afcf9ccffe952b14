//! The frame every panel sits in: a bordered block whose title says what it shows and from
//! which source, highlighted when focused.

use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::symbols::border;
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Borders};

use super::{View, text};

/// Gives every cell of `area` the style, as an empty `Block` styled so would, but a row at a
/// time: the block looks each cell up by position, the largest cost of a frame after the diff.
pub fn fill(buf: &mut Buffer, area: Rect, style: Style) {
    let area = area.intersection(buf.area);
    if area.is_empty() {
        return;
    }
    for y in area.top()..area.bottom() {
        let start = buf.index_of(area.left(), y);
        for cell in &mut buf.content[start..start + usize::from(area.width)] {
            cell.set_style(style);
        }
    }
}

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

/// The sides of a panel's border.
#[derive(Clone, Copy)]
enum Part {
    Top,
    Bottom,
    Left,
    Right,
}

/// A border cell as a constant, to be copied as it is (see `text::put_symbol`): the symbols of
/// `BorderType::Thick` when focused, `BorderType::Rounded` otherwise.
#[inline(always)]
fn border_cell(focused: bool, part: Part) -> Cell {
    match (focused, part) {
        (true, Part::Top) => const { Cell::new(border::THICK.horizontal_top) },
        (true, Part::Bottom) => const { Cell::new(border::THICK.horizontal_bottom) },
        (true, Part::Left) => const { Cell::new(border::THICK.vertical_left) },
        (true, Part::Right) => const { Cell::new(border::THICK.vertical_right) },
        (false, Part::Top) => const { Cell::new(border::ROUNDED.horizontal_top) },
        (false, Part::Bottom) => const { Cell::new(border::ROUNDED.horizontal_bottom) },
        (false, Part::Left) => const { Cell::new(border::ROUNDED.vertical_left) },
        (false, Part::Right) => const { Cell::new(border::ROUNDED.vertical_right) },
    }
}

/// Draws a panel's frame straight into the buffer: the cells `panel_block` (with the source on
/// the right when given) would draw, without the block's pass over every cell inside. Returns
/// the area inside the border.
pub fn draw_panel(
    buf: &mut Buffer,
    view: &View,
    area: Rect,
    title: &str,
    source: Option<&str>,
    focused: bool,
) -> Rect {
    let inner = Rect {
        x: area.x.saturating_add(1),
        y: area.y.saturating_add(1),
        width: area.width.saturating_sub(2),
        height: area.height.saturating_sub(2),
    };
    let area = area.intersection(buf.area);
    if area.is_empty() {
        return inner;
    }
    let theme = view.theme;
    let border = theme.border_style(focused);
    let symbols = if focused {
        BorderType::Thick
    } else {
        BorderType::Rounded
    }
    .to_border_set();
    let (left, top) = (area.left(), area.top());
    let (right, bottom) = (area.right() - 1, area.bottom() - 1);
    for (row, part) in [(top, Part::Top), (bottom, Part::Bottom)] {
        let start = buf.index_of(left, row);
        for cell in &mut buf.content[start..=start + usize::from(right - left)] {
            text::put_symbol(cell, border_cell(focused, part)).set_style(border);
        }
    }
    let width = usize::from(buf.area.width);
    let side = usize::from(right - left);
    let mut at = buf.index_of(left, top);
    for _ in top..=bottom {
        text::put_symbol(&mut buf.content[at], border_cell(focused, Part::Left)).set_style(border);
        text::put_symbol(
            &mut buf.content[at + side],
            border_cell(focused, Part::Right),
        )
        .set_style(border);
        at += width;
    }
    for (x, y, symbol) in [
        (right, bottom, symbols.bottom_right),
        (right, top, symbols.top_right),
        (left, bottom, symbols.bottom_left),
        (left, top, symbols.top_left),
    ] {
        buf[(x, y)].set_symbol(symbol).set_style(border);
    }
    // The focused panel's title takes its border's colour, so focus reads at a glance.
    let title_style = if focused {
        theme.title_style().fg(theme.border_focused)
    } else {
        theme.title_style()
    };
    let room = area.width.saturating_sub(2);
    let x = left + 1;
    text::put_spans(
        buf,
        x,
        top,
        [(" ", title_style), (title, title_style), (" ", title_style)],
        room,
    );
    if let Some(source) = source {
        let muted = theme.muted_style();
        let width = u16::try_from(source.chars().count() + 2).unwrap_or(u16::MAX);
        let start = (x + room).saturating_sub(width).max(x);
        text::put_spans(
            buf,
            start,
            top,
            [(" ", muted), (source, muted), (" ", muted)],
            width.min(room),
        );
    }
    inner
}

#[cfg(test)]
mod tests {
    use ratatui::widgets::Widget;

    use super::*;
    use crate::i18n::Lang;
    use crate::model::{Model, TargetInfo};
    use crate::theme::Themes;

    /// `fill` leaves the cells an empty styled `Block` leaves, over part of a buffer too.
    #[test]
    fn fills_like_a_block() {
        let style = Style::new()
            .fg(ratatui::style::Color::White)
            .bg(ratatui::style::Color::Indexed(16))
            .add_modifier(ratatui::style::Modifier::BOLD);
        for area in [
            Rect::new(0, 0, 20, 6),
            Rect::new(3, 2, 30, 9),
            Rect::new(1, 1, 0, 3),
        ] {
            let mut expected = Buffer::empty(Rect::new(0, 0, 20, 6));
            expected.set_string(
                0,
                0,
                "text kept",
                Style::new().fg(ratatui::style::Color::Red),
            );
            let mut actual = expected.clone();
            Block::new().style(style).render(area, &mut expected);
            fill(&mut actual, area, style);
            assert_eq!(actual, expected, "{area:?}");
        }
    }

    /// `draw_panel` leaves the cells a `panel_block` with the same titles leaves.
    #[test]
    fn draws_what_the_block_draws() {
        let state = Model::for_target(TargetInfo::embedded(String::new()), &[], false, 0.0);
        let themes = Themes::builtin();
        for (theme, focused) in [("dark", true), ("projector", false), ("light", false)] {
            let view = View {
                model: &state,
                theme: themes.get(theme).expect("built-in theme"),
                text: crate::i18n::strings(Lang::En),
                lang: Lang::En,
            };
            for (area, source) in [
                (Rect::new(1, 1, 40, 8), Some("metrics · window 15 s")),
                (Rect::new(0, 2, 12, 3), None),
                (Rect::new(3, 0, 2, 2), None),
            ] {
                let mut expected = Buffer::empty(Rect::new(0, 0, 45, 10));
                expected.set_style(expected.area, view.theme.base_style());
                let mut actual = expected.clone();
                let mut block = panel_block(&view, "Latency p50/p95/p99", focused);
                if let Some(source) = source {
                    let line = Line::from(Span::styled(
                        format!(" {source} "),
                        view.theme.muted_style(),
                    ));
                    block = block.title(line.right_aligned());
                }
                let inner = block.inner(area);
                block.render(area, &mut expected);
                let drawn = draw_panel(
                    &mut actual,
                    &view,
                    area,
                    "Latency p50/p95/p99",
                    source,
                    focused,
                );
                assert_eq!(actual, expected, "{theme} {area:?}");
                assert_eq!(drawn, inner);
            }
        }
    }
}
