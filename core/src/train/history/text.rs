//! Text for the training plots: laid out with kerning and sub-pixel glyph positions, and
//! rasterised with ab_glyph from the embedded DejaVu Sans straight into the RGB image.
//!
//! plotters draws the lines and markers; its own text path (feature `ab_glyph`) drops each
//! glyph's left side bearing and rounds positions to whole pixels, which spaces letters
//! unevenly, so the labels are drawn here instead, once plotters is done.

use alloc::string::String;

use ab_glyph::{point, Font, FontRef, PxScale, ScaleFont};

/// DejaVu Sans 2.37, unmodified (licence: `core/data/fonts/LICENSE`).
const FONT: &[u8] = include_bytes!("../../../data/fonts/DejaVuSans.ttf");

/// Where a label's anchor point lies on its box, horizontally.
#[derive(Clone, Copy)]
pub(super) enum Align {
    Left,
    Center,
    Right,
}

/// Where a label's anchor point lies on its box, vertically.
#[derive(Clone, Copy)]
pub(super) enum Valign {
    /// The top of the tallest glyphs (the font's ascent).
    Top,
    /// Half the capital height above the baseline: digits and capitals look centred.
    Middle,
}

/// One label: `text` at `size` pixels per em, anchored at `at` (image pixels).
pub(super) struct Label {
    pub text: String,
    pub at: (f32, f32),
    pub size: f32,
    pub align: (Align, Valign),
    /// Reads bottom to top (turned a quarter counter-clockwise), for vertical axes.
    pub vertical: bool,
    pub color: [u8; 3],
}

/// The embedded typeface.
pub(super) struct Typeface {
    font: FontRef<'static>,
    /// Pixel scale per pixel of em (ab_glyph scales by ascent minus descent).
    scale_per_em: f32,
    /// Capital height per em.
    cap: f32,
}

impl Typeface {
    pub(super) fn new() -> Result<Self, String> {
        let font =
            FontRef::try_from_slice(FONT).map_err(|e| alloc::format!("the embedded font is invalid: {e}"))?;
        let em = font.units_per_em().unwrap_or(2048.0);
        let cap = font
            .outline(font.glyph_id('H'))
            .map_or(0.73 * em, |o| o.bounds.max.y.abs().max(o.bounds.min.y.abs()));
        Ok(Typeface {
            scale_per_em: font.height_unscaled() / em,
            cap: cap / em,
            font,
        })
    }

    fn scale(&self, size: f32) -> PxScale {
        PxScale::from(size * self.scale_per_em)
    }

    /// The advance width of `text` at `size` pixels per em.
    pub(super) fn width(&self, text: &str, size: f32) -> f32 {
        let sf = self.font.as_scaled(self.scale(size));
        let mut prev = None;
        let mut x = 0.0;
        for c in text.chars() {
            let id = sf.glyph_id(c);
            if let Some(p) = prev {
                x += sf.kern(p, id);
            }
            x += sf.h_advance(id);
            prev = Some(id);
        }
        x
    }

    /// Draws `label` into `rgb` (`size.0 x size.1` pixels), blending its coverage over
    /// what is there; pixels outside the image are skipped.
    pub(super) fn draw(&self, rgb: &mut [u8], size: (u32, u32), label: &Label) {
        let scale = self.scale(label.size);
        let sf = self.font.as_scaled(scale);
        let width = self.width(&label.text, label.size);
        // The anchor in text coordinates: x along the text from its start, y down from
        // the baseline.
        let ax = match label.align.0 {
            Align::Left => 0.0,
            Align::Center => width / 2.0,
            Align::Right => width,
        };
        let ay = match label.align.1 {
            Valign::Top => -sf.ascent(),
            Valign::Middle => -self.cap * label.size / 2.0,
        };
        let (w, h) = (size.0 as i64, size.1 as i64);
        let mut plot = |tx: f32, ty: f32, coverage: f32| {
            let (u, v) = (tx - ax, ty - ay);
            let (x, y) = if label.vertical {
                (label.at.0 + v, label.at.1 - u)
            } else {
                (label.at.0 + u, label.at.1 + v)
            };
            let (x, y) = (x.floor() as i64, y.floor() as i64);
            if x < 0 || y < 0 || x >= w || y >= h {
                return;
            }
            let a = coverage.clamp(0.0, 1.0);
            let i = ((y * w + x) * 3) as usize;
            for (p, &c) in rgb[i..i + 3].iter_mut().zip(&label.color) {
                *p = (f32::from(*p) * (1.0 - a) + f32::from(c) * a).round() as u8;
            }
        };
        let mut caret = 0.0;
        let mut prev = None;
        for c in label.text.chars() {
            let id = sf.glyph_id(c);
            if let Some(p) = prev {
                caret += sf.kern(p, id);
            }
            prev = Some(id);
            let glyph = id.with_scale_and_position(scale, point(caret, 0.0));
            caret += sf.h_advance(id);
            if let Some(outline) = self.font.outline_glyph(glyph) {
                let b = outline.px_bounds();
                // Pixel centres, so that a vertical label maps pixels one to one.
                outline.draw(|gx, gy, cov| plot(b.min.x + gx as f32 + 0.5, b.min.y + gy as f32 + 0.5, cov));
            }
        }
    }
}
