//! Training curves as a PNG (feature `plot`): one panel per metric, training against
//! validation over the epochs.
//!
//! plotters' bitmap backend draws the grid, axes, curves and markers; the text is laid out
//! and rasterised by [`text`](super::text) from DejaVu Sans, embedded in the binary
//! (`core/data/fonts`), so no system font is ever looked up.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;
use std::io::{self, Write};
use std::path::Path;

use plotters::prelude::*;

use super::text::{Align, Label, Typeface, Valign};
use super::{io_error, History};
use crate::{Error, Result};

/// matplotlib's first two colours (`tab:blue`, `tab:orange`), distinct for the common
/// forms of colour blindness.
const TRAIN_COLOR: RGBColor = RGBColor(31, 119, 180);
const VAL_COLOR: RGBColor = RGBColor(255, 127, 14);
const TEXT: [u8; 3] = [34, 34, 34];
const AXIS: RGBColor = RGBColor(100, 100, 100);
const GRID: RGBColor = RGBColor(226, 226, 226);

/// Text sizes, in pixels per em.
const TITLE_SIZE: f32 = 22.0;
const CAPTION_SIZE: f32 = 16.5;
const LEGEND_SIZE: f32 = 14.0;
const DESC_SIZE: f32 = 14.0;
const TICK_SIZE: f32 = 12.5;

/// Height of the band above the panels that holds the title and the legend.
const HEADER: u32 = 84;
/// The largest figure, in pixels a side.
const MAX_SIDE: u64 = 16384;
/// Epochs up to which each point gets a marker.
const MAX_MARKED: usize = 60;
/// Length of the tick marks outside the axes.
const TICK_LEN: i32 = 5;

/// How [`History::save_png`] lays out the figure.
///
/// ```
/// use kerust::train::PlotOptions;
/// let opts = PlotOptions { title: "MLP on digits".into(), ..Default::default() };
/// assert_eq!(opts.columns, 2);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct PlotOptions {
    /// The figure's title (default `"Training history"`).
    pub title: String,
    /// Width and height of one panel in pixels (default `(560, 400)`); the image is
    /// `columns` panels wide and has a band of 84 pixels above them for the title and
    /// the legend.
    pub panel_size: (u32, u32),
    /// Panels per row (default 2); fewer when there are fewer panels.
    pub columns: usize,
}

impl Default for PlotOptions {
    fn default() -> Self {
        PlotOptions {
            title: "Training history".into(),
            panel_size: (560, 400),
            columns: 2,
        }
    }
}

/// One metric's curves, as runs of `(epoch, value)` points; `epoch` counts from 1.
struct Panel<'h> {
    name: &'h str,
    train: Vec<Vec<(f64, f64)>>,
    val: Vec<Vec<(f64, f64)>>,
}

impl History {
    /// Draws the training curves into a PNG file: one panel per metric (`loss` first,
    /// then the others in the logs' order), each with the training values and, where
    /// present, the validation values (`val_<name>`) against the epoch, counted from 1
    /// as `fit`'s progress output counts it. A non-finite value (a diverged loss) breaks
    /// its curve; an epoch without validation (`validation_freq`) is stepped over.
    ///
    /// ```no_run
    /// use kerust::train::PlotOptions;
    /// # let history = kerust::train::History::default();
    /// history.save_png("target/history.png", &PlotOptions::default())?;
    /// # Ok::<(), kerust::Error>(())
    /// ```
    ///
    /// # Errors
    ///
    /// [`Error::InvalidArgument`], before the file is touched, for a history without
    /// epochs, a panel smaller than 160 x 120 pixels, no columns, or a figure over 16384
    /// pixels a side; [`Error::Io`] with `path` when the file cannot be created or
    /// written.
    #[cfg_attr(docsrs, doc(cfg(feature = "plot")))]
    pub fn save_png(&self, path: impl AsRef<Path>, opts: &PlotOptions) -> Result<()> {
        let path = path.as_ref();
        let (w, h, rgb) = self.render(opts, path)?;
        let write = || -> io::Result<()> {
            let mut out = io::BufWriter::new(std::fs::File::create(path)?);
            encode_png(&mut out, w, h, &rgb)?;
            out.flush()
        };
        write().map_err(|source| io_error(path.to_path_buf(), source))
    }

