//! The braille dot grid of one chart line: chart coordinates to dots, segments clipped to the
//! bounds and walked with Bresenham, then the cells with dots written into the buffer. The
//! arithmetic and the walk are ratatui's canvas's, so the same dots come out.

use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::Rect;
use ratatui::style::Color;
use ratatui::symbols::braille::BRAILLE;

use crate::ui::text::{const_cell, put_symbol};

/// Each braille pattern's character as UTF-8 (all are three bytes), built at compile time so
/// that its cell can be a constant.
static PATTERN_BYTES: [[u8; 3]; 256] = {
    let mut bytes = [[0; 3]; 256];
    let mut i = 0;
    while i < 256 {
        let code = BRAILLE[i] as u32;
        bytes[i] = [
            0xE0 | (code >> 12) as u8,
            0x80 | ((code >> 6) & 0x3F) as u8,
            0x80 | (code & 0x3F) as u8,
        ];
        i += 1;
    }
    bytes
};
static PATTERN_TEXTS: [&str; 256] = {
    let mut texts = [" "; 256];
    let mut i = 0;
    while i < 256 {
        if let Ok(text) = std::str::from_utf8(&PATTERN_BYTES[i]) {
            texts[i] = text;
        }
        i += 1;
    }
    texts
};

/// The cell of a braille pattern, by its dot bits.
#[inline(always)]
fn pattern_cell(pattern: u8) -> Cell {
    const_cell!(PATTERN_TEXTS, usize::from(pattern), Cell::EMPTY;
        0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15
        16 17 18 19 20 21 22 23 24 25 26 27 28 29 30 31
        32 33 34 35 36 37 38 39 40 41 42 43 44 45 46 47
        48 49 50 51 52 53 54 55 56 57 58 59 60 61 62 63
        64 65 66 67 68 69 70 71 72 73 74 75 76 77 78 79
        80 81 82 83 84 85 86 87 88 89 90 91 92 93 94 95
        96 97 98 99 100 101 102 103 104 105 106 107 108 109 110 111
        112 113 114 115 116 117 118 119 120 121 122 123 124 125 126 127
        128 129 130 131 132 133 134 135 136 137 138 139 140 141 142 143
        144 145 146 147 148 149 150 151 152 153 154 155 156 157 158 159
        160 161 162 163 164 165 166 167 168 169 170 171 172 173 174 175
        176 177 178 179 180 181 182 183 184 185 186 187 188 189 190 191
        192 193 194 195 196 197 198 199 200 201 202 203 204 205 206 207
        208 209 210 211 212 213 214 215 216 217 218 219 220 221 222 223
        224 225 226 227 228 229 230 231 232 233 234 235 236 237 238 239
        240 241 242 243 244 245 246 247 248 249 250 251 252 253 254 255
    )
}

/// Dots per cell of the braille grid.
const DOTS_X: usize = 2;
const DOTS_Y: usize = 4;

/// Draws a polyline point by point: each segment clipped to the bounds, then a Bresenham line
/// between dot positions. Every point inside the bounds gets its dot even where its segment
/// could not be drawn, as ratatui's chart draws the points under the lines.
#[derive(Default)]
pub struct Pen {
    /// The last point, with its dot where it lies inside the bounds.
    last: Option<((f64, f64), Option<Dot>)>,
}

/// A dot of the braille grid: column and row from the top left.
type Dot = (usize, usize);

impl Pen {
    pub fn line_to(&mut self, grid: &mut DotGrid, x: f64, y: f64) {
        let dot = grid.dot_of(x, y);
        match (self.last, dot) {
            // Both ends inside: clipping would change neither.
            (Some((_, Some(from))), Some(to)) => {
                for_each_line_dot(from, to, |x, y| grid.set(x, y));
            }
            (Some((from, _)), _) if grid.line(from, (x, y)) => {}
            (_, Some((dot_x, dot_y))) => grid.set(dot_x, dot_y),
            (_, None) => {}
        }
        self.last = Some(((x, y), dot));
    }
}

