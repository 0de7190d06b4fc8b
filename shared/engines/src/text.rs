//! Pages of words with their boxes, from the tools that read them best here (docs/adr/0006,
//! docs/adr/0009): a PDF's text layer through `pdftotext -bbox-layout`; pages without one
//! (scans, outlined glyphs) rasterised with `pdftoppm` and OCRed by Tesseract (TSV: word
//! boxes and confidences), turned upright when its orientation detection says so and
//! deskewed from the words' baselines; photos OCRed the same way (HEIC converted with
//! `heif-convert`). A text layer is checked against the rendered page: words with no ink
//! under them, or two different words in one place, are hidden text, and what the page
//! shows there wins. Tesseract runs single-threaded (`OMP_THREAD_LIMIT=1` is twice as fast
//! on a small machine) with an explicit page segmentation mode and resolution.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use domain::inspection::Sniffed;
use domain::pipeline::{EngineError, TextReader};
use reading::page::{HiddenText, Page, ReadDocument, ReadMethod, Rect, Word};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// Pages of a PDF that are OCRed at most (certificates and W-9s put their fields on the
/// first pages; the limit bounds the time a long scan can take).
const MAX_OCR_PAGES: u32 = 3;
/// Pages of a text-layer PDF that are read at most (packets).
const MAX_TEXT_PAGES: u32 = 12;
/// Below this mean word confidence, a page may be on its side: ask for its orientation.
const UPRIGHT_CONFIDENCE: f32 = 0.75;
/// Rendering resolution for OCR, and for the hidden-text check.
const OCR_DPI: u32 = 300;
const INK_DPI: u32 = 100;

#[derive(Clone, Debug)]
pub struct CliTextReader {
    /// Folder holding the binaries; empty means PATH.
    bin_dir: Option<PathBuf>,
    timeout: Duration,
}

impl Default for CliTextReader {
    fn default() -> Self {
        CliTextReader {
            bin_dir: None,
            timeout: Duration::from_secs(120),
        }
    }
}

impl CliTextReader {
    /// `OCR_BIN_DIR` names where the binaries are (the container image's /opt/bin); unset
    /// means PATH.
    pub fn from_env(env: &platform::Env) -> Self {
        CliTextReader {
            bin_dir: env.get("OCR_BIN_DIR").map(PathBuf::from),
            ..CliTextReader::default()
        }
    }

