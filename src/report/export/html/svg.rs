//! Inline SVG plots for the HTML report, drawn in Rust: a heat map, a scatter plot and a
//! histogram with threshold lines. Plain shapes and text only (no scripts, no external
//! references, no `xmlns` URL: inline SVG in HTML5 needs none). Coordinates are printed with
//! one decimal so the bytes do not depend on the platform's float formatting noise.

use std::fmt::Write;

use super::esc;

/// Colour of a kappa-like value: red below 0.4, white at 0.4 … 0.6, blue towards 1.
pub fn kappa_colour(v: f64) -> String {
    let lerp = |a: (f64, f64, f64), b: (f64, f64, f64), t: f64| {
        let t = t.clamp(0.0, 1.0);
        (
            a.0 + (b.0 - a.0) * t,
            a.1 + (b.1 - a.1) * t,
            a.2 + (b.2 - a.2) * t,
        )
    };
    let red = (178.0, 24.0, 43.0);
    let white = (247.0, 247.0, 247.0);
    let blue = (33.0, 102.0, 172.0);
    let (r, g, b) = if v < 0.5 {
        lerp(red, white, (v + 0.2) / 0.7)
    } else {
        lerp(white, blue, (v - 0.5) / 0.5)
    };
    format!("#{:02x}{:02x}{:02x}", r as u8, g as u8, b as u8)
}

