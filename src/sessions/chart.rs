//! The report's chart: one small panel per signal of the case (watched and recovery signals,
//! each on its own scale and unit), sharing one time axis, with the drill's phases shaded
//! across all panels (baseline, fault → detection, response, recovery) and numbered markers
//! (injection, alert condition and firing, detection, reset, recovery) explained under it.
//! Plain SVG 1.1 with its size in pixels, so it renders the same in a browser, in Markdown
//! viewers and in `rsvg-convert`. Pure: a record in, text out.

use std::fmt::Write as _;

use super::document::html_text;
use super::facts::{Clock, since_injection};
use super::words::words;
use crate::drill::marks::{Mark, MarkKind, marks};
use crate::drill::record::SessionRecord;
use crate::drill::signal_words::{signal_name, signal_value};
use crate::drill::state::Phase;
use crate::i18n::Lang;
use crate::signals::{Signal, UnixSeconds};

pub const WIDTH: u32 = 760;
const LEFT: f64 = 96.0;
const RIGHT: f64 = 20.0;
const TOP: f64 = 58.0;
const PANEL: f64 = 96.0;
const PANEL_GAP: f64 = 30.0;
const AXIS: f64 = 30.0;
const LEGEND_LINE: f64 = 17.0;
/// Points further apart than this (or three polls, when the series was thinned) are not
/// joined by a line.
const GAP_S: f64 = 10.0;

const BAND_COLOURS: [&str; 4] = ["#9e9e9e", "#e53935", "#fb8c00", "#43a047"];
const LINE_COLOUR: &str = "#1565c0";
const MARKER_COLOUR: &str = "#424242";

/// A chart of `record`'s series; `None` when the record holds no series of the case's
/// signals (records of version 1 keep none).
pub fn chart_svg(record: &SessionRecord, lang: Lang, clock: Clock) -> Option<String> {
    let series = &record.drill.series;
    let origin = series.origin_at?;
    let signals: Vec<Signal> = record
        .figures
        .signals
        .iter()
        .map(|figure| figure.signal)
        .filter(|signal| series.get(*signal).is_some_and(|s| !s.values.is_empty()))
        .collect();
    if signals.is_empty() {
        return None;
    }
    let drill = &record.drill;
    let last_point = series
        .signals
        .iter()
        .filter_map(|s| s.offsets.last().map(|offset| origin + offset))
        .fold(f64::MIN, f64::max);
    let start = drill.started_at.min(origin);
    let end = last_point.max(drill.last_at).max(start + 1.0);
    let time = TimeAxis { start, end };
    let shown: Vec<Mark> = marks(drill)
        .into_iter()
        .filter(|mark| charted(mark.kind) && mark.at >= start && mark.at <= end)
        .collect();

    let plot_bottom = TOP + signals.len() as f64 * (PANEL + PANEL_GAP) - PANEL_GAP;
    let legend_top = plot_bottom + AXIS + 8.0;
    let height = legend_top + shown.len() as f64 * LEGEND_LINE + 10.0;
    let w = words(lang);
    let mut svg = String::new();
    let _ = write!(
        svg,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"{WIDTH}\" \
         height=\"{height:.0}\" viewBox=\"0 0 {WIDTH} {height:.0}\" font-family=\"sans-serif\" \
         font-size=\"11\">\n<title>{}</title>\n\
         <rect x=\"0\" y=\"0\" width=\"{WIDTH}\" height=\"{height:.0}\" fill=\"#ffffff\"/>\n",
        html_text(w.chart_title)
    );

    // The bands' legend, then the bands across every panel.
    let mut x = LEFT;
    for (label, colour) in w.chart_bands.iter().zip(BAND_COLOURS) {
        let _ = writeln!(
            svg,
            "<rect x=\"{x:.1}\" y=\"12\" width=\"12\" height=\"12\" fill=\"{colour}\" \
             fill-opacity=\"0.35\"/><text x=\"{:.1}\" y=\"22\">{}</text>",
            x + 16.0,
            html_text(label)
        );
        x += 24.0 + 6.5 * label.chars().count() as f64;
    }
    for (band, colour) in phase_bands(record, end).into_iter().zip(BAND_COLOURS) {
        let Some((from, to)) = band else { continue };
        let _ = writeln!(
            svg,
            "<rect x=\"{:.1}\" y=\"{TOP:.1}\" width=\"{:.1}\" height=\"{:.1}\" fill=\"{colour}\" \
             fill-opacity=\"0.15\"/>",
            time.x(from),
            (time.x(to) - time.x(from)).max(0.5),
            plot_bottom - TOP
        );
    }

    for (index, signal) in signals.iter().enumerate() {
        let top = TOP + index as f64 * (PANEL + PANEL_GAP);
        panel(&mut svg, record, *signal, top, &time, lang);
    }

    // The time axis under the last panel: seconds from the injection (or the start).
    let zero = drill.injected_at.unwrap_or(start);
    for tick in time.ticks(zero) {
        let x = time.x(tick);
        let _ = writeln!(
            svg,
            "<line x1=\"{x:.1}\" y1=\"{plot_bottom:.1}\" x2=\"{x:.1}\" y2=\"{:.1}\" \
             stroke=\"#757575\"/><text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>",
            plot_bottom + 4.0,
            plot_bottom + 16.0,
            html_text(&offset_label(tick - zero, lang))
        );
    }
    let _ = writeln!(
        svg,
        "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\" fill=\"#616161\">{}</text>",
        f64::from(WIDTH) - RIGHT,
        plot_bottom + AXIS - 2.0,
        html_text(if drill.injected_at.is_some() {
            w.chart_axis_fault
        } else {
            w.chart_axis_start
        })
    );

    // Numbered markers over every panel, explained below.
    for (number, mark) in shown.iter().enumerate() {
        let x = time.x(mark.at);
        let _ = writeln!(
            svg,
            "<line x1=\"{x:.1}\" y1=\"{:.1}\" x2=\"{x:.1}\" y2=\"{plot_bottom:.1}\" \
             stroke=\"{MARKER_COLOUR}\" stroke-dasharray=\"3,3\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" text-anchor=\"middle\" font-weight=\"bold\">{}</text>",
            TOP - 12.0,
            TOP - 14.0,
            number + 1
        );
        let _ = writeln!(
            svg,
            "<text x=\"{LEFT:.1}\" y=\"{:.1}\">{}  {}  {}  {}</text>",
            legend_top + (number as f64 + 1.0) * LEGEND_LINE - 4.0,
            number + 1,
            html_text(&since_injection(record, mark.at, lang)),
            clock.time_of_day(mark.at),
            html_text(&mark_words(mark, lang))
        );
    }
    svg.push_str("</svg>\n");
    Some(svg)
}

