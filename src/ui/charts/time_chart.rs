//! A line chart of time series drawn in braille dots straight into the frame's buffer.
//!
//! It looks like ratatui's `Chart` with braille line datasets (same axes, labels, dot grid and
//! Bresenham lines, a later series covering an earlier one in a shared cell), but reads the
//! samples where they are stored, thins them on the fly to at most two per dot column and
//! paints one small bit grid: no point lists, canvas layers or per-cell lookups each frame.
//! The graph keeps the frame's background: nothing here sets one.

use ratatui::buffer::{Buffer, Cell};
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::symbols::line;
use ratatui::text::Span;
use ratatui::widgets::Widget;

use super::braille::{DotGrid, Pen};
use crate::signals::Sample;
use crate::ui::text::put_symbol;

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
        let mut max = self.floor_max;
        for series in self.series {
            for sample in series.samples.clone() {
                let value = sample.value * series.scale;
                // `f64::max` as a plain comparison: NaN is passed over the same way, without
                // the NaN checks `f64::max` costs on every sample.
                if value > max {
                    max = value;
                }
            }
        }
        max * 1.15
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
                put_symbol(cell, const { Cell::new(line::HORIZONTAL) }).set_style(axis_style);
            }
        }
        if let Some(x) = self.axis_y {
            for y in graph.top()..graph.bottom() {
                put_symbol(&mut buf[(x, y)], const { Cell::new(line::VERTICAL) })
                    .set_style(axis_style);
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
    fn floor_matches_the_standard_one() {
        for value in [-3.5, -3.0, -0.2, 0.0, 0.2, 0.5, 2.5, 7.0, 1e9] {
            assert_eq!(floor(value), value.floor() as i64, "{value}");
        }
    }
}
