//! A line chart of time series drawn in braille dots straight into the frame's buffer.
//!
//! It looks like ratatui's `Chart` with braille line datasets (same axes, labels, dot grid and
//! Bresenham lines, a later series covering an earlier one in a shared cell), but reads the
//! samples where they are stored, thins them on the fly to at most two per dot column and
//! paints one small bit grid: no point lists, canvas layers or per-cell lookups each frame.
//! The graph keeps the frame's background: nothing here sets one.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::symbols::{braille::BRAILLE, line};
use ratatui::text::Span;
use ratatui::widgets::Widget;

use crate::signals::Sample;

/// Dots per cell of the braille grid.
const DOTS_X: usize = 2;
const DOTS_Y: usize = 4;

/// One line of a chart: its samples (oldest first), the factor that turns a value into the
/// unit shown, and its colour.
pub struct TimeSeries<I> {
    pub samples: I,
    pub scale: f64,
    pub color: Color,
}

/// Several series over the last `window` seconds before `now`, sharing one y axis that starts
/// at zero and reaches 15 % above the highest value (at least `floor_max`).
pub struct TimeChart<'a, I> {
    pub series: &'a [TimeSeries<I>],
    pub now: f64,
    pub window: f64,
    pub unit: &'a str,
    pub floor_max: f64,
    pub axis_style: Style,
}

impl<'s, I> TimeChart<'_, I>
where
    I: Iterator<Item = &'s Sample> + Clone,
{
    /// The top of the y axis.
    fn y_max(&self) -> f64 {
        self.series
            .iter()
            .flat_map(|series| {
                series
                    .samples
                    .clone()
                    .map(move |sample| sample.value * series.scale)
            })
            .fold(self.floor_max, f64::max)
            * 1.15
    }
}

impl<'s, I> Widget for TimeChart<'_, I>
where
    I: Iterator<Item = &'s Sample> + Clone,
{
    fn render(self, area: Rect, buf: &mut Buffer) {
        let area = area.intersection(buf.area);
        if area.is_empty() {
            return;
        }
        let max = self.y_max();
        let minutes = (self.window / 60.0).round();
        let x_labels = [format!("-{minutes}m"), "now".to_string()];
        let y_labels = ["0".to_string(), format!("{max:.0}{}", self.unit)];
        let layout = ChartLayout::new(area, &x_labels[0], &y_labels);
        layout.draw_axes(buf, self.axis_style, &x_labels, &y_labels);
        let graph = layout.graph;
        if graph.is_empty() {
            return;
        }
        let mut grid = DotGrid::new(graph, [-self.window, 0.0], [0.0, max]);
        // Thinned to the chart's whole width, as the samples were before the axes took room.
        let dot_seconds = self.window / (f64::from(area.width.max(1)) * 2.0);
        for series in self.series {
            grid.clear();
            let mut pen = Pen::default();
            for_each_thinned(
                series.samples.clone(),
                self.now,
                series.scale,
                dot_seconds,
                |x, y| pen.line_to(&mut grid, x, y),
            );
            grid.paint_onto(buf, series.color);
        }
    }
}

/// Where the labels, axes and graph go: ratatui's `Chart` layout for two labels on each axis,
/// the x labels aligned left.
struct ChartLayout {
    area: Rect,
    /// Row of the x labels, row of the x axis, column of the y axis.
    label_x: Option<u16>,
    axis_x: Option<u16>,
    axis_y: Option<u16>,
    graph: Rect,
}

impl ChartLayout {
    fn new(area: Rect, first_x_label: &str, y_labels: &[String; 2]) -> ChartLayout {
        let mut x = area.left();
        let mut y = area.bottom() - 1;
        let mut label_x = None;
        if y > area.top() {
            label_x = Some(y);
            y -= 1;
        }
        // The y labels and the first x label (its end under the y axis) take at most a third.
        let left_width = y_labels
            .iter()
            .map(|label| text_width(label))
            .chain([text_width(first_x_label).saturating_sub(1)])
            .max()
            .unwrap_or(0)
            .min(area.width / 3);
        x += left_width;
        let mut axis_x = None;
        if y > area.top() {
            axis_x = Some(y);
            y -= 1;
        }
        let mut axis_y = None;
        if x + 1 < area.right() {
            axis_y = Some(x);
            x += 1;
        }
        let graph = Rect::new(
            x,
            area.top(),
            area.right().saturating_sub(x),
            y.saturating_sub(area.top()).saturating_add(1),
        );
        ChartLayout {
            area,
            label_x,
            axis_x,
            axis_y,
            graph,
        }
    }