/// One signal's panel: its name, its scale with units, its threshold, its line.
fn panel(
    svg: &mut String,
    record: &SessionRecord,
    signal: Signal,
    top: f64,
    time: &TimeAxis,
    lang: Lang,
) {
    let series = &record.drill.series;
    let (Some(origin), Some(points)) = (series.origin_at, series.get(signal)) else {
        return;
    };
    let threshold = record
        .drill
        .signals
        .iter()
        .find(|track| track.signal == signal)
        .map(|track| track.threshold);
    let values = points.values.iter().copied().chain(threshold);
    let (low, high) = values.fold((0.0_f64, f64::MIN), |(lo, hi), v| (lo.min(v), hi.max(v)));
    let high = if high > low { high * 1.1 } else { low + 1.0 };
    let y = |value: f64| top + PANEL - (value - low) / (high - low) * PANEL;
    let right = f64::from(WIDTH) - RIGHT;
    let _ = writeln!(
        svg,
        "<text x=\"{LEFT:.1}\" y=\"{:.1}\" font-weight=\"bold\">{}</text>\n\
         <rect x=\"{LEFT:.1}\" y=\"{top:.1}\" width=\"{:.1}\" height=\"{PANEL:.1}\" fill=\"none\" \
         stroke=\"#bdbdbd\"/>",
        top - 5.0,
        html_text(signal_name(signal, lang)),
        right - LEFT
    );
    for value in [low, high] {
        let _ = writeln!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            LEFT - 6.0,
            y(value) + 4.0,
            html_text(&signal_value(signal, value, lang))
        );
    }
    if let Some(threshold) = threshold {
        let _ = writeln!(
            svg,
            "<line x1=\"{LEFT:.1}\" y1=\"{0:.1}\" x2=\"{right:.1}\" y2=\"{0:.1}\" \
             stroke=\"#c62828\" stroke-dasharray=\"6,3\"/><text x=\"{1:.1}\" y=\"{2:.1}\" \
             text-anchor=\"end\" fill=\"#c62828\">{3}</text>",
            y(threshold),
            right - 4.0,
            y(threshold) - 3.0,
            html_text(&signal_value(signal, threshold, lang))
        );
    }
    // A stretch without values is left blank rather than bridged: no value is not a value.
    let gap = (3.0 * points.min_gap_s).max(GAP_S);
    let mut lines: Vec<String> = Vec::new();
    let mut previous: Option<UnixSeconds> = None;
    for (at, value) in points.points(origin) {
        if previous.is_none_or(|previous| at - previous > gap) {
            lines.push(String::new());
        }
        if let Some(line) = lines.last_mut() {
            let _ = write!(line, "{:.1},{:.1} ", time.x(at), y(value));
        }
        previous = Some(at);
    }
    for line in lines {
        let _ = writeln!(
            svg,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{LINE_COLOUR}\" \
             stroke-width=\"1.5\"/>",
            line.trim_end()
        );
    }
}