/// Square heat map of `cells[i][j]` (`None`: grey, no value) with row/column names.
pub fn heat_map(names: &[String], cells: &[Vec<Option<f64>>], caption: &str) -> String {
    let n = names.len().max(1);
    let cell = (640.0 / n as f64).clamp(4.0, 18.0);
    let margin = 60.0;
    let size = margin + cell * n as f64 + 10.0;
    let mut s = String::new();
    let _ = write!(
        s,
        r#"<svg class="plot" role="img" viewBox="0 0 {size:.1} {size:.1}" width="{size:.1}" height="{size:.1}"><title>{}</title>"#,
        esc(caption)
    );
    for (i, row) in cells.iter().enumerate() {
        for (j, v) in row.iter().enumerate() {
            let (x, y) = (margin + j as f64 * cell, margin + i as f64 * cell);
            let (fill, tip) = match v {
                Some(v) => (kappa_colour(*v), format!("{:.3}", v)),
                None => ("#dddddd".to_string(), "no value".to_string()),
            };
            let _ = write!(
                s,
                r#"<rect x="{x:.1}" y="{y:.1}" width="{cell:.1}" height="{cell:.1}" fill="{fill}"><title>{} × {}: {tip}</title></rect>"#,
                esc(&names[i]),
                esc(names.get(j).map_or("", String::as_str))
            );
        }
    }
    if cell >= 8.0 {
        let fs = (cell * 0.7).min(11.0);
        for (i, name) in names.iter().enumerate() {
            let c = margin + (i as f64 + 0.5) * cell;
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{:.1}" font-size="{fs:.1}" text-anchor="end" dominant-baseline="middle">{}</text>"#,
                margin - 3.0,
                c,
                esc(name)
            );
            let _ = write!(
                s,
                r#"<text transform="translate({c:.1},{:.1}) rotate(-60)" font-size="{fs:.1}">{}</text>"#,
                margin - 3.0,
                esc(name)
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// One point of a scatter plot.
pub struct Point {
    pub x: f64,
    pub y: f64,
    /// Drives the radius (area proportional).
    pub size: f64,
    pub colour: &'static str,
    /// Visible label (flagged points only), e.g. the annotator id.
    pub label: Option<String>,
    /// Hover text.
    pub name: String,
}

fn ticks(lo: f64, hi: f64) -> Vec<f64> {
    let span = (hi - lo).max(1e-9);
    let raw = span / 5.0;
    let mag = 10f64.powf(raw.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * mag)
        .find(|s| span / s <= 6.0)
        .unwrap_or(10.0 * mag);
    let mut t = (lo / step).ceil() * step;
    let mut out = Vec::new();
    while t <= hi + 1e-9 && out.len() < 20 {
        out.push(if t.abs() < 1e-12 { 0.0 } else { t });
        t += step;
    }
    out
}

struct Frame {
    w: f64,
    h: f64,
    left: f64,
    bottom: f64,
    x0: f64,
    x1: f64,
    y0: f64,
    y1: f64,
}

impl Frame {
    fn px(&self, x: f64) -> f64 {
        self.left + (x - self.x0) / (self.x1 - self.x0).max(1e-12) * (self.w - self.left - 10.0)
    }
    fn py(&self, y: f64) -> f64 {
        let top = 10.0;
        self.h
            - self.bottom
            - (y - self.y0) / (self.y1 - self.y0).max(1e-12) * (self.h - self.bottom - top)
    }
    fn axes(&self, s: &mut String, x_label: &str, y_label: &str) {
        let (xb, yb) = (self.h - self.bottom, self.left);
        let _ = write!(
            s,
            r##"<line x1="{yb:.1}" y1="{xb:.1}" x2="{:.1}" y2="{xb:.1}" stroke="#333"/><line x1="{yb:.1}" y1="10.0" x2="{yb:.1}" y2="{xb:.1}" stroke="#333"/>"##,
            self.w - 10.0
        );
        for t in ticks(self.x0, self.x1) {
            let x = self.px(t);
            let _ = write!(
                s,
                r##"<line x1="{x:.1}" y1="{xb:.1}" x2="{x:.1}" y2="{:.1}" stroke="#333"/><text x="{x:.1}" y="{:.1}" font-size="10" text-anchor="middle">{}</text>"##,
                xb + 4.0,
                xb + 15.0,
                fmt_tick(t)
            );
        }
        for t in ticks(self.y0, self.y1) {
            let y = self.py(t);
            let _ = write!(
                s,
                r##"<line x1="{:.1}" y1="{y:.1}" x2="{yb:.1}" y2="{y:.1}" stroke="#333"/><text x="{:.1}" y="{:.1}" font-size="10" text-anchor="end">{}</text>"##,
                yb - 4.0,
                yb - 6.0,
                y + 3.0,
                fmt_tick(t)
            );
        }
        let _ = write!(
            s,
            r#"<text x="{:.1}" y="{:.1}" font-size="11" text-anchor="middle">{}</text><text transform="translate(12,{:.1}) rotate(-90)" font-size="11" text-anchor="middle">{}</text>"#,
            (self.left + self.w) / 2.0,
            self.h - 4.0,
            esc(x_label),
            (self.h - self.bottom) / 2.0,
            esc(y_label)
        );
    }
}

fn fmt_tick(t: f64) -> String {
    let s = format!("{t:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" {
        "0".into()
    } else {
        s.to_string()
    }
}

fn range(values: impl Iterator<Item = f64>) -> (f64, f64) {
    let (mut lo, mut hi) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values.filter(|v| v.is_finite()) {
        lo = lo.min(v);
        hi = hi.max(v);
    }
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if hi - lo < 1e-9 {
        return (lo - 0.5, hi + 0.5);
    }
    (lo, hi)
}

/// Scatter plot with axis labels; flagged points are named.
pub fn scatter(points: &[Point], x_label: &str, y_label: &str, caption: &str) -> String {
    let (x0, x1) = range(points.iter().map(|p| p.x));
    let (y0, y1) = range(points.iter().map(|p| p.y));
    let pad = |a: f64, b: f64| ((a - (b - a) * 0.05).min(a), b + (b - a) * 0.05);
    let ((x0, x1), (y0, y1)) = (pad(x0, x1), pad(y0.min(0.0), y1.max(1.0)));
    let f = Frame {
        w: 640.0,
        h: 400.0,
        left: 50.0,
        bottom: 40.0,
        x0,
        x1,
        y0,
        y1,
    };
    let max_size = points.iter().map(|p| p.size).fold(1.0, f64::max);
    let mut s = format!(
        r#"<svg class="plot" role="img" viewBox="0 0 640 400" width="640" height="400"><title>{}</title>"#,
        esc(caption)
    );
    f.axes(&mut s, x_label, y_label);
    for p in points {
        let r = 3.0 + 9.0 * (p.size / max_size).sqrt();
        let (cx, cy) = (f.px(p.x), f.py(p.y));
        let _ = write!(
            s,
            r##"<circle cx="{cx:.1}" cy="{cy:.1}" r="{r:.1}" fill="{}" fill-opacity="0.7" stroke="#222" stroke-width="0.5"><title>{}</title></circle>"##,
            p.colour,
            esc(&p.name)
        );
        if let Some(label) = &p.label {
            let _ = write!(
                s,
                r#"<text x="{:.1}" y="{:.1}" font-size="10">{}</text>"#,
                cx + r + 2.0,
                cy + 3.0,
                esc(label)
            );
        }
    }
    s.push_str("</svg>");
    s
}

/// Histogram of `values` in `bins` bins with vertical threshold lines.
pub fn histogram(
    values: &[f64],
    thresholds: &[(f64, String)],
    x_label: &str,
    caption: &str,
) -> String {
    let (mut lo, mut hi) = range(values.iter().copied());
    for (t, _) in thresholds {
        lo = lo.min(*t);
        hi = hi.max(*t);
    }
    let bins = 20usize;
    let width = (hi - lo).max(1e-9) / bins as f64;
    let mut counts = vec![0usize; bins];
    for v in values.iter().filter(|v| v.is_finite()) {
        let b = (((v - lo) / width).floor().max(0.0) as usize).min(bins - 1);
        counts[b] += 1;
    }
    let top = counts.iter().copied().max().unwrap_or(0).max(1) as f64;
    let f = Frame {
        w: 320.0,
        h: 180.0,
        left: 34.0,
        bottom: 32.0,
        x0: lo,
        x1: hi,
        y0: 0.0,
        y1: top,
    };
    let mut s = format!(
        r#"<svg class="plot small" role="img" viewBox="0 0 320 180" width="320" height="180"><title>{}</title>"#,
        esc(caption)
    );
    for (b, &c) in counts.iter().enumerate() {
        if c == 0 {
            continue;
        }
        let (xa, xb) = (
            f.px(lo + b as f64 * width),
            f.px(lo + (b + 1) as f64 * width),
        );
        let (ya, yb) = (f.py(c as f64), f.py(0.0));
        let _ = write!(
            s,
            r##"<rect x="{xa:.1}" y="{ya:.1}" width="{:.1}" height="{:.1}" fill="#6a8fbf"><title>{c}</title></rect>"##,
            (xb - xa - 1.0).max(0.5),
            yb - ya
        );
    }
    f.axes(&mut s, x_label, "annotators");
    for (i, (t, name)) in thresholds.iter().enumerate() {
        let x = f.px(*t);
        // Labels past the middle go left of their line so they stay inside the plot; each
        // line's label sits on its own row.
        let (tx, anchor) = if x > f.w * 0.6 {
            (x - 2.0, "end")
        } else {
            (x + 2.0, "start")
        };
        let colour = if i == 0 { "#c0392b" } else { "#7d3c98" };
        let _ = write!(
            s,
            r##"<line x1="{x:.1}" y1="10.0" x2="{x:.1}" y2="{:.1}" stroke="{colour}" stroke-width="1.5" stroke-dasharray="4 2"/><text x="{tx:.1}" y="{:.1}" font-size="9" fill="{colour}" text-anchor="{anchor}">{}</text>"##,
            f.h - f.bottom,
            20.0 + 10.0 * i as f64,
            esc(name)
        );
    }
    s.push_str("</svg>");
    s
}
