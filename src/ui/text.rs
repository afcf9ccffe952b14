//! Text written straight into the frame's cells, the way a `Paragraph` of one line writes it
//! (each character's symbol and style, cut at the edge), without its per-cell lookups,
//! grapheme splitting of plain ASCII or line layout.

use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// Puts `symbol` into `cell`, keeping the cell's style: what `set_symbol` does, at a third of
/// the cost when `symbol` is a constant (`const { Cell::new(..) }`, or `const_cell!`). The
/// compiler then knows the symbol is held inline and copies it as it is, where `set_symbol`
/// and `Cell::clone` build or check it byte by byte, for each of thousands of cells a frame.
#[inline(always)]
pub fn put_symbol(cell: &mut Cell, symbol: Cell) -> &mut Cell {
    let (fg, bg, underline_color) = (cell.fg, cell.bg, cell.underline_color);
    let (modifier, diff_option) = (cell.modifier, cell.diff_option);
    #[allow(deprecated)] // Kept as it was, like every field but the symbol.
    let skip = cell.skip;
    *cell = symbol;
    cell.fg = fg;
    cell.bg = bg;
    cell.underline_color = underline_color;
    cell.modifier = modifier;
    cell.diff_option = diff_option;
    #[allow(deprecated)]
    {
        cell.skip = skip;
    }
    cell
}

/// `const { Cell::new(texts[index]) }` for an index known only at run time, one of the listed
/// ones (the `default` otherwise): a match the compiler turns into a table of constant cells.
macro_rules! const_cell {
    ($texts:expr, $index:expr, $default:expr; $($i:literal)*) => {
        match $index {
            $($i => const { Cell::new($texts[$i]) },)*
            _ => $default,
        }
    };
}
pub(crate) use const_cell;

/// The printable ASCII characters, `' '` first, as one-byte texts for `const_cell!`.
static ASCII_BYTES: [[u8; 1]; 95] = {
    let mut bytes = [[0; 1]; 95];
    let mut i = 0;
    while i < 95 {
        bytes[i] = [b' ' + i as u8];
        i += 1;
    }
    bytes
};
static ASCII_TEXTS: [&str; 95] = {
    let mut texts = [" "; 95];
    let mut i = 0;
    while i < 95 {
        if let Ok(text) = std::str::from_utf8(&ASCII_BYTES[i]) {
            texts[i] = text;
        }
        i += 1;
    }
    texts
};

/// A cell holding a printable ASCII character (a space for any other byte).
#[inline(always)]
fn ascii_cell(byte: u8) -> Cell {
    const_cell!(ASCII_TEXTS, byte.wrapping_sub(b' '), Cell::EMPTY;
        0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
        16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31
        32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47
        48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63
        64 65 66 67 68 69 70 71 72 73 74 75 76 77 78 79
        80 81 82 83 84 85 86 87 88 89 90 91 92 93 94
    )
}

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
        put_symbol(cell, ascii_cell(byte)).set_style(style);
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

    /// Only the symbol changes, whatever the cell held before.
    #[test]
    fn puts_the_symbol_alone() {
        let mut cell = Cell::new("a-long-symbol-kept-on-the-heap");
        cell.set_style(Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD))
            .set_diff_option(ratatui::buffer::CellDiffOption::AlwaysUpdate);
        let mut expected = cell.clone();
        expected.set_symbol("─");
        let mut symbol = Cell::new("─");
        symbol.set_fg(Color::Red).set_bg(Color::Blue);
        put_symbol(&mut cell, symbol);
        assert_eq!(cell, expected);
    }

    #[test]
    fn ascii_cells_hold_their_characters() {
        for byte in b' '..=b'~' {
            assert_eq!(ascii_cell(byte).symbol(), char::from(byte).to_string());
        }
        assert_eq!(ascii_cell(b'\n'), Cell::EMPTY);
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
