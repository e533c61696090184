//! Charts as SVG written with maud: lines, stacked bars and bars over categories (days,
//! teams). Hand-written rather than drawn by a plotting crate so that every text is
//! escaped by maud, colours come from the stylesheet through classes (the CSP forbids
//! inline styles), and each chart carries `role="img"`, an `aria-label`, a `<title>`,
//! axis titles, a legend in words and its numbers in a table.

use maud::{Markup, html};

/// How the series are drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// One line per series; a missing value breaks the line.
    Lines,
    /// Bars stacked per category, series on top of each other.
    StackedBars,
    /// One bar per category (the first series), its value written above it.
    Bars,
}

/// One series: a value (or none) per category.
#[derive(Debug, Clone)]
pub struct Series {
    /// Its name in the legend.
    pub name: String,
    /// Its CSS class (colour, dashes).
    pub class: String,
    /// One per category.
    pub values: Vec<Option<f64>>,
}

/// A chart.
#[derive(Debug, Clone)]
pub struct Chart {
    /// The visible title.
    pub title: String,
    /// What it shows, in a sentence, for screen readers (`aria-label`).
    pub summary: String,
    /// The x axis's title.
    pub x_label: String,
    /// The y axis's title.
    pub y_label: String,
    /// The categories along x.
    pub categories: Vec<String>,
    /// The series.
    pub series: Vec<Series>,
    /// How to draw them.
    pub kind: Kind,
    /// The y range to include whatever the data (e.g. −1 to 1 for sentiment).
    pub y_range: Option<(f64, f64)>,
    /// How a y value is written (ticks, bar labels, the table).
    pub format: fn(f64) -> String,
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 300.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 16.0;
const BOTTOM: f64 = 56.0;

/// A step of 1, 2 or 5 times a power of ten near `raw`.
fn nice_step(raw: f64) -> f64 {
    if !raw.is_finite() || raw <= 0.0 {
        return 1.0;
    }
    let power = 10f64.powf(raw.log10().floor());
    let fraction = raw / power;
    let nice = if fraction <= 1.0 {
        1.0
    } else if fraction <= 2.0 {
        2.0
    } else if fraction <= 5.0 {
        5.0
    } else {
        10.0
    };
    nice * power
}

/// The y axis: its bounds and its ticks, about five of them.
pub fn y_axis(min: f64, max: f64) -> (f64, f64, Vec<f64>) {
    let (mut lo, mut hi) = (min.min(max), max.max(min));
    if (hi - lo).abs() < f64::EPSILON {
        hi = lo + 1.0;
    }
    let step = nice_step((hi - lo) / 4.0);
    lo = (lo / step).floor() * step;
    hi = (hi / step).ceil() * step;
    let count = ((hi - lo) / step).round() as usize;
    let ticks = (0..=count).map(|i| lo + step * i as f64).collect();
    (lo, hi, ticks)
}

fn fmt_coord(v: f64) -> String {
    format!("{v:.1}")
}

impl Chart {
    fn data_range(&self) -> (f64, f64) {
        let mut lo: f64 = 0.0;
        let mut hi: f64 = 0.0;
        match self.kind {
            Kind::StackedBars => {
                for i in 0..self.categories.len() {
                    let sum: f64 = self
                        .series
                        .iter()
                        .filter_map(|s| s.values.get(i).copied().flatten())
                        .sum();
                    hi = hi.max(sum);
                }
            }
            Kind::Lines | Kind::Bars => {
                for v in self.series.iter().flat_map(|s| s.values.iter().flatten()) {
                    lo = lo.min(*v);
                    hi = hi.max(*v);
                }
            }
        }
        if let Some((a, b)) = self.y_range {
            lo = lo.min(a);
            hi = hi.max(b);
        }
        (lo, hi)
    }

    /// The pieces of stacked bars: (category, series, bottom, top), empty ones left out.
    fn stacks(&self) -> Vec<(usize, &Series, f64, f64)> {
        let mut out = Vec::new();
        for i in 0..self.categories.len() {
            let mut bottom = 0.0;
            for s in &self.series {
                if let Some(v) = s.values.get(i).copied().flatten().filter(|v| *v > 0.0) {
                    out.push((i, s, bottom, bottom + v));
                    bottom += v;
                }
            }
        }
        out
    }