    fn command(&self, name: &str) -> Command {
        let program = match &self.bin_dir {
            Some(dir) => dir.join(name),
            None => PathBuf::from(name),
        };
        let mut cmd = Command::new(program);
        cmd.env("OMP_THREAD_LIMIT", "1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    }

    /// Runs `cmd` with `input` on stdin; stdout on success.
    async fn run(&self, mut cmd: Command, input: &[u8]) -> Result<Vec<u8>, EngineError> {
        let what = format!("{:?}", cmd.as_std().get_program());
        let work = async {
            let mut child = cmd.spawn()?;
            let mut stdin = child.stdin.take().expect("piped");
            let input = input.to_vec();
            let writer = tokio::spawn(async move {
                // A tool may stop reading early (it found what it needs); that is not an error.
                let _ = stdin.write_all(&input).await;
            });
            let out = child.wait_with_output().await?;
            let _ = writer.await;
            Ok::<_, std::io::Error>(out)
        };
        let out = tokio::time::timeout(self.timeout, work)
            .await
            .map_err(|_| EngineError(format!("{what} timed out after {:?}", self.timeout)))?
            .map_err(|e| EngineError(format!("{what}: {e}")))?;
        if !out.status.success() {
            return Err(EngineError(format!(
                "{what} failed ({}): {}",
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            )));
        }
        Ok(out.stdout)
    }

    /// The text layer's words with their boxes, page by page.
    async fn text_layer(&self, pdf: &[u8]) -> Result<Vec<Page>, EngineError> {
        let mut cmd = self.command("pdftotext");
        cmd.args([
            "-bbox-layout",
            "-enc",
            "UTF-8",
            "-l",
            &MAX_TEXT_PAGES.to_string(),
            "-",
            "-",
        ]);
        let out = self.run(cmd, pdf).await?;
        Ok(pages_from_bbox(&String::from_utf8_lossy(&out)))
    }

    async fn page_count(&self, pdf: &Path) -> Option<u32> {
        let mut cmd = self.command("pdfinfo");
        cmd.arg(pdf);
        let out = self.run(cmd, &[]).await.ok()?;
        String::from_utf8_lossy(&out)
            .lines()
            .find_map(|l| l.strip_prefix("Pages:"))
            .and_then(|v| v.trim().parse().ok())
    }

    /// One page rendered to greyscale PGM at `dpi`, optionally only a region (pixels).
    async fn render(
        &self,
        pdf: &Path,
        page: u32,
        dpi: u32,
        crop: Option<(u32, u32, u32, u32)>,
    ) -> Result<Vec<u8>, EngineError> {
        let mut cmd = self.command("pdftoppm");
        cmd.args([
            "-r",
            &dpi.to_string(),
            "-gray",
            "-f",
            &page.to_string(),
            "-l",
            &page.to_string(),
            "-singlefile",
        ]);
        if let Some((x, y, w, h)) = crop {
            cmd.args([
                "-x",
                &x.to_string(),
                "-y",
                &y.to_string(),
                "-W",
                &w.to_string(),
                "-H",
                &h.to_string(),
            ]);
        }
        cmd.arg(pdf);
        self.run(cmd, &[]).await
    }

    /// Tesseract's words with boxes (pixels) and confidences.
    async fn tesseract(&self, image: &[u8], psm: &str) -> Result<Vec<TsvWord>, EngineError> {
        let mut cmd = self.command("tesseract");
        cmd.args([
            "stdin",
            "stdout",
            "--psm",
            psm,
            "--dpi",
            &OCR_DPI.to_string(),
            "-l",
            "eng",
            "tsv",
        ]);
        let out = self.run(cmd, image).await?;
        Ok(words_from_tsv(&String::from_utf8_lossy(&out)))
    }

    /// Degrees to turn the image clockwise to make it upright, if Tesseract is sure enough.
    async fn orientation(&self, image: &[u8]) -> Result<u32, EngineError> {
        let mut cmd = self.command("tesseract");
        cmd.args([
            "stdin",
            "stdout",
            "--psm",
            "0",
            "--dpi",
            &OCR_DPI.to_string(),
        ]);
        let out = match self.run(cmd, image).await {
            Ok(out) => out,
            // Too little text to tell: leave it as it is.
            Err(_) => return Ok(0),
        };
        let text = String::from_utf8_lossy(&out);
        let field = |name: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(name))
                .and_then(|v| v.trim().parse::<f32>().ok())
        };
        match (field("Rotate:"), field("Orientation confidence:")) {
            (Some(r), Some(c)) if c >= 1.5 => Ok(r as u32 % 360),
            _ => Ok(0),
        }
    }

    /// Two OCR passes over one image, run side by side: sparse text (`--psm 11`, which reads
    /// a form's cells best) and automatic layout (`--psm 3`, which keeps lone letters such
    /// as an insurer's `A` and gives whole lines for the skew). Words only the second pass
    /// saw are added; where both saw a word, the surer reading stays.
    async fn ocr_passes(&self, image: &[u8]) -> Result<(Vec<TsvWord>, f32), EngineError> {
        let (sparse, layout) =
            tokio::join!(self.tesseract(image, "11"), self.tesseract(image, "3"));
        let (sparse, layout) = (sparse?, layout?);
        let angle = skew(&layout);
        Ok((merge_passes(sparse, layout), angle))
    }