    fn draw_axes(
        &self,
        buf: &mut Buffer,
        axis_style: Style,
        x_labels: &[String; 2],
        y_labels: &[String; 2],
    ) {
        let (area, graph) = (self.area, self.graph);
        if let Some(y) = self.label_x {
            let between_ticks = graph.width / 2;
            let first = Rect::new(area.left(), y, graph.left() - area.left(), 1);
            put_label(buf, first, &x_labels[0], true);
            let last = Rect::new(graph.right() - between_ticks, y, between_ticks, 1);
            put_label(buf, last, &x_labels[1], true);
        }
        let label_width = (graph.left() - area.left()).saturating_sub(1);
        for (index, label) in y_labels.iter().enumerate() {
            let dy = index as u16 * graph.height.saturating_sub(1);
            if dy < graph.bottom() {
                let row = graph.bottom().saturating_sub(1) - dy;
                put_label(
                    buf,
                    Rect::new(area.left(), row, label_width, 1),
                    label,
                    false,
                );
            }
        }
        if let Some(y) = self.axis_x {
            let start = buf.index_of(graph.left(), y);
            for cell in &mut buf.content[start..start + usize::from(graph.width)] {
                cell.set_symbol(line::HORIZONTAL).set_style(axis_style);
            }
        }
        if let Some(x) = self.axis_y {
            for y in graph.top()..graph.bottom() {
                buf[(x, y)].set_symbol(line::VERTICAL).set_style(axis_style);
            }
            if let Some(y) = self.axis_x {
                buf[(x, y)]
                    .set_symbol(line::BOTTOM_LEFT)
                    .set_style(axis_style);
            }
        }
    }
}

fn text_width(text: &str) -> u16 {
    u16::try_from(Span::raw(text).width()).unwrap_or(u16::MAX)
}

/// Writes a one-row label into `area` without changing its style; one too long loses its start
/// when aligned right and its end otherwise.
fn put_label(buf: &mut Buffer, area: Rect, text: &str, align_right: bool) {
    let area = area.intersection(buf.area);
    if area.is_empty() {
        return;
    }
    let width = text_width(text);
    if width <= area.width {
        let x = if align_right {
            area.right() - width
        } else {
            area.left()
        };
        buf.set_stringn(x, area.y, text, usize::from(width), Style::default());
    } else if align_right {
        let skip = usize::from(width - area.width);
        let start = text
            .char_indices()
            .nth(skip)
            .map_or(text.len(), |(at, _)| at);
        buf.set_stringn(
            area.x,
            area.y,
            &text[start..],
            usize::from(area.width),
            Style::default(),
        );
    } else {
        buf.set_stringn(
            area.x,
            area.y,
            text,
            usize::from(area.width),
            Style::default(),
        );
    }
}

/// Calls `point(x, y)` for the samples as chart points (seconds before `now`, scaled value),
/// keeping only the lowest and highest of each `dot_seconds` column, in time order: drawing
/// more than the terminal can show only costs time, and a spike survives.
fn for_each_thinned<'s>(
    samples: impl Iterator<Item = &'s Sample>,
    now: f64,
    scale: f64,
    dot_seconds: f64,
    mut point: impl FnMut(f64, f64),
) {
    let mut flush = |low: (f64, f64), high: (f64, f64)| {
        if low.1.is_finite() {
            let (first, second) = if low.0 <= high.0 {
                (low, high)
            } else {
                (high, low)
            };
            point(first.0, first.1);
            if second != first {
                point(second.0, second.1);
            }
        }
    };
    let mut column = None;
    let mut low = (0.0, f64::INFINITY);
    let mut high = (0.0, f64::NEG_INFINITY);
    for sample in samples {
        let x = sample.at - now;
        let y = sample.value * scale;
        let this_column = Some(floor(x / dot_seconds));
        if this_column != column {
            flush(low, high);
            column = this_column;
            low = (x, f64::INFINITY);
            high = (x, f64::NEG_INFINITY);
        }
        if y < low.1 {
            low = (x, y);
        }
        if y > high.1 {
            high = (x, y);
        }
    }
    flush(low, high);
}