/// The chart's time span and its mapping to x.
struct TimeAxis {
    start: UnixSeconds,
    end: UnixSeconds,
}

impl TimeAxis {
    fn x(&self, at: UnixSeconds) -> f64 {
        let width = f64::from(WIDTH) - LEFT - RIGHT;
        LEFT + (at - self.start) / (self.end - self.start) * width
    }

    /// Round offsets from `zero` within the span, at most about eight.
    fn ticks(&self, zero: UnixSeconds) -> Vec<UnixSeconds> {
        let span = self.end - self.start;
        let step = [
            5.0, 10.0, 15.0, 30.0, 60.0, 120.0, 300.0, 600.0, 900.0, 1800.0, 3600.0,
        ]
        .into_iter()
        .find(|step| span / step <= 8.0)
        .unwrap_or(7200.0);
        let first = ((self.start - zero) / step).ceil() as i64;
        let last = ((self.end - zero) / step).floor() as i64;
        (first..=last).map(|n| zero + n as f64 * step).collect()
    }
}

/// `+30 s`, `-1 min`, `+2:30`.
fn offset_label(seconds: f64, lang: Lang) -> String {
    let (s, min) = match lang {
        Lang::En => ("s", "min"),
        Lang::Ru => ("с", "мин"),
    };
    let sign = if seconds < 0.0 { "-" } else { "+" };
    let whole = seconds.abs().round() as i64;
    match (whole / 60, whole % 60) {
        (0, rest) => format!("{sign}{rest} {s}"),
        (minutes, 0) => format!("{sign}{minutes} {min}"),
        (minutes, rest) => format!("{sign}{minutes}:{rest:02}"),
    }
}

/// The four bands: baseline, fault → detection, response, recovery; `None` for a phase the
/// drill never reached.
fn phase_bands(
    record: &SessionRecord,
    end: UnixSeconds,
) -> [Option<(UnixSeconds, UnixSeconds)>; 4] {
    let drill = &record.drill;
    let baseline_from = drill.entered(Phase::Baseline).unwrap_or(drill.started_at);
    let injected = drill.injected_at;
    let detected = drill
        .detection
        .as_ref()
        .map(|detection| detection.at)
        .or_else(|| drill.entered(Phase::Respond));
    let recover_from = drill.entered(Phase::Recover);
    let finished = drill
        .phases
        .iter()
        .find(|phase| phase.phase.is_finished())
        .map(|phase| phase.at);
    let recovered = drill.verified_at.or(finished).unwrap_or(end);
    let baseline_to = drill
        .entered(Phase::Inject)
        .or(injected)
        .or(finished)
        .unwrap_or(end);
    [
        Some((baseline_from, baseline_to)),
        injected.map(|from| (from, detected.or(recover_from).or(finished).unwrap_or(end))),
        detected.map(|from| (from, recover_from.or(finished).unwrap_or(end))),
        recover_from.map(|from| (from, recovered)),
    ]
}

fn charted(kind: MarkKind) -> bool {
    !matches!(
        kind,
        MarkKind::Phase | MarkKind::FirstCrossing | MarkKind::FailuresCleared | MarkKind::Verified
    )
}

/// A marker in words: `fault injected`, `alert fired: HighLatency`.
pub fn mark_words(mark: &Mark, lang: Lang) -> String {
    let w = words(lang);
    let name = mark.name.as_deref().unwrap_or("");
    match mark.kind {
        MarkKind::Phase => format!("{}: {name}", w.entered),
        MarkKind::Injection => w.injected.to_string(),
        MarkKind::FirstCrossing => format!("{name} {}", w.crossed),
        MarkKind::AlertCondition => format!("{}: {name}", w.alert_condition),
        MarkKind::AlertWouldFire => format!("{}: {name}", w.alert_would_fire),
        MarkKind::AlertFiring => format!("{}: {name}", w.alert_fired),
        MarkKind::Detection => w.detected.to_string(),
        MarkKind::Reset => w.reset.to_string(),
        MarkKind::Remedy => name.to_string(),
        MarkKind::FailuresCleared => w.failures_cleared.to_string(),
        MarkKind::PlatformRestart => w.platform_restart.to_string(),
        MarkKind::Recovered => w.recovered.to_string(),
        MarkKind::Verified => w.verified.to_string(),
    }
}