    /// [`History::save_png`] into any writer (I/O errors name the path `<writer>`).
    ///
    /// ```
    /// use kerust::train::{History, Logs, PlotOptions};
    /// let mut logs = Logs::default();
    /// logs.set("loss", 0.5);
    /// let history = History { epochs: vec![0], logs: vec![logs] };
    /// let mut png = Vec::new();
    /// history.write_png(&mut png, &PlotOptions::default())?;
    /// assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));
    /// # Ok::<(), kerust::Error>(())
    /// ```
    #[cfg_attr(docsrs, doc(cfg(feature = "plot")))]
    pub fn write_png(&self, mut w: impl Write, opts: &PlotOptions) -> Result<()> {
        let path = Path::new("<writer>");
        let (width, height, rgb) = self.render(opts, path)?;
        encode_png(&mut w, width, height, &rgb).map_err(|source| io_error(path.to_path_buf(), source))
    }

    /// The figure as `(width, height, RGB pixels)`; a drawing failure is reported as an
    /// I/O error on `path`.
    fn render(&self, opts: &PlotOptions, path: &Path) -> Result<(u32, u32, Vec<u8>)> {
        self.check("plot")?;
        let (pw, ph) = opts.panel_size;
        if pw < 160 || ph < 120 {
            return Err(Error::invalid_argument(
                "panel_size",
                format!("must be at least 160 x 120 pixels, got {pw} x {ph}"),
            ));
        }
        if opts.columns == 0 {
            return Err(Error::invalid_argument("columns", "must be at least 1"));
        }
        let panels = self.panels();
        let cols = opts.columns.min(panels.len());
        let rows = panels.len().div_ceil(cols);
        let (width, height) = (
            cols as u64 * u64::from(pw),
            rows as u64 * u64::from(ph) + u64::from(HEADER),
        );
        if width > MAX_SIDE || height > MAX_SIDE {
            return Err(Error::invalid_argument(
                "panel_size",
                format!("makes a figure of {width} x {height} pixels ({rows} rows of {cols} panels); at most {MAX_SIDE} a side"),
            ));
        }
        let (width, height) = (width as u32, height as u32);
        let mut rgb = alloc::vec![0u8; width as usize * height as usize * 3];
        draw(&mut rgb, (width, height), &panels, (rows, cols), &opts.title)
            .map_err(|reason| io_error(path.to_path_buf(), io::Error::other(reason)))?;
        Ok((width, height, rgb))
    }

    /// The panels: `loss` first, then every other name; `val_<name>` joins `<name>`'s panel.
    fn panels(&self) -> Vec<Panel<'_>> {
        let names = self.names();
        // A non-finite value breaks the curve (as in matplotlib); an epoch without the
        // value (validation skipped by `validation_freq`) does not.
        let series = |name: &str| -> Vec<Vec<(f64, f64)>> {
            let mut runs = alloc::vec![Vec::new()];
            for (&e, l) in self.epochs.iter().zip(&self.logs) {
                match l.get(name) {
                    Some(v) if v.is_finite() => runs.last_mut().unwrap().push((e as f64 + 1.0, v)),
                    Some(_) if !runs.last().unwrap().is_empty() => runs.push(Vec::new()),
                    _ => {}
                }
            }
            runs.retain(|r| !r.is_empty());
            runs
        };
        let mut bases: Vec<&str> = Vec::new();
        for &name in &names {
            // `val_x` joins `x`'s panel, or has one of its own (validation only) without `x`.
            let base = name
                .strip_prefix("val_")
                .filter(|b| !b.is_empty())
                .unwrap_or(name);
            if !bases.contains(&base) {
                bases.push(base);
            }
        }
        if let Some(i) = bases.iter().position(|&b| b == "loss") {
            let loss = bases.remove(i);
            bases.insert(0, loss);
        }
        bases
            .into_iter()
            .map(|name| Panel {
                name,
                train: series(name),
                val: series(&format!("val_{name}")),
            })
            .collect()
    }
}

type DrawResult<T = ()> = core::result::Result<T, String>;
type Area<'a> = DrawingArea<BitMapBackend<'a>, plotters::coord::Shift>;

/// Supersampling: plotters draws at `SS` times the size, and the image is the average of
/// each `SS x SS` block, so that curves and markers come out anti-aliased.
const SS: i32 = 2;

fn drawing_error<E: std::error::Error + Send + Sync>(e: DrawingAreaErrorKind<E>) -> String {
    format!("cannot draw the plot: {e}")
}

/// `v` (image pixels) in supersampled pixels.
fn ss(v: f32) -> i32 {
    (v * SS as f32).round() as i32
}

/// A supersampled pixel coordinate on the first sample of its image pixel, so that lines
/// `SS` samples wide land on exactly one image pixel.
fn snap(v: i32) -> i32 {
    v.div_euclid(SS) * SS
}