    /// OCR of one image as a page: upright (turned when Tesseract's orientation detection is
    /// sure and the words read better turned), deskewed, in points at `dpi`.
    async fn ocr_page(&self, image: &[u8], number: u32, dpi: f32) -> Result<Page, EngineError> {
        let (w, h) = image_size(image)?;
        let (mut words, mut angle) = self.ocr_passes(image).await?;
        let mut size = (w, h);
        // Tesseract reads a page on its side line by line, but its boxes stay sideways:
        // tall words, or poor confidence, mean the page must be turned first.
        if sideways(&words) || mean_confidence(&words) < UPRIGHT_CONFIDENCE {
            let detected = self.orientation(image).await?;
            let tries: Vec<u32> = match (detected, sideways(&words)) {
                (0, true) => vec![90, 270],
                (0, false) => vec![],
                (r, _) => vec![r],
            };
            for rotate in tries {
                let turned = turn(image, rotate)?;
                let (upright, a) = self.ocr_passes(&turned).await?;
                if !sideways(&upright)
                    && (sideways(&words) || readable(&upright) > readable(&words))
                {
                    words = upright;
                    angle = a;
                    size = if rotate == 180 { (w, h) } else { (h, w) };
                }
            }
        }
        let scale = 72.0 / dpi;
        let (cx, cy) = (size.0 as f32 / 2.0, size.1 as f32 / 2.0);
        let (sin, cos) = (-angle).sin_cos();
        let words = words
            .into_iter()
            .map(|t| {
                // Rotate each box's centre back by the skew; boxes keep their size.
                let (x, y) = (t.left + t.width / 2.0 - cx, t.top + t.height / 2.0 - cy);
                let (rx, ry) = (x * cos - y * sin + cx, x * sin + y * cos + cy);
                let rect = Rect::new(
                    (rx - t.width / 2.0) * scale,
                    (ry - t.height / 2.0) * scale,
                    (rx + t.width / 2.0) * scale,
                    (ry + t.height / 2.0) * scale,
                );
                Word::new(t.text, rect, t.confidence)
            })
            .collect();
        Ok(Page {
            number,
            width: size.0 as f32 * scale,
            height: size.1 as f32 * scale,
            method: ReadMethod::Ocr,
            words,
        })
    }

    /// Checks a text-layer page against how it renders: words with no ink under them are
    /// hidden (removed, reported); two different words drawn in one place are resolved by
    /// OCR of that spot (the one the page shows stays).
    async fn visible_words(
        &self,
        pdf: &Path,
        page: &mut Page,
        hidden: &mut Vec<HiddenText>,
    ) -> Result<(), EngineError> {
        let pgm = self.render(pdf, page.number, INK_DPI, None).await?;
        let img = image::load_from_memory(&pgm)
            .map_err(|e| EngineError(format!("decode render: {e}")))?
            .to_luma8();
        let scale = INK_DPI as f32 / 72.0;
        let first = hidden.len();
        let mut keep = vec![true; page.words.len()];
        for (i, w) in page.words.iter().enumerate() {
            if w.text.trim().chars().all(|c| !c.is_alphanumeric()) {
                continue;
            }
            if !has_ink(&img, &w.rect, scale) {
                keep[i] = false;
                hidden.push(HiddenText {
                    page: page.number,
                    rect: w.rect,
                    text: w.text.clone(),
                    shown: None,
                });
            }
        }
        // Two words in one place that say different things: the page shows one of them.
        let n = page.words.len();
        for i in 0..n {
            for j in i + 1..n {
                if !(keep[i] && keep[j]) {
                    continue;
                }
                let (a, b) = (&page.words[i], &page.words[j]);
                // Same size, same place, different words (a bold face drawn twice says the
                // same thing; a title's box may reach over small print).
                let ratio = a.rect.height() / b.rect.height().max(0.01);
                let alnum = |w: &Word| w.text.chars().filter(|c| c.is_alphanumeric()).count();
                // A tick or a `$` drawn over a label is how forms are filled, not an edit.
                if alnum(a) < 2
                    || alnum(b) < 2
                    || a.text == b.text
                    || !(0.67..=1.5).contains(&ratio)
                    || a.rect.v_overlap(&b.rect) < 0.7
                    || a.rect.area_overlap(&b.rect) < 0.5
                {
                    continue;
                }
                let region = a.rect.union(&b.rect);
                let s = OCR_DPI as f32 / 72.0;
                let pad = 2.0;
                let crop = (
                    ((region.x0 - pad) * s).max(0.0) as u32,
                    ((region.y0 - pad) * s).max(0.0) as u32,
                    ((region.width() + 2.0 * pad) * s) as u32,
                    ((region.height() + 2.0 * pad) * s) as u32,
                );
                let shown = match self.render(pdf, page.number, OCR_DPI, Some(crop)).await {
                    Ok(img) => self.tesseract(&img, "7").await.unwrap_or_default(),
                    Err(_) => vec![],
                };
                let read: String = shown
                    .iter()
                    .map(|t| t.text.as_str())
                    .collect::<Vec<_>>()
                    .join(" ");
                let sa = similarity(&read, &a.text);
                let sb = similarity(&read, &b.text);
                let (lost, won) = if sa >= sb { (j, i) } else { (i, j) };
                keep[lost] = false;
                hidden.push(HiddenText {
                    page: page.number,
                    rect: page.words[lost].rect,
                    text: page.words[lost].text.clone(),
                    shown: Some(page.words[won].text.clone()),
                });
            }
        }
        let mut k = keep.into_iter();
        page.words.retain(|_| k.next().unwrap_or(true));
        let found = hidden.split_off(first);
        hidden.extend(phrases(found));
        Ok(())
    }

