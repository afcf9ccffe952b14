//! Headline figures in digits three rows tall, for the projector theme: readable from the
//! back of a room.

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