    /// The `<svg>` alone, with `id` when given.
    pub fn svg(&self, id: Option<&str>) -> Markup {
        let (lo, hi, ticks) = {
            let (a, b) = self.data_range();
            y_axis(a, b)
        };
        let plot_w = WIDTH - LEFT - RIGHT;
        let plot_h = HEIGHT - TOP - BOTTOM;
        let y = |v: f64| TOP + plot_h - (v - lo) / (hi - lo) * plot_h;
        let n = self.categories.len().max(1);
        let band = plot_w / n as f64;
        let x_mid = |i: usize| LEFT + band * (i as f64 + 0.5);
        let label_every = n.div_ceil(6).max(1);
        let bar_w = (band * 0.7).max(0.5);
        let base = y(0f64.clamp(lo, hi));
        html! {
            svg id=[id] class="chart-svg" viewBox=(format!("0 0 {WIDTH} {HEIGHT}"))
                xmlns="http://www.w3.org/2000/svg" role="img" aria-label=(self.summary)
                preserveAspectRatio="xMidYMid meet" {
                title { (self.title) }
                desc { (self.summary) }
                g.grid {
                    @for t in &ticks {
                        line x1=(fmt_coord(LEFT)) x2=(fmt_coord(WIDTH - RIGHT))
                            y1=(fmt_coord(y(*t))) y2=(fmt_coord(y(*t)))
                            class=(if t.abs() < f64::EPSILON { "zero" } else { "tick" }) {}
                        text.y-tick x=(fmt_coord(LEFT - 6.0)) y=(fmt_coord(y(*t) + 4.0)) text-anchor="end" {
                            ((self.format)(*t))
                        }
                    }
                }
                g.x-ticks {
                    @for (i, c) in self.categories.iter().enumerate() {
                        @if i % label_every == 0 {
                            text x=(fmt_coord(x_mid(i))) y=(fmt_coord(TOP + plot_h + 18.0)) text-anchor="middle" { (c) }
                        }
                    }
                }
                line.axis x1=(fmt_coord(LEFT)) x2=(fmt_coord(LEFT)) y1=(fmt_coord(TOP)) y2=(fmt_coord(TOP + plot_h)) {}
                line.axis x1=(fmt_coord(LEFT)) x2=(fmt_coord(WIDTH - RIGHT)) y1=(fmt_coord(TOP + plot_h)) y2=(fmt_coord(TOP + plot_h)) {}
                text.axis-title x=(fmt_coord(LEFT + plot_w / 2.0)) y=(fmt_coord(HEIGHT - 8.0)) text-anchor="middle" {
                    (self.x_label)
                }
                text.axis-title transform="rotate(-90)" x=(fmt_coord(-(TOP + plot_h / 2.0))) y="14" text-anchor="middle" {
                    (self.y_label)
                }
                @if self.series.iter().all(|s| s.values.iter().all(Option::is_none)) {
                    text.no-data x=(fmt_coord(LEFT + plot_w / 2.0)) y=(fmt_coord(TOP + plot_h / 2.0)) text-anchor="middle" {
                        "no data in this span"
                    }
                }
                @match self.kind {
                    Kind::Lines => {
                        @for s in &self.series {
                            path class={ "line " (s.class) } d=(line_path(&s.values, &x_mid, &y)) {}
                            @if n <= 120 {
                                @for (i, v) in s.values.iter().enumerate() {
                                    @if let Some(v) = v {
                                        circle class={ "point " (s.class) } cx=(fmt_coord(x_mid(i))) cy=(fmt_coord(y(*v))) r="2.5" {
                                            title { (s.name) ", " (self.categories.get(i).map(String::as_str).unwrap_or("")) ": " ((self.format)(*v)) }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    Kind::StackedBars => {
                        @for (i, s, bottom, top) in self.stacks() {
                            rect class={ "bar " (s.class) } x=(fmt_coord(x_mid(i) - bar_w / 2.0)) y=(fmt_coord(y(top)))
                                width=(fmt_coord(bar_w)) height=(fmt_coord((y(bottom) - y(top)).max(0.0))) {
                                title { (self.categories[i]) ", " (s.name) ": " ((self.format)(top - bottom)) }
                            }
                        }
                    }
                    Kind::Bars => {
                        @if let Some(s) = self.series.first() {
                            @for (i, v) in s.values.iter().enumerate() {
                                @match v {
                                    Some(v) => {
                                        rect class={ "bar " (s.class) } x=(fmt_coord(x_mid(i) - bar_w / 2.0)) y=(fmt_coord(y(*v).min(base)))
                                            width=(fmt_coord(bar_w)) height=(fmt_coord((y(*v) - base).abs())) {
                                            title { (self.categories.get(i).map(String::as_str).unwrap_or("")) ": " ((self.format)(*v)) }
                                        }
                                        text.bar-value x=(fmt_coord(x_mid(i))) y=(fmt_coord(y(*v).min(base) - 4.0)) text-anchor="middle" {
                                            ((self.format)(*v))
                                        }
                                    }
                                    None => {
                                        text.bar-value x=(fmt_coord(x_mid(i))) y=(fmt_coord(base - 4.0)) text-anchor="middle" { "n/a" }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }

    /// The chart as a `figure.chart#id`: caption, SVG, legend, and its numbers in a table.
    pub fn figure(&self, id: &str) -> Markup {
        html! {
            figure.chart id=(id) {
                figcaption { (self.title) }
                (self.svg(None))
                @if self.series.len() > 1 {
                    ul.legend aria-label="Legend" {
                        @for s in &self.series {
                            li { span class={ "swatch " (s.class) } aria-hidden="true" {} (s.name) }
                        }
                    }
                }
                (self.table())
            }
        }
    }

    /// The numbers, in a table inside a closed `<details>`.
    pub fn table(&self) -> Markup {
        html! {
            details.numbers {
                summary { "The numbers" }
                table {
                    thead {
                        tr {
                            th scope="col" { (self.x_label) }
                            @for s in &self.series { th scope="col" { (s.name) } }
                        }
                    }
                    tbody {
                        @for (i, c) in self.categories.iter().enumerate() {
                            tr {
                                th scope="row" { (c) }
                                @for s in &self.series {
                                    td {
                                        @match s.values.get(i).copied().flatten() {
                                            Some(v) => { ((self.format)(v)) }
                                            None => { "—" }
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

/// An SVG path through the values, broken where one is missing.
fn line_path(values: &[Option<f64>], x: &dyn Fn(usize) -> f64, y: &dyn Fn(f64) -> f64) -> String {
    let mut d = String::new();
    let mut pen_down = false;
    for (i, v) in values.iter().enumerate() {
        match v {
            Some(v) => {
                let cmd = if pen_down { 'L' } else { 'M' };
                if !d.is_empty() {
                    d.push(' ');
                }
                d.push_str(&format!("{cmd}{} {}", fmt_coord(x(i)), fmt_coord(y(*v))));
                pen_down = true;
            }
            None => pen_down = false,
        }
    }
    d
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    #[test]
    fn axes_get_round_ticks() {
        let (lo, hi, ticks) = y_axis(0.0, 37.0);
        assert_eq!((lo, hi), (0.0, 40.0));
        assert_eq!(ticks, vec![0.0, 10.0, 20.0, 30.0, 40.0]);
        let (lo, hi, _) = y_axis(-1.0, 1.0);
        assert_eq!((lo, hi), (-1.0, 1.0));
        let (lo, hi, _) = y_axis(0.0, 0.0);
        assert!(lo <= 0.0 && hi >= 1.0);
    }

    #[test]
    fn a_missing_value_breaks_the_line() {
        let d = line_path(
            &[Some(1.0), Some(2.0), None, Some(3.0)],
            &|i| i as f64,
            &|v| v,
        );
        assert_eq!(d, "M0.0 1.0 L1.0 2.0 M3.0 3.0");
    }

    #[test]
    fn text_in_a_chart_is_escaped_and_labelled() {
        let chart = Chart {
            title: "<b>title</b>".into(),
            summary: "a \"summary\"".into(),
            x_label: "day".into(),
            y_label: "count".into(),
            categories: vec!["<script>".into()],
            series: vec![Series {
                name: "s".into(),
                class: "c".into(),
                values: vec![Some(2.0)],
            }],
            kind: Kind::Bars,
            y_range: None,
            format: |v| format!("{v}"),
        };
        let svg = chart.figure("chart-x").into_string();
        assert!(svg.contains("role=\"img\""), "{svg}");
        assert!(
            svg.contains("aria-label=\"a &quot;summary&quot;\""),
            "{svg}"
        );
        assert!(
            svg.contains("&lt;script&gt;") && !svg.contains("<script>"),
            "{svg}"
        );
        assert!(svg.contains("&lt;b&gt;title&lt;/b&gt;"), "{svg}");
    }
}