    async fn heic_to_jpeg(&self, heic: &[u8]) -> Result<Vec<u8>, EngineError> {
        let dir = tempfile::tempdir().map_err(|e| EngineError(e.to_string()))?;
        let (src, dst) = (dir.path().join("in.heic"), dir.path().join("out.jpg"));
        std::fs::write(&src, heic).map_err(|e| EngineError(e.to_string()))?;
        let mut cmd = self.command("heif-convert");
        cmd.arg(&src).arg(&dst);
        self.run(cmd, &[]).await?;
        std::fs::read(&dst).map_err(|e| EngineError(e.to_string()))
    }

    async fn read_pdf(&self, bytes: &[u8]) -> Result<ReadDocument, EngineError> {
        let dir = tempfile::tempdir().map_err(|e| EngineError(e.to_string()))?;
        let src = dir.path().join("in.pdf");
        tokio::fs::write(&src, bytes)
            .await
            .map_err(|e| EngineError(format!("temp file: {e}")))?;
        // A damaged PDF pdftotext can't open has no text layer; OCR may still read it.
        let mut pages = self.text_layer(bytes).await.unwrap_or_default();
        let page_count = self
            .page_count(&src)
            .await
            .unwrap_or(pages.len() as u32)
            .max(pages.len() as u32);
        if pages.is_empty() {
            pages = (1..=page_count.clamp(1, MAX_OCR_PAGES))
                .map(|n| Page {
                    number: n,
                    width: 612.0,
                    height: 792.0,
                    method: ReadMethod::Ocr,
                    words: vec![],
                })
                .collect();
        }
        let mut doc = ReadDocument {
            pages: vec![],
            page_count,
            hidden: vec![],
        };
        let mut ocred = 0;
        for mut page in pages {
            if page.visible_chars() >= 20 {
                self.visible_words(&src, &mut page, &mut doc.hidden).await?;
                doc.pages.push(page);
            } else if ocred < MAX_OCR_PAGES {
                ocred += 1;
                let img = self.render(&src, page.number, OCR_DPI, None).await?;
                doc.pages
                    .push(self.ocr_page(&img, page.number, OCR_DPI as f32).await?);
            }
        }
        Ok(doc)
    }

    async fn read_image(&self, bytes: &[u8]) -> Result<ReadDocument, EngineError> {
        let page = self.ocr_page(bytes, 1, OCR_DPI as f32).await?;
        Ok(ReadDocument {
            pages: vec![page],
            page_count: 1,
            hidden: vec![],
        })
    }
}

/// Hidden words side by side on a line are one hidden phrase (an insurer's whole name).
fn phrases(mut words: Vec<HiddenText>) -> Vec<HiddenText> {
    words.sort_by(|a, b| {
        a.rect
            .cy()
            .total_cmp(&b.rect.cy())
            .then(a.rect.x0.total_cmp(&b.rect.x0))
    });
    let mut out: Vec<HiddenText> = Vec::new();
    for w in words {
        if let Some(last) = out.last_mut()
            && last.page == w.page
            && last.rect.v_overlap(&w.rect) >= 0.5
            && w.rect.x0 - last.rect.x1 < 1.5 * w.rect.height()
            && w.rect.x0 >= last.rect.x0
        {
            last.rect = last.rect.union(&w.rect);
            last.text = format!("{} {}", last.text, w.text);
            last.shown = match (last.shown.take(), w.shown) {
                (Some(a), Some(b)) => Some(format!("{a} {b}")),
                (a, b) => a.or(b),
            };
            continue;
        }
        out.push(w);
    }
    out
}