/// The braille dots of one series over the graph area: one byte per cell, one bit per dot
/// (row-major 2×4, the order of ratatui's braille table).
pub struct DotGrid {
    area: Rect,
    x_bounds: [f64; 2],
    y_bounds: [f64; 2],
    /// The highest dot column and row, as the scale from chart coordinates to dots.
    last_column: f64,
    last_row: f64,
    cells: Vec<u8>,
}

impl DotGrid {
    pub fn new(area: Rect, x_bounds: [f64; 2], y_bounds: [f64; 2]) -> DotGrid {
        DotGrid {
            area,
            x_bounds,
            y_bounds,
            last_column: f64::from(area.width) * DOTS_X as f64 - 1.0,
            last_row: f64::from(area.height) * DOTS_Y as f64 - 1.0,
            cells: vec![0; usize::from(area.width) * usize::from(area.height)],
        }
    }

    pub fn clear(&mut self) {
        self.cells.fill(0);
    }

    /// The dot at chart coordinates `(x, y)`, nearest by rounding, or none outside the bounds.
    /// The same arithmetic as ratatui's canvas, so the same dot comes out.
    fn dot_of(&self, x: f64, y: f64) -> Option<(usize, usize)> {
        let [left, right] = self.x_bounds;
        let [bottom, top] = self.y_bounds;
        if x < left || x > right || y < bottom || y > top {
            return None;
        }
        let (width, height) = (right - left, top - bottom);
        if width <= 0.0 || height <= 0.0 {
            return None;
        }
        let dot_x = round_non_negative((x - left) * self.last_column / width);
        let dot_y = round_non_negative((top - y) * self.last_row / height);
        Some((dot_x, dot_y))
    }

    fn set(&mut self, x: usize, y: usize) {
        let index = (y / DOTS_Y) * usize::from(self.area.width) + x / DOTS_X;
        if let Some(cell) = self.cells.get_mut(index) {
            *cell |= 1 << ((x % DOTS_X) + DOTS_X * (y % DOTS_Y));
        }
    }

    /// Draws the segment's part inside the bounds; returns whether anything was drawn.
    fn line(&mut self, from: (f64, f64), to: (f64, f64)) -> bool {
        let window = [self.x_bounds, self.y_bounds];
        let Some([(x1, y1), (x2, y2)]) = clip(window, from, to) else {
            return false;
        };
        let (Some(from), Some(to)) = (self.dot_of(x1, y1), self.dot_of(x2, y2)) else {
            return false;
        };
        for_each_line_dot(from, to, |x, y| self.set(x, y));
        true
    }

    /// Writes every cell with a dot: its braille character and the series' colour.
    pub fn paint_onto(&self, buf: &mut Buffer, color: Color) {
        let width = usize::from(self.area.width);
        if width == 0 {
            return;
        }
        for (row, patterns) in self.cells.chunks(width).enumerate() {
            let y = self.area.top() + row as u16;
            let start = buf.index_of(self.area.left(), y);
            let cells = &mut buf.content[start..start + width];
            for (cell, &pattern) in cells.iter_mut().zip(patterns) {
                if pattern != 0 {
                    put_symbol(cell, pattern_cell(pattern)).set_fg(color);
                }
            }
        }
    }
}

/// `value.round()` (halves away from zero) for a value ≥ 0, without the call into libm: it
/// runs twice per point drawn.
fn round_non_negative(value: f64) -> usize {
    // Through i64: x86-64 converts signed integers in one instruction, unsigned ones not.
    let whole = value as i64;
    let rounded = if value - whole as f64 >= 0.5 {
        whole + 1
    } else {
        whole
    };
    usize::try_from(rounded).unwrap_or(0)
}