/// Draws the whole figure into `rgb`: plotters first, then the labels over it.
fn draw(
    rgb: &mut [u8],
    size: (u32, u32),
    panels: &[Panel<'_>],
    grid: (usize, usize),
    title: &str,
) -> DrawResult {
    let face = Typeface::new()?;
    let mut labels = Vec::new();
    let big_size = (size.0 * SS as u32, size.1 * SS as u32);
    let mut big = alloc::vec![0u8; rgb.len() * (SS * SS) as usize];
    {
        let root = BitMapBackend::with_buffer(&mut big, big_size).into_drawing_area();
        root.fill(&WHITE).map_err(drawing_error)?;
        let mid = size.0 as f32 / 2.0;
        labels.push(label(
            title,
            (mid, 30.0),
            TITLE_SIZE,
            (Align::Center, Valign::Middle),
        ));
        draw_legend(&root, &face, panels, mid, &mut labels)?;
        let (_, body) = root.split_vertically(HEADER * SS as u32);
        for (area, panel) in body.split_evenly(grid).iter().zip(panels) {
            draw_panel(area, panel, &face, &mut labels)?;
        }
        root.present().map_err(drawing_error)?;
    }
    downsample(&big, big_size.0 as usize, rgb, size.0 as usize);
    for l in &labels {
        face.draw(rgb, size, l);
    }
    Ok(())
}

/// Averages each `SS x SS` block of `big` (`big_width` pixels wide) into `rgb`.
fn downsample(big: &[u8], big_width: usize, rgb: &mut [u8], width: usize) {
    let k = SS as usize;
    for (y, row) in rgb.chunks_exact_mut(width * 3).enumerate() {
        for (x, px) in row.chunks_exact_mut(3).enumerate() {
            for (c, out) in px.iter_mut().enumerate() {
                let mut sum = 0u32;
                for dy in 0..k {
                    let line = (y * k + dy) * big_width;
                    for dx in 0..k {
                        sum += u32::from(big[(line + x * k + dx) * 3 + c]);
                    }
                }
                *out = ((sum + (k * k / 2) as u32) / (k * k) as u32) as u8;
            }
        }
    }
}

fn label(text: &str, at: (f32, f32), size: f32, align: (Align, Valign)) -> Label {
    Label {
        text: text.into(),
        at,
        size,
        align,
        vertical: false,
        color: TEXT,
    }
}

/// A filled rectangle of supersampled pixels `x0..=x1`, `y0..=y1`, in `area`'s coordinates.
fn rect(area: &Area<'_>, (x0, y0): (i32, i32), (x1, y1): (i32, i32), color: RGBColor) -> DrawResult {
    area.draw(&Rectangle::new([(x0, y0), (x1, y1)], color.filled()))
        .map_err(drawing_error)
}

/// One legend for the whole figure, centred under the title: it never covers a curve.
fn draw_legend(
    root: &Area<'_>,
    face: &Typeface,
    panels: &[Panel<'_>],
    mid: f32,
    labels: &mut Vec<Label>,
) -> DrawResult {
    let mut entries = alloc::vec![("training", TRAIN_COLOR)];
    if panels.iter().any(|p| !p.val.is_empty()) {
        entries.push(("validation", VAL_COLOR));
    }
    let (swatch, gap, pad) = (30.0, 8.0, 28.0);
    let widths: Vec<f32> = entries.iter().map(|(t, _)| face.width(t, LEGEND_SIZE)).collect();
    let total = widths.iter().map(|w| swatch + gap + w).sum::<f32>() + pad * (widths.len() - 1) as f32;
    let (mut x, y) = (mid - total / 2.0, 62.0);
    for ((text, color), w) in entries.iter().zip(&widths) {
        let (x0, x1, yc) = (ss(x), ss(x + swatch), ss(y));
        root.draw(&PathElement::new(
            alloc::vec![(x0, yc), (x1, yc)],
            color.stroke_width(2 * SS as u32),
        ))
        .map_err(drawing_error)?;
        root.draw(&Circle::new(((x0 + x1) / 2, yc), 3 * SS, color.filled()))
            .map_err(drawing_error)?;
        labels.push(label(
            text,
            (x + swatch + gap, y),
            LEGEND_SIZE,
            (Align::Left, Valign::Middle),
        ));
        x += swatch + gap + w + pad;
    }
    Ok(())
}

/// Draws one metric's panel; its labels go to `labels`.
fn draw_panel(area: &Area<'_>, panel: &Panel<'_>, face: &Typeface, labels: &mut Vec<Label>) -> DrawResult {
    let points = || panel.train.iter().chain(&panel.val).flatten();
    let (mut x0, mut x1) = points().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
        (a.min(p.0), b.max(p.0))
    });
    let (mut y0, mut y1) = points().fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
        (a.min(p.1), b.max(p.1))
    });
    let empty = !x0.is_finite();
    if empty {
        (x0, x1, y0, y1) = (1.0, 1.0, 0.0, 1.0);
    }
    let xpad = if x1 > x0 { (x1 - x0) * 0.04 } else { 0.5 };
    let span = y1 - y0;
    let ypad = if span > 0.0 {
        span * 0.08
    } else {
        (y0.abs() * 0.05).max(0.05)
    };
    let (xlo, xhi, ylo, yhi) = (x0 - xpad, x1 + xpad, y0 - ypad, y1 + ypad);
    // Whole epochs on x (about eight ticks at most), about six round values on y.
    let x_ticks = ticks(xlo, xhi, nice_step((x1 - x0) / 8.0).max(1.0));
    let y_step = nice_step((yhi - ylo) / 6.0);
    let y_ticks = ticks(ylo, yhi, y_step);
    let y_text: Vec<String> = y_ticks.iter().map(|&y| tick_text(y, y_step)).collect();
    let tick_width = y_text
        .iter()
        .map(|t| face.width(t, TICK_SIZE))
        .fold(0.0, f32::max);

    // Left of the plot: the axis title, a gap, the tick labels, the tick marks.
    let left = 8.0 + DESC_SIZE * 1.2 + 10.0 + tick_width + 5.0 + TICK_LEN as f32;
    let mut chart = ChartBuilder::on(area)
        .margin_top(40 * SS)
        .margin_right(24 * SS)
        .margin_left(4 * SS)
        .margin_bottom(6 * SS)
        .x_label_area_size(50 * SS)
        .y_label_area_size(ss(left.ceil()))
        .build_cartesian_2d(xlo..xhi, ylo..yhi)
        .map_err(drawing_error)?;

    // Pixel positions, in supersampled pixels relative to `area`, then in image pixels.
    let (px, py) = chart.plotting_area().get_pixel_range();
    let (ax, ay) = area.get_base_pixel();
    let (l, r, t, b) = (
        snap(px.start - ax),
        snap(px.end - ax - 1),
        snap(py.start - ay),
        snap(py.end - ay - 1),
    );
    let to_px = |x: f64, y: f64| {
        let (x, y) = chart.backend_coord(&(x, y));
        (snap(x - ax), snap(y - ay))
    };
    let image = |x: i32, y: i32| ((x + ax) as f32 / SS as f32, (y + ay) as f32 / SS as f32);
    let tick = TICK_LEN * SS;

    // Grid lines and tick marks, each one image pixel wide.
    for &x in &x_ticks {
        let (xp, _) = to_px(x, ylo);
        rect(area, (xp, t), (xp + SS - 1, b), GRID)?;
        rect(area, (xp, b), (xp + SS - 1, b + tick), AXIS)?;
        let (lx, ly) = image(xp, b + tick);
        labels.push(label(
            &tick_text(x, 1.0),
            (lx + 0.5, ly + 4.0),
            TICK_SIZE,
            (Align::Center, Valign::Top),
        ));
    }
    for (&y, text) in y_ticks.iter().zip(&y_text) {
        let (_, yp) = to_px(xlo, y);
        rect(area, (l, yp), (r, yp + SS - 1), GRID)?;
        rect(area, (l - tick, yp), (l, yp + SS - 1), AXIS)?;
        let (lx, ly) = image(l - tick, yp);
        labels.push(label(
            text,
            (lx - 5.0, ly + 0.5),
            TICK_SIZE,
            (Align::Right, Valign::Middle),
        ));
    }
    // The axes: left and bottom.
    rect(area, (l, t), (l + SS - 1, b + SS - 1), AXIS)?;
    rect(area, (l, b), (r + SS - 1, b + SS - 1), AXIS)?;

    // The curves, in plot coordinates (clipped to the plot).
    let marked = points().count() <= 2 * MAX_MARKED;
    for (runs, color) in [(&panel.train, TRAIN_COLOR), (&panel.val, VAL_COLOR)] {
        for run in runs.iter() {
            chart
                .draw_series(LineSeries::new(
                    run.iter().copied(),
                    color.stroke_width(2 * SS as u32),
                ))
                .map_err(drawing_error)?;
            if marked || run.len() == 1 {
                chart
                    .draw_series(run.iter().map(|&p| Circle::new(p, 3 * SS, color.filled())))
                    .map_err(drawing_error)?;
            }
        }
    }

    // Caption, axis titles, and a note for a panel without values.
    let (cl, ct) = image(l, t);
    let (cr, cb) = image(r, b);
    let (cx, cy) = ((cl + cr) / 2.0, (ct + cb) / 2.0);
    let top = ay as f32 / SS as f32;
    labels.push(label(
        &title_case(panel.name),
        (cx, top + 22.0),
        CAPTION_SIZE,
        (Align::Center, Valign::Middle),
    ));
    labels.push(label(
        "Epoch",
        (cx, cb + TICK_LEN as f32 + 26.0),
        DESC_SIZE,
        (Align::Center, Valign::Top),
    ));
    labels.push(Label {
        vertical: true,
        ..label(
            panel.name,
            (ax as f32 / SS as f32 + 8.0, cy),
            DESC_SIZE,
            (Align::Center, Valign::Top),
        )
    });
    if empty {
        labels.push(label(
            "no finite values",
            (cx, cy),
            DESC_SIZE,
            (Align::Center, Valign::Middle),
        ));
    }
    Ok(())
}