/// How alike two strings read (0–1), letters and digits only.
fn similarity(a: &str, b: &str) -> f32 {
    let (a, b) = (reading::text::squash(a), reading::text::squash(b));
    let n = a.len().max(b.len());
    if n == 0 {
        return 0.0;
    }
    1.0 - reading::text::edit_distance(&a, &b) as f32 / n as f32
}

/// Whether the rendered page shows anything in `rect` (points): some pixels differ clearly
/// from the box's usual shade. A box painted over, or text drawn without ink, is flat.
fn has_ink(img: &image::GrayImage, rect: &Rect, scale: f32) -> bool {
    let (w, h) = img.dimensions();
    let x0 = ((rect.x0 * scale).floor().max(0.0) as u32).min(w.saturating_sub(1));
    let y0 = ((rect.y0 * scale).floor().max(0.0) as u32).min(h.saturating_sub(1));
    let x1 = ((rect.x1 * scale).ceil() as u32).clamp(x0 + 1, w);
    let y1 = ((rect.y1 * scale).ceil() as u32).clamp(y0 + 1, h);
    let mut hist = [0u32; 256];
    for y in y0..y1 {
        for x in x0..x1 {
            hist[img.get_pixel(x, y).0[0] as usize] += 1;
        }
    }
    let total: u32 = hist.iter().sum();
    let mode = (0..256).max_by_key(|v| hist[*v]).unwrap_or(255) as i32;
    let differing: u32 = (0..256)
        .filter(|v| (*v as i32 - mode).abs() > 60)
        .map(|v| hist[v])
        .sum();
    total > 0 && differing as f32 / total as f32 >= 0.02
}

/// A word as Tesseract's TSV gives it (pixels).
#[derive(Clone, Debug, PartialEq)]
pub struct TsvWord {
    pub line: (u32, u32, u32),
    pub left: f32,
    pub top: f32,
    pub width: f32,
    pub height: f32,
    pub confidence: f32,
    pub text: String,
}

/// Words from Tesseract's TSV (level 5 rows), confidence 0–1.
pub fn words_from_tsv(tsv: &str) -> Vec<TsvWord> {
    tsv.lines()
        .skip(1)
        .filter_map(|row| {
            let c: Vec<&str> = row.split('\t').collect();
            if c.len() < 12 || c[0] != "5" {
                return None;
            }
            let text = c[11].trim();
            if text.is_empty() {
                return None;
            }
            Some(TsvWord {
                line: (c[2].parse().ok()?, c[3].parse().ok()?, c[4].parse().ok()?),
                left: c[6].parse().ok()?,
                top: c[7].parse().ok()?,
                width: c[8].parse().ok()?,
                height: c[9].parse().ok()?,
                confidence: c[10].parse::<f32>().ok()?.max(0.0) / 100.0,
                text: text.to_owned(),
            })
        })
        .collect()
}

/// The page's skew (radians, clockwise positive) from the slope of word bottoms along
/// Tesseract's lines: the median over lines of three words or more, within ±5°.
pub fn skew(words: &[TsvWord]) -> f32 {
    let mut slopes = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let mut j = i;
        while j < words.len() && words[j].line == words[i].line {
            j += 1;
        }
        let line = &words[i..j];
        if line.len() >= 3 {
            let n = line.len() as f32;
            let xs: Vec<f32> = line.iter().map(|w| w.left + w.width / 2.0).collect();
            let ys: Vec<f32> = line.iter().map(|w| w.top + w.height).collect();
            let (mx, my) = (xs.iter().sum::<f32>() / n, ys.iter().sum::<f32>() / n);
            let sxx: f32 = xs.iter().map(|x| (x - mx).powi(2)).sum();
            let sxy: f32 = xs.iter().zip(&ys).map(|(x, y)| (x - mx) * (y - my)).sum();
            if sxx > 0.0 {
                slopes.push(sxy / sxx);
            }
        }
        i = j;
    }
    if slopes.len() < 3 {
        return 0.0;
    }
    slopes.sort_by(|a, b| a.total_cmp(b));
    let angle = slopes[slopes.len() / 2].atan();
    if angle.abs() > 5f32.to_radians() || angle.abs() < 0.2f32.to_radians() {
        0.0
    } else {
        angle
    }
}

