//! Headline figures in digits three rows tall, for the projector theme: readable from the
//! back of a room.

use ratatui::buffer::Buffer;
use ratatui::style::Style;

/// Glyphs three rows tall and three columns wide, built from block characters.
fn glyph(c: char) -> [&'static str; 3] {
    match c {
        '0' => ["█▀█", "█ █", "▀▀▀"],
        '1' => [" ▄█", "  █", "  ▀"],
        '2' => ["▀▀█", "█▀▀", "▀▀▀"],
        '3' => ["▀▀█", " ▀█", "▀▀▀"],
        '4' => ["█ █", "▀▀█", "  ▀"],
        '5' => ["█▀▀", "▀▀█", "▀▀▀"],
        '6' => ["█▀▀", "█▀█", "▀▀▀"],
        '7' => ["▀▀█", "  █", "  ▀"],
        '8' => ["█▀█", "█▀█", "▀▀▀"],
        '9' => ["█▀█", "▀▀█", "▀▀▀"],
        '.' => [" ", " ", "▀"],
        ',' => [" ", " ", "▀"],
        '%' => ["▀ █", " █ ", "█ ▄"],
        '-' => ["   ", "▀▀▀", "   "],
        ':' => [" ", "▀", "▀"],
        ' ' => [" ", " ", " "],
        _ => ["   ", " ? ", "   "],
    }
}

/// The three rows of `text` in large digits; letters (units) are written small on the last row.
pub fn rows(text: &str) -> [String; 3] {
    let mut rows = [String::new(), String::new(), String::new()];
    for c in text.chars() {
        if c.is_alphabetic() {
            rows[0].push(' ');
            rows[1].push(' ');
            rows[2].push(c);
            continue;
        }
        let glyph = glyph(c);
        for (row, part) in rows.iter_mut().zip(glyph) {
            row.push_str(part);
            row.push(' ');
        }
    }
    rows
}

/// Draws `text` in large digits with its top left at `(x, y)`, cut at `max_width` columns
/// (the cells `rows` would give, written straight into the buffer); returns the width drawn.
pub fn draw(
    buf: &mut Buffer,
    (x, y): (u16, u16),
    max_width: u16,
    text: impl Iterator<Item = char>,
    style: Style,
) -> u16 {
    let end = x.saturating_add(max_width).min(buf.area.right());
    let rows = y..y.saturating_add(3).min(buf.area.bottom());
    if y < buf.area.top() || x < buf.area.left() {
        return 0;
    }
    let mut column = x;
    let put = |buf: &mut Buffer, column: u16, row: u16, symbol: char| {
        if column < end && rows.contains(&row) {
            buf[(column, row)].set_char(symbol).set_style(style);
        }
    };
    for c in text {
        if column >= end {
            break;
        }
        if c.is_alphabetic() {
            put(buf, column, y, ' ');
            put(buf, column, y + 1, ' ');
            if c.is_ascii() {
                put(buf, column, y + 2, c);
            } else if rows.contains(&(y + 2)) {
                let mut bytes = [0; 4];
                buf.set_stringn(column, y + 2, c.encode_utf8(&mut bytes), 1, style);
            }
            column += 1;
            continue;
        }
        let glyph = glyph(c);
        let mut glyph_width = 0;
        for (row, part) in (y..).zip(glyph) {
            let mut at = column;
            for symbol in part.chars().chain([' ']) {
                put(buf, at, row, symbol);
                at += 1;
            }
            glyph_width = at - column;
        }
        column += glyph_width;
    }
    column.min(end) - x
}

/// How many columns `text` takes in large digits.
pub fn width(text: &str) -> usize {
    rows(text)
        .iter()
        .map(|row| row.chars().count())
        .max()
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digits_are_three_rows_of_equal_width() {
        let [top, middle, bottom] = rows("42.5");
        assert_eq!(top.chars().count(), middle.chars().count());
        assert_eq!(middle.chars().count(), bottom.chars().count());
        assert_eq!(width("42.5"), top.chars().count());
    }

    /// `draw` writes the cells a paragraph of `rows` would, cut at the same column.
    #[test]
    fn draw_writes_the_rows() {
        use ratatui::layout::Rect;
        use ratatui::style::{Color, Modifier};
        use ratatui::text::Line;
        use ratatui::widgets::{Paragraph, Widget};

        let style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);
        for text in ["42.5", "7ms", "1,5%", "-3:09", "181MiB", "0.4мс"] {
            for width in [3, 8, 40] {
                let area = Rect::new(2, 1, width, 3);
                let mut expected = Buffer::empty(Rect::new(0, 0, 50, 5));
                let mut actual = expected.clone();
                let lines: Vec<Line> = rows(text)
                    .into_iter()
                    .map(|row| Line::styled(row, style))
                    .collect();
                Paragraph::new(lines).render(area, &mut expected);
                let drawn = draw(&mut actual, (2, 1), width, text.chars(), style);
                assert_eq!(actual, expected, "{text} in {width}");
                assert_eq!(drawn, width.min(super::width(text) as u16));
            }
        }
    }

    #[test]
    fn units_stay_small() {
        let [top, middle, bottom] = rows("7ms");
        assert!(bottom.ends_with("ms"));
        assert!(
            top.ends_with("  ") && middle.ends_with("  "),
            "{top:?} {middle:?}"
        );
        assert_eq!(top.chars().count(), bottom.chars().count());
    }
}
