//! A rendered preview of one frame (WADO-RS `/rendered`): decoded with dicom-pixeldata (native,
//! RLE, JPEG baseline/extended 8-bit/lossless, JPEG 2000), windowed, 8-bit, as PNG or JPEG.

use std::io::Cursor;

use dicom_object::OpenFileOptions;
use dicom_pixeldata::{ConvertOptions, PixelDecoder, VoiLutOption, WindowLevel};

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// `image/png`.
    Png,
    /// `image/jpeg`.
    Jpeg,
}

impl Format {
    /// Media type.
    pub fn media_type(self) -> &'static str {
        match self {
            Self::Png => "image/png",
            Self::Jpeg => "image/jpeg",
        }
    }
}

/// Why a frame could not be rendered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RenderError {
    /// No such frame (frames count from 1).
    #[error("frame {0} does not exist (the instance has {1})")]
    NoFrame(u32, u32),
    /// The instance has no pixel data, or its encoding cannot be decoded here.
    #[error("cannot render this instance: {0}")]
    Unrenderable(String),
}

/// Renders frame `frame` (from 1) of a Part 10 object, with a window (`center`, `width`) or
/// the object's own.
pub fn render(
    part10: &[u8],
    frame: u32,
    window: Option<(f64, f64)>,
    format: Format,
) -> Result<Vec<u8>, RenderError> {
    let start = if part10.len() >= 132 && &part10[128..132] == b"DICM" { 128 } else { 0 };
    let obj = OpenFileOptions::new()
        .read_preamble(dicom_object::file::ReadPreamble::Never)
        .from_reader(&part10[start..])
        .map_err(|e| RenderError::Unrenderable(e.to_string()))?;
    let frames = obj
        .element(dicom_dictionary_std::tags::NUMBER_OF_FRAMES)
        .ok()
        .and_then(|e| e.to_int::<u32>().ok())
        .unwrap_or(1);
    if frame == 0 || frame > frames {
        return Err(RenderError::NoFrame(frame, frames));
    }
    let decoded =
        obj.decode_pixel_data_frame(frame - 1).map_err(|e| RenderError::Unrenderable(e.to_string()))?;
    let voi = match window {
        Some((center, width)) if width > 0.0 => VoiLutOption::Custom(WindowLevel { center, width }),
        _ => VoiLutOption::First,
    };
    let options = ConvertOptions::new().with_voi_lut(voi).force_8bit();
    let image = decoded
        .to_dynamic_image_with_options(0, &options)
        .or_else(|_| {
            decoded.to_dynamic_image_with_options(
                0,
                &ConvertOptions::new().with_voi_lut(VoiLutOption::Normalize).force_8bit(),
            )
        })
        .map_err(|e| RenderError::Unrenderable(e.to_string()))?;
    let mut out = Vec::new();
    let fmt = match format {
        Format::Png => image::ImageFormat::Png,
        Format::Jpeg => image::ImageFormat::Jpeg,
    };
    let image = match format {
        // JPEG has no 16-bit or alpha: down to 8-bit luma or RGB.
        Format::Jpeg if image.color().has_color() => image::DynamicImage::ImageRgb8(image.to_rgb8()),
        Format::Jpeg => image::DynamicImage::ImageLuma8(image.to_luma8()),
        Format::Png => image,
    };
    image.write_to(&mut Cursor::new(&mut out), fmt).map_err(|e| RenderError::Unrenderable(e.to_string()))?;
    Ok(out)
}