/// Draws a polyline point by point: each segment clipped to the bounds, then a Bresenham line
/// between dot positions. Every point inside the bounds gets its dot even where its segment
/// could not be drawn, as ratatui's chart draws the points under the lines.
#[derive(Default)]
struct Pen {
    /// The last point, with its dot where it lies inside the bounds.
    last: Option<((f64, f64), Option<Dot>)>,
}

/// A dot of the braille grid: column and row from the top left.
type Dot = (usize, usize);

impl Pen {
    fn line_to(&mut self, grid: &mut DotGrid, x: f64, y: f64) {
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
struct DotGrid {
    area: Rect,
    x_bounds: [f64; 2],
    y_bounds: [f64; 2],
    /// The highest dot column and row, as the scale from chart coordinates to dots.
    last_column: f64,
    last_row: f64,
    cells: Vec<u8>,
}

impl DotGrid {
    fn new(area: Rect, x_bounds: [f64; 2], y_bounds: [f64; 2]) -> DotGrid {
        DotGrid {
            area,
            x_bounds,
            y_bounds,
            last_column: f64::from(area.width) * DOTS_X as f64 - 1.0,
            last_row: f64::from(area.height) * DOTS_Y as f64 - 1.0,
            cells: vec![0; usize::from(area.width) * usize::from(area.height)],
        }
    }

    fn clear(&mut self) {
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
    fn paint_onto(&self, buf: &mut Buffer, color: Color) {
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
                    cell.set_char(BRAILLE[usize::from(pattern)]).set_fg(color);
                }
            }
        }
    }
}