/// The multiples of `step` in `lo..=hi`.
fn ticks(lo: f64, hi: f64, step: f64) -> Vec<f64> {
    let first = (lo / step).ceil() as i64;
    let last = (hi / step).floor() as i64;
    (first..=last).map(|k| k as f64 * step).collect()
}

/// A tick value with as many decimals as its step needs; scientific notation for very
/// small or very large values.
fn tick_text(v: f64, step: f64) -> String {
    let magnitude = v.abs().max(step);
    if v != 0.0 && !(1e-4..1e6).contains(&magnitude) {
        return format!("{v:.1e}");
    }
    let decimals = (-step.log10().floor()).max(0.0) as usize;
    let text = format!("{v:.decimals$}");
    // No "-0.0".
    if text.starts_with('-') && text[1..].chars().all(|c| c == '0' || c == '.') {
        text[1..].into()
    } else {
        text
    }
}

/// 1, 2 or 5 times a power of ten, at least `x`.
fn nice_step(x: f64) -> f64 {
    if x <= 0.0 || !x.is_finite() {
        return 1.0;
    }
    let p = 10f64.powf(x.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * p)
        .find(|&s| s >= x)
        .unwrap_or(10.0 * p)
}

/// `sparse_categorical_accuracy` → `Sparse categorical accuracy`.
fn title_case(name: &str) -> String {
    let words = name.replace('_', " ");
    let mut chars = words.chars();
    match chars.next() {
        Some(c) => c.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

/// Encodes 8-bit RGB pixels as a PNG.
fn encode_png(w: &mut impl Write, width: u32, height: u32, rgb: &[u8]) -> io::Result<()> {
    let mut encoder = png::Encoder::new(w, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let to_io = |e: png::EncodingError| match e {
        png::EncodingError::IoError(e) => e,
        other => io::Error::other(other),
    };
    let mut writer = encoder.write_header().map_err(to_io)?;
    writer.write_image_data(rgb).map_err(to_io)?;
    writer.finish().map_err(to_io)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nice_steps() {
        assert_eq!(nice_step(0.3), 0.5);
        assert_eq!(nice_step(1.0), 1.0);
        assert_eq!(nice_step(2.4), 5.0);
        assert_eq!(nice_step(12.0), 20.0);
        assert_eq!(nice_step(0.0), 1.0);
    }

    #[test]
    fn tick_values_and_texts() {
        assert_eq!(ticks(0.62, 20.38, 5.0), [5.0, 10.0, 15.0, 20.0]);
        assert_eq!(ticks(-0.1, 0.1, 0.1), [-0.1, 0.0, 0.1]);
        assert_eq!(tick_text(0.30000000000000004, 0.1), "0.3");
        assert_eq!(tick_text(-0.0, 0.1), "0.0");
        assert_eq!(tick_text(-1e-17, 0.02), "0.00");
        assert_eq!(tick_text(20.0, 5.0), "20");
        assert_eq!(tick_text(0.0005, 0.0005), "0.0005");
        assert_eq!(tick_text(2e-6, 1e-6), "2.0e-6");
        assert_eq!(tick_text(3e7, 1e7), "3.0e7");
    }

    #[test]
    fn titles() {
        assert_eq!(
            title_case("sparse_categorical_accuracy"),
            "Sparse categorical accuracy"
        );
        assert_eq!(title_case("loss"), "Loss");
    }
}
