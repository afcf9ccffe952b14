//! Text written straight into the frame's cells, the way a `Paragraph` of one line writes it
//! (each character's symbol and style, cut at the edge), without its per-cell lookups,
//! grapheme splitting of plain ASCII or line layout.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// Writes `text` from `(x, y)` in `style`, at most `max_width` columns and never past the
/// buffer's edge; returns the column after the last one written.
pub fn put_str(buf: &mut Buffer, x: u16, y: u16, text: &str, style: Style, max_width: u16) -> u16 {
    let area = buf.area;
    if y < area.top() || y >= area.bottom() || x < area.left() || x >= area.right() {
        return x;
    }
    let room = area.right().saturating_sub(x).min(max_width);
    let printable_ascii = text.bytes().all(|byte| (b' '..=b'~').contains(&byte));
    if !printable_ascii {
        return put_graphemes(buf, x, y, text, style, room);
    }
    let count = text.len().min(usize::from(room));
    let start = buf.index_of(x, y);
    for (cell, byte) in buf.content[start..start + count]
        .iter_mut()
        .zip(text.bytes())
    {
        cell.set_char(char::from(byte)).set_style(style);
    }
    x + count as u16
}

/// Wide characters, combining marks and the like, one grapheme a cell as a `Paragraph` puts
/// them: a grapheme that does not fit whole ends the text.
fn put_graphemes(buf: &mut Buffer, x: u16, y: u16, text: &str, style: Style, room: u16) -> u16 {
    let end = x + room;
    let mut at = x;
    for grapheme in Span::raw(text).styled_graphemes(style) {
        let width = u16::try_from(Span::raw(grapheme.symbol).width()).unwrap_or(u16::MAX);
        if width == 0 {
            continue;
        }
        if at.saturating_add(width) > end {
            break;
        }
        buf[(at, y)]
            .set_symbol(grapheme.symbol)
            .set_style(grapheme.style);
        at += width;
    }
    at
}

/// Writes spans one after another from `(x, y)`, each in its style patched over `base`, at
/// most `max_width` columns in all; returns the column after the last one written.
pub fn put_spans<'a>(
    buf: &mut Buffer,
    x: u16,
    y: u16,
    spans: impl IntoIterator<Item = (&'a str, Style)>,
    max_width: u16,
) -> u16 {
    let end = x.saturating_add(max_width);
    let mut at = x;
    for (text, style) in spans {
        if at >= end {
            break;
        }
        at = put_str(buf, at, y, text, style, end - at);
    }
    at
}

/// Writes lines from the top of `area`, one a row, each cut at its right edge: what a
/// `Paragraph` of left-aligned lines without wrapping writes.
pub fn put_lines(buf: &mut Buffer, area: Rect, lines: &[Line]) {
    let area = area.intersection(buf.area);
    for (y, line) in (area.top()..area.bottom()).zip(lines) {
        let spans = line
            .spans
            .iter()
            .map(|span| (span.content.as_ref(), line.style.patch(span.style)));
        put_spans(buf, area.x, y, spans, area.width);
    }
}

#[cfg(test)]
mod tests {
    use ratatui::style::{Color, Modifier};
    use ratatui::widgets::{Paragraph, Widget};

    use super::*;

    /// The same spans through a `Paragraph` and through `put_spans`, cell for cell.
    fn same_as_paragraph(spans: &[(&str, Style)], width: u16) {
        let area = Rect::new(2, 1, width, 1);
        let mut expected = Buffer::empty(Rect::new(0, 0, 30, 3));
        expected.set_style(expected.area, Style::new().bg(Color::Black));
        let mut actual = expected.clone();
        let line = Line::from(
            spans
                .iter()
                .map(|(text, style)| ratatui::text::Span::styled(*text, *style))
                .collect::<Vec<_>>(),
        );
        Paragraph::new(line).render(area, &mut expected);
        put_spans(
            &mut actual,
            area.x,
            area.y,
            spans.iter().copied(),
            area.width,
        );
        assert_eq!(actual, expected);
    }

    #[test]
    fn writes_like_a_paragraph() {
        let bold = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
        let spans = [
            ("p95 ", Style::new().fg(Color::Gray)),
            ("90 ms", bold),
            ("   ", Style::default()),
        ];
        same_as_paragraph(&spans, 20);
        same_as_paragraph(&spans, 6);
        same_as_paragraph(&[("réseau ─ 世界 ok", bold), ("!", bold)], 20);
        same_as_paragraph(&[("世界世界", bold)], 5);
    }

    #[test]
    fn lines_like_a_paragraph() {
        let muted = Style::new().fg(Color::Gray);
        let lines = [
            Line::from(vec![
                ratatui::text::Span::styled("active ", muted),
                ratatui::text::Span::raw("4"),
            ]),
            Line::styled("no alerts — всё тихо", muted.add_modifier(Modifier::BOLD)),
            Line::default(),
            Line::from("a fourth line, below the area"),
        ];
        let area = Rect::new(1, 1, 12, 3);
        let mut expected = Buffer::empty(Rect::new(0, 0, 20, 6));
        expected.set_style(expected.area, Style::new().bg(Color::Black));
        let mut actual = expected.clone();
        Paragraph::new(lines.to_vec()).render(area, &mut expected);
        put_lines(&mut actual, area, &lines);
        assert_eq!(actual, expected);
    }

    #[test]
    fn stops_at_the_buffer_edge() {
        let mut buf = Buffer::empty(Rect::new(0, 0, 5, 1));
        assert_eq!(put_str(&mut buf, 3, 0, "abcdef", Style::default(), 10), 5);
        assert_eq!(put_str(&mut buf, 7, 0, "abc", Style::default(), 10), 7);
        assert_eq!(put_str(&mut buf, 0, 3, "abc", Style::default(), 10), 0);
        assert_eq!(buf, Buffer::with_lines(["   ab"]));
    }
}