/// The first pass's words, plus the second's where the first saw nothing, or saw less
/// surely the same spot.
pub fn merge_passes(first: Vec<TsvWord>, second: Vec<TsvWord>) -> Vec<TsvWord> {
    let rect = |w: &TsvWord| Rect::new(w.left, w.top, w.left + w.width, w.top + w.height);
    let mut out = first;
    for b in second {
        let rb = rect(&b);
        let overlapping: Vec<usize> = (0..out.len())
            .filter(|i| rect(&out[*i]).area_overlap(&rb) >= 0.3)
            .collect();
        if overlapping.is_empty() {
            out.push(b);
            continue;
        }
        let best = overlapping
            .iter()
            .map(|i| out[*i].confidence)
            .fold(0.0, f32::max);
        if b.confidence > best + 0.1 {
            let mut k = 0;
            out.retain(|_| {
                let keep = !overlapping.contains(&k);
                k += 1;
                keep
            });
            out.push(b);
        }
    }
    out
}

fn mean_confidence(words: &[TsvWord]) -> f32 {
    if words.len() < 10 {
        return 0.0;
    }
    words.iter().map(|w| w.confidence).sum::<f32>() / words.len() as f32
}

/// Whether most words are taller than wide: the page is on its side.
fn sideways(words: &[TsvWord]) -> bool {
    let long: Vec<&TsvWord> = words
        .iter()
        .filter(|w| {
            w.confidence > 0.5 && w.text.chars().filter(|c| c.is_alphanumeric()).count() >= 4
        })
        .collect();
    long.len() >= 5 && long.iter().filter(|w| w.height > w.width).count() * 2 > long.len()
}

/// How much readable text a pass found: the confidence summed over words of three
/// characters or more read at better than even odds. Turned the wrong way, a page gives
/// few such words, however sure Tesseract is of its noise.
fn readable(words: &[TsvWord]) -> f32 {
    words
        .iter()
        .filter(|w| {
            w.confidence > 0.5 && w.text.chars().filter(|c| c.is_alphanumeric()).count() >= 3
        })
        .map(|w| w.confidence)
        .sum()
}

fn image_size(image: &[u8]) -> Result<(u32, u32), EngineError> {
    let reader = image::ImageReader::new(std::io::Cursor::new(image))
        .with_guessed_format()
        .map_err(|e| EngineError(format!("image: {e}")))?;
    reader
        .into_dimensions()
        .map_err(|e| EngineError(format!("image size: {e}")))
}

/// Turns an image clockwise by 90, 180 or 270 degrees; out as binary PNM (fast to write,
/// read by Tesseract).
fn turn(image: &[u8], degrees: u32) -> Result<Vec<u8>, EngineError> {
    let img = image::load_from_memory(image)
        .map_err(|e| EngineError(format!("decode image: {e}")))?
        .to_luma8();
    let img = image::DynamicImage::ImageLuma8(img);
    let turned = match degrees {
        90 => img.rotate90(),
        180 => img.rotate180(),
        270 => img.rotate270(),
        _ => img,
    };
    let mut out = std::io::Cursor::new(Vec::new());
    turned
        .write_to(&mut out, image::ImageFormat::Pnm)
        .map_err(|e| EngineError(format!("encode image: {e}")))?;
    Ok(out.into_inner())
}