/// `value.floor()` as an integer, for values far inside the i64 range. The standard `floor`
/// is a call into libm on the baseline x86-64 target, and this runs once per sample.
fn floor(value: f64) -> i64 {
    let truncated = value as i64;
    if (truncated as f64) > value {
        truncated - 1
    } else {
        truncated
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

/// A line steeper in x than in y, `x1 < x2`: one dot per column.
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

/// A line at least as steep in y as in x, `y1 < y2`: one dot per row.
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
    use ratatui::symbols::Marker;
    use ratatui::widgets::{Axis, Chart, Dataset, GraphType};

    use super::*;

    const NOW: f64 = 1_795_341_600.0;

    /// Samples once a second over `seconds` up to `now + ahead`, with a wave, spikes and, when
    /// asked, values below zero.
    fn samples(seconds: u32, ahead: f64, seed: u32, below_zero: bool) -> Vec<Sample> {
        (0..seconds)
            .map(|second| {
                let wave = f64::from((second * 7919 + seed * 104_729) % 37) / 37.0;
                let spike = if (second + seed) % 97 == 0 { 20.0 } else { 0.0 };
                let floor = if below_zero { -0.4 } else { 0.0 };
                Sample {
                    at: NOW - f64::from(seconds) + f64::from(second) + ahead,
                    value: floor + wave + spike,
                }
            })
            .collect()
    }

    /// The chart as ratatui draws it from the thinned points, the way the panels did before.
    fn through_ratatui(chart: &TimeChart<'_, std::slice::Iter<'_, Sample>>, area: Rect) -> Buffer {
        let dot_seconds = chart.window / (f64::from(area.width.max(1)) * 2.0);
        let points: Vec<Vec<(f64, f64)>> = chart
            .series
            .iter()
            .map(|series| {
                let mut points = Vec::new();
                let samples = series.samples.clone();
                for_each_thinned(samples, chart.now, series.scale, dot_seconds, |x, y| {
                    points.push((x, y));
                });
                points
            })
            .collect();
        let max = chart.y_max();
        let datasets = chart
            .series
            .iter()
            .zip(&points)
            .map(|(series, points)| {
                Dataset::default()
                    .marker(Marker::Braille)
                    .graph_type(GraphType::Line)
                    .style(Style::new().fg(series.color))
                    .data(points)
            })
            .collect();
        let minutes = (chart.window / 60.0).round();
        let reference = Chart::new(datasets)
            .x_axis(
                Axis::default()
                    .bounds([-chart.window, 0.0])
                    .style(chart.axis_style)
                    .labels([format!("-{minutes}m"), "now".to_string()]),
            )
            .y_axis(
                Axis::default()
                    .bounds([0.0, max])
                    .style(chart.axis_style)
                    .labels(["0".to_string(), format!("{max:.0}{}", chart.unit)]),
            )
            .legend_position(None);
        let mut buf = Buffer::empty(Rect::new(0, 0, area.right() + 1, area.bottom() + 1));
        reference.render(area, &mut buf);
        buf
    }

    fn same_as_ratatui(series: &[(Vec<Sample>, f64, Color)], window: f64, area: Rect) {
        let series: Vec<TimeSeries<std::slice::Iter<'_, Sample>>> = series
            .iter()
            .map(|(samples, scale, color)| TimeSeries {
                samples: samples.iter(),
                scale: *scale,
                color: *color,
            })
            .collect();
        let chart = TimeChart {
            series: &series,
            now: NOW,
            window,
            unit: " ms",
            floor_max: 1.0,
            axis_style: Style::new().fg(Color::Indexed(245)),
        };
        let expected = through_ratatui(&chart, area);
        let mut actual = Buffer::empty(expected.area);
        chart.render(area, &mut actual);
        assert_eq!(
            actual, expected,
            "{}x{} over {window} s",
            area.width, area.height
        );
    }

    #[test]
    fn draws_the_cells_ratatuis_chart_draws() {
        let areas = [
            Rect::new(0, 0, 10, 3),
            Rect::new(3, 2, 41, 11),
            Rect::new(1, 1, 97, 19),
            Rect::new(0, 0, 198, 44),
        ];
        let data = [
            vec![(samples(900, 0.0, 1, false), 1.0, Color::Cyan)],
            vec![
                (samples(900, 0.0, 2, false), 1000.0, Color::Cyan),
                (samples(900, 0.0, 2, false), 1000.0, Color::Yellow),
                (samples(600, 0.0, 3, false), 1000.0, Color::Magenta),
            ],
            // Samples after `now` and below zero are cut at the bounds.
            vec![(samples(300, 4.0, 4, true), 100.0, Color::Red)],
            vec![(samples(1, 0.0, 5, false), 1.0, Color::Blue)],
            vec![(samples(2, 0.0, 6, false), 1.0, Color::Blue)],
            vec![(Vec::new(), 1.0, Color::Blue)],
        ];
        for area in areas {
            for series in &data {
                for window in [300.0, 900.0] {
                    same_as_ratatui(series, window, area);
                }
            }
        }
    }

    #[test]
    fn keeps_the_background_it_is_drawn_on() {
        let samples = samples(300, 0.0, 7, false);
        let series = [TimeSeries {
            samples: samples.iter(),
            scale: 1.0,
            color: Color::Cyan,
        }];
        let chart = TimeChart {
            series: &series,
            now: NOW,
            window: 300.0,
            unit: "",
            floor_max: 1.0,
            axis_style: Style::new().fg(Color::Gray),
        };
        let area = Rect::new(0, 0, 40, 10);
        let mut buf = Buffer::empty(area);
        buf.set_style(area, Style::new().bg(Color::Indexed(16)));
        chart.render(area, &mut buf);
        assert!(buf.content.iter().all(|cell| cell.bg == Color::Indexed(16)));
        assert!(
            buf.content
                .iter()
                .any(|cell| cell.fg == Color::Cyan && cell.symbol() != " ")
        );
    }

    #[test]
    fn floor_and_round_match_the_standard_ones() {
        for value in [
            -3.5,
            -3.0,
            -0.2,
            0.0,
            0.2,
            0.5,
            0.49999999999999994,
            2.5,
            7.0,
            1e9,
        ] {
            assert_eq!(floor(value), value.floor() as i64, "{value}");
            if value >= 0.0 {
                assert_eq!(round_non_negative(value), value.round() as usize, "{value}");
            }
        }
    }
}