/// Cohen–Sutherland clipping of a segment to `[[x_min, x_max], [y_min, y_max]]`.
fn clip(window: [[f64; 2]; 2], mut p1: (f64, f64), mut p2: (f64, f64)) -> Option<[(f64, f64); 2]> {
    const LEFT: u8 = 1;
    const RIGHT: u8 = 2;
    const BOTTOM: u8 = 4;
    const TOP: u8 = 8;
    let [[x_min, x_max], [y_min, y_max]] = window;
    let region = |(x, y): (f64, f64)| {
        let horizontal = if x < x_min {
            LEFT
        } else if x > x_max {
            RIGHT
        } else {
            0
        };
        let vertical = if y < y_min {
            BOTTOM
        } else if y > y_max {
            TOP
        } else {
            0
        };
        horizontal | vertical
    };
    let intersection = |(x1, y1): (f64, f64), (x2, y2): (f64, f64), outside: u8| {
        let (dx, dy) = (x2 - x1, y2 - y1);
        if outside & LEFT != 0 {
            (x_min, y1 + (x_min - x1) * dy / dx)
        } else if outside & RIGHT != 0 {
            (x_max, y1 + (x_max - x1) * dy / dx)
        } else if outside & BOTTOM != 0 {
            (x1 + (y_min - y1) * dx / dy, y_min)
        } else {
            (x1 + (y_max - y1) * dx / dy, y_max)
        }
    };
    let (mut region1, mut region2) = (region(p1), region(p2));
    loop {
        if region1 & region2 != 0 {
            return None;
        } else if region1 != 0 {
            p1 = intersection(p1, p2, region1);
            region1 = region(p1);
        } else if region2 != 0 {
            p2 = intersection(p2, p1, region2);
            region2 = region(p2);
        } else {
            return Some([p1, p2]);
        }
    }
}

/// Calls `dot(x, y)` for each dot of the Bresenham line between two dots, walking the same
/// way as ratatui's canvas so the same dots come out.
fn for_each_line_dot(
    (x1, y1): (usize, usize),
    (x2, y2): (usize, usize),
    mut dot: impl FnMut(usize, usize),
) {
    let dx = x2.abs_diff(x1);
    let dy = y2.abs_diff(y1);
    if dx == 0 {
        for y in y1.min(y2)..=y1.max(y2) {
            dot(x1, y);
        }
    } else if dy == 0 {
        for x in x1.min(x2)..=x1.max(x2) {
            dot(x, y1);
        }
    } else if dy < dx {
        if x1 > x2 {
            line_low((x2, y2), (x1, y1), dot);
        } else {
            line_low((x1, y1), (x2, y2), dot);
        }
    } else if y1 > y2 {
        line_high((x2, y2), (x1, y1), dot);
    } else {
        line_high((x1, y1), (x2, y2), dot);
    }
}

/// A line that runs further in x than in y, `x1 < x2`: one dot per column.
fn line_low((x1, y1): (usize, usize), (x2, y2): (usize, usize), mut dot: impl FnMut(usize, usize)) {
    let dx = (x2 - x1) as isize;
    let dy = (y2 as isize - y1 as isize).abs();
    let mut d = 2 * dy - dx;
    let mut y = y1;
    for x in x1..=x2 {
        dot(x, y);
        if d > 0 {
            y = if y1 > y2 {
                y.saturating_sub(1)
            } else {
                y.saturating_add(1)
            };
            d -= 2 * dx;
        }
        d += 2 * dy;
    }
}

/// A line that runs at least as far in y as in x, `y1 < y2`: one dot per row.
fn line_high(
    (x1, y1): (usize, usize),
    (x2, y2): (usize, usize),
    mut dot: impl FnMut(usize, usize),
) {
    let dx = (x2 as isize - x1 as isize).abs();
    let dy = (y2 - y1) as isize;
    let mut d = 2 * dx - dy;
    let mut x = x1;
    for y in y1..=y2 {
        dot(x, y);
        if d > 0 {
            x = if x1 > x2 {
                x.saturating_sub(1)
            } else {
                x.saturating_add(1)
            };
            d -= 2 * dy;
        }
        d += 2 * dx;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_cells_hold_ratatuis_braille() {
        for (pattern, symbol) in BRAILLE.iter().enumerate() {
            let pattern = u8::try_from(pattern).unwrap();
            assert_eq!(pattern_cell(pattern).symbol(), symbol.to_string());
        }
    }

    #[test]
    fn round_matches_the_standard_one() {
        for value in [0.0, 0.2, 0.5, 0.49999999999999994, 1.5, 2.5, 7.0, 1e9] {
            assert_eq!(round_non_negative(value), value.round() as usize, "{value}");
        }
    }
}