/// Pages and words from `pdftotext -bbox-layout` (XHTML: `<page width height>` holding
/// `<word xMin yMin xMax yMax>text</word>`).
pub fn pages_from_bbox(xhtml: &str) -> Vec<Page> {
    let attr = |tag: &str, name: &str| -> Option<f32> {
        let key = format!("{name}=\"");
        let start = tag.find(&key)? + key.len();
        let end = tag[start..].find('"')? + start;
        tag[start..end].parse().ok()
    };
    let mut pages: Vec<Page> = Vec::new();
    let mut rest = xhtml;
    while let Some(i) = rest.find('<') {
        rest = &rest[i..];
        let Some(close) = rest.find('>') else { break };
        let tag = &rest[..=close];
        if tag.starts_with("<page ") {
            pages.push(Page {
                number: pages.len() as u32 + 1,
                width: attr(tag, "width").unwrap_or(612.0),
                height: attr(tag, "height").unwrap_or(792.0),
                method: ReadMethod::TextLayer,
                words: vec![],
            });
        } else if tag.starts_with("<word ") {
            let body = &rest[close + 1..];
            let Some(end) = body.find("</word>") else {
                break;
            };
            let text = unescape(&body[..end]);
            // Vertical words (margin captions such as "Print or type") are left out: a
            // form's values are written across the page.
            if let (Some(page), Some(x0), Some(y0), Some(x1), Some(y1)) = (
                pages.last_mut(),
                attr(tag, "xMin"),
                attr(tag, "yMin"),
                attr(tag, "xMax"),
                attr(tag, "yMax"),
            ) && !text.trim().is_empty()
                && !(text.chars().count() >= 2 && y1 - y0 > 1.5 * (x1 - x0))
            {
                page.words
                    .push(Word::new(text, Rect::new(x0, y0, x1, y1), 0.99));
            }
            rest = &body[end..];
            continue;
        }
        rest = &rest[close + 1..];
    }
    pages
}

fn unescape(s: &str) -> String {
    if !s.contains('&') {
        return s.to_owned();
    }
    let mut out = String::new();
    let mut rest = s;
    while let Some(i) = rest.find('&') {
        out.push_str(&rest[..i]);
        rest = &rest[i..];
        let Some(end) = rest.find(';').filter(|e| *e < 10) else {
            out.push('&');
            rest = &rest[1..];
            continue;
        };
        let entity = &rest[1..end];
        let c = match entity {
            "amp" => Some('&'),
            "lt" => Some('<'),
            "gt" => Some('>'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            e if e.starts_with("#x") => u32::from_str_radix(&e[2..], 16)
                .ok()
                .and_then(char::from_u32),
            e if e.starts_with('#') => e[1..].parse().ok().and_then(char::from_u32),
            _ => None,
        };
        match c {
            Some(c) => out.push(c),
            None => out.push_str(&rest[..=end]),
        }
        rest = &rest[end + 1..];
    }
    out.push_str(rest);
    out
}

/// Ghostscript's `pdfwrite` redraws the pages into a new PDF: document scripts, XFA and
/// form fields do not survive, the text layer and the look do (docs/adr/0009: pdftocairo
/// lost glyphs from a LiveCycle certificate's text layer; qpdf keeps the scripts).
impl domain::pipeline::PdfDisarmer for CliTextReader {
    async fn disarm(&self, pdf: &[u8]) -> Result<Vec<u8>, EngineError> {
        let dir = tempfile::tempdir().map_err(|e| EngineError(e.to_string()))?;
        let (src, dst) = (dir.path().join("in.pdf"), dir.path().join("out.pdf"));
        tokio::fs::write(&src, pdf)
            .await
            .map_err(|e| EngineError(format!("temp file: {e}")))?;
        let mut cmd = self.command("gs");
        cmd.args([
            "-q",
            "-dSAFER",
            "-dBATCH",
            "-dNOPAUSE",
            "-sDEVICE=pdfwrite",
            "-dPrinted=false",
        ])
        .arg(format!("-sOutputFile={}", dst.display()))
        .arg(&src);
        self.run(cmd, &[]).await?;
        tokio::fs::read(&dst)
            .await
            .map_err(|e| EngineError(format!("disarmed file: {e}")))
    }

    fn method(&self) -> &'static str {
        "ghostscript-pdfwrite"
    }
}

impl TextReader for CliTextReader {
    async fn read(&self, bytes: &[u8], sniffed: Sniffed) -> Result<ReadDocument, EngineError> {
        match sniffed {
            Sniffed::Pdf => self.read_pdf(bytes).await,
            Sniffed::Jpeg | Sniffed::Png => self.read_image(bytes).await,
            Sniffed::Heic => {
                let jpeg = self.heic_to_jpeg(bytes).await?;
                self.read_image(&jpeg).await
            }
            other => Err(EngineError(format!("no reader for {other:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_rows_become_words_with_boxes() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
4\t1\t1\t1\t1\t0\t10\t10\t500\t20\t-1\t\n\
5\t1\t1\t1\t1\t1\t10\t10\t80\t20\t96.5\tINSURED\n\
5\t1\t1\t1\t1\t2\t100\t10\t60\t20\t90\tAurora\n";
        let words = words_from_tsv(tsv);
        assert_eq!(words.len(), 2);
        assert_eq!(words[0].text, "INSURED");
        assert!((words[0].confidence - 0.965).abs() < 1e-4);
        assert_eq!((words[1].left, words[1].width), (100.0, 60.0));
    }

    #[test]
    fn bbox_xhtml_becomes_pages_of_words() {
        let x = r#"<doc><page width="612.000000" height="792.000000"><flow><block><line>
<word xMin="10.5" yMin="20" xMax="40" yMax="28">AT&amp;T</word><word xMin="45" yMin="20" xMax="60" yMax="28">&#8482;</word></line></block></flow></page>
<page width="300" height="400"></page></doc>"#;
        let pages = pages_from_bbox(x);
        assert_eq!(pages.len(), 2);
        assert_eq!(pages[0].words[0].text, "AT&T");
        assert_eq!(pages[0].words[1].text, "™");
        assert_eq!(pages[0].words[0].rect, Rect::new(10.5, 20.0, 40.0, 28.0));
        assert_eq!(pages[1].width, 300.0);
    }

    #[test]
    fn a_second_pass_fills_gaps_and_surer_readings_win() {
        let w = |text: &str, left: f32, confidence: f32| TsvWord {
            line: (1, 1, 1),
            left,
            top: 10.0,
            width: 50.0,
            height: 20.0,
            confidence,
            text: text.into(),
        };
        let merged = merge_passes(
            vec![w("jo4/2025", 0.0, 0.1), w("INSURED", 100.0, 0.9)],
            vec![
                w("04/24/2025", 2.0, 0.95),
                w("A", 300.0, 0.9),
                w("INSURFD", 100.0, 0.5),
            ],
        );
        let texts: Vec<&str> = merged.iter().map(|w| w.text.as_str()).collect();
        assert_eq!(texts, ["INSURED", "04/24/2025", "A"]);
    }

    #[test]
    fn skew_comes_from_word_baselines() {
        // Three lines of words whose bottoms climb 2 px per 100 px: about 1.15 degrees.
        let mut words = vec![];
        for line in 0..4u32 {
            for k in 0..5 {
                let x = 100.0 * k as f32;
                words.push(TsvWord {
                    line: (1, 1, line),
                    left: x,
                    top: 100.0 * line as f32 + 0.02 * x,
                    width: 60.0,
                    height: 20.0,
                    confidence: 0.9,
                    text: "w".into(),
                });
            }
        }
        let a = skew(&words).to_degrees();
        assert!((a - 1.146).abs() < 0.05, "{a}");
    }

    #[test]
    fn hidden_words_side_by_side_are_one_phrase() {
        let w = |t: &str, x0: f32, y: f32| HiddenText {
            page: 1,
            rect: Rect::new(x0, y, x0 + 30.0, y + 8.0),
            text: t.into(),
            shown: Some(t.to_uppercase()),
        };
        let p = phrases(vec![
            w("Mutual", 135.0, 100.0),
            w("Hartwell", 100.0, 100.0),
            w("elsewhere", 400.0, 100.0),
            w("below", 100.0, 200.0),
        ]);
        assert_eq!(p.len(), 3);
        assert_eq!(p[0].text, "Hartwell Mutual");
        assert_eq!(p[0].shown.as_deref(), Some("HARTWELL MUTUAL"));
        assert_eq!(p[0].rect, Rect::new(100.0, 100.0, 165.0, 108.0));
    }

    #[test]
    fn ink_is_told_from_a_covered_box() {
        let mut img = image::GrayImage::from_pixel(100, 50, image::Luma([255]));
        for x in 10..30 {
            for y in 10..20 {
                if (x + y) % 3 == 0 {
                    img.put_pixel(x, y, image::Luma([0]));
                }
            }
        }
        assert!(has_ink(&img, &Rect::new(10.0, 10.0, 30.0, 20.0), 1.0));
        assert!(!has_ink(&img, &Rect::new(50.0, 10.0, 90.0, 20.0), 1.0));
    }
}
