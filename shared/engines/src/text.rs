//! Text from documents with the tools that read them best here (docs/adr/0006): a PDF's
//! text layer through `pdftotext -layout` (keeps table rows together); image-only PDFs are
//! rasterised with `pdftoppm` and OCRed; photos go to Tesseract, turned upright first when
//! Tesseract's orientation detection says they are on their side. HEIC is converted with
//! `heif-convert`. Tesseract runs single-threaded (`OMP_THREAD_LIMIT=1` is twice as fast on
//! a small machine) with an explicit page segmentation mode and resolution.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use domain::extraction::{Line, ReadMethod, ReadText};
use domain::inspection::Sniffed;
use domain::pipeline::{EngineError, TextReader};
use tokio::io::AsyncWriteExt;
use tokio::process::Command;

/// Pages of an image-only PDF that are OCRed (certificates and W-9s put their fields on
/// the first page; the limit bounds the time a long scan can take).
const MAX_OCR_PAGES: u32 = 3;
/// Below this mean word confidence, a photo may be on its side: ask for its orientation.
const UPRIGHT_CONFIDENCE: f32 = 0.75;

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

    async fn pdf_text_layer(&self, pdf: &[u8]) -> Result<ReadText, EngineError> {
        let mut cmd = self.command("pdftotext");
        cmd.args(["-layout", "-enc", "UTF-8", "-", "-"]);
        let out = self.run(cmd, pdf).await?;
        Ok(ReadText {
            method: ReadMethod::TextLayer,
            lines: String::from_utf8_lossy(&out)
                .lines()
                .filter(|l| !l.trim().is_empty())
                .map(|l| Line {
                    text: l.trim_end().to_owned(),
                    confidence: 0.99,
                })
                .collect(),
        })
    }

    async fn pdf_pages(&self, pdf: &[u8], dir: &Path) -> Result<Vec<Vec<u8>>, EngineError> {
        let src = dir.join("in.pdf");
        tokio::fs::write(&src, pdf)
            .await
            .map_err(|e| EngineError(format!("temp file: {e}")))?;
        let mut cmd = self.command("pdftoppm");
        cmd.args([
            "-r",
            "300",
            "-gray",
            "-f",
            "1",
            "-l",
            &MAX_OCR_PAGES.to_string(),
        ])
        .arg(&src)
        .arg(dir.join("page"));
        self.run(cmd, &[]).await?;
        let mut pages: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| EngineError(e.to_string()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "pgm"))
            .collect();
        pages.sort();
        let mut out = Vec::new();
        for p in pages {
            out.push(std::fs::read(&p).map_err(|e| EngineError(e.to_string()))?);
        }
        Ok(out)
    }

    /// Tesseract's words, grouped back into lines (`tsv` output: one row per word with its
    /// box and confidence). A wide gap between words becomes three spaces, as a column
    /// break in a laid-out text layer.
    async fn tesseract(&self, image: &[u8]) -> Result<Vec<Line>, EngineError> {
        let mut cmd = self.command("tesseract");
        cmd.args([
            "stdin", "stdout", "--psm", "6", "--dpi", "300", "-l", "eng", "tsv",
        ]);
        let out = self.run(cmd, image).await?;
        Ok(lines_from_tsv(&String::from_utf8_lossy(&out)))
    }

    /// Degrees to turn the image clockwise to make it upright, if Tesseract is sure enough.
    async fn orientation(&self, image: &[u8]) -> Result<u32, EngineError> {
        let mut cmd = self.command("tesseract");
        cmd.args(["stdin", "stdout", "--psm", "0", "--dpi", "300"]);
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

    async fn ocr(&self, image: &[u8]) -> Result<Vec<Line>, EngineError> {
        let lines = self.tesseract(image).await?;
        if mean_confidence(&lines) >= UPRIGHT_CONFIDENCE {
            return Ok(lines);
        }
        let rotate = self.orientation(image).await?;
        if rotate == 0 {
            return Ok(lines);
        }
        let turned = turn(image, rotate)?;
        let upright = self.tesseract(&turned).await?;
        Ok(if mean_confidence(&upright) > mean_confidence(&lines) {
            upright
        } else {
            lines
        })
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

fn mean_confidence(lines: &[Line]) -> f32 {
    let words: usize = lines
        .iter()
        .map(|l| l.text.split_whitespace().count())
        .sum();
    if words < 10 {
        return 0.0;
    }
    let total: f32 = lines
        .iter()
        .map(|l| l.confidence * l.text.split_whitespace().count() as f32)
        .sum();
    total / words as f32
}

/// Lines from Tesseract's TSV: words of a (block, paragraph, line) in order; the line's
/// confidence is the mean of its words' (0–1).
pub fn lines_from_tsv(tsv: &str) -> Vec<Line> {
    struct Word {
        key: (u32, u32, u32),
        left: i64,
        width: i64,
        height: i64,
        conf: f32,
        text: String,
    }
    let words: Vec<Word> = tsv
        .lines()
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
            Some(Word {
                key: (c[2].parse().ok()?, c[3].parse().ok()?, c[4].parse().ok()?),
                left: c[6].parse().ok()?,
                width: c[8].parse().ok()?,
                height: c[9].parse().ok()?,
                conf: c[10].parse::<f32>().ok()?.max(0.0) / 100.0,
                text: text.to_owned(),
            })
        })
        .collect();
    let mut lines = Vec::new();
    let mut i = 0;
    while i < words.len() {
        let key = words[i].key;
        let mut text = String::new();
        let mut conf = 0.0;
        let mut n = 0;
        let mut prev_end: Option<i64> = None;
        while i < words.len() && words[i].key == key {
            let w = &words[i];
            if let Some(end) = prev_end {
                // A gap wider than about three characters is a column break.
                text.push_str(if w.left - end > w.height * 2 {
                    "   "
                } else {
                    " "
                });
            }
            text.push_str(&w.text);
            prev_end = Some(w.left + w.width);
            conf += w.conf;
            n += 1;
            i += 1;
        }
        lines.push(Line {
            text,
            confidence: conf / n as f32,
        });
    }
    lines
}

impl TextReader for CliTextReader {
    async fn read(&self, bytes: &[u8], sniffed: Sniffed) -> Result<ReadText, EngineError> {
        match sniffed {
            Sniffed::Pdf => {
                // A damaged PDF pdftotext can't open has no text layer; OCR may still read it.
                let layer = self.pdf_text_layer(bytes).await.unwrap_or(ReadText {
                    method: ReadMethod::TextLayer,
                    lines: vec![],
                });
                if layer.visible_chars() >= 20 {
                    return Ok(layer);
                }
                let dir = tempfile::tempdir().map_err(|e| EngineError(e.to_string()))?;
                let mut lines = Vec::new();
                for page in self.pdf_pages(bytes, dir.path()).await? {
                    lines.extend(self.ocr(&page).await?);
                }
                Ok(ReadText {
                    method: ReadMethod::Ocr,
                    lines,
                })
            }
            Sniffed::Jpeg | Sniffed::Png => Ok(ReadText {
                method: ReadMethod::Ocr,
                lines: self.ocr(bytes).await?,
            }),
            Sniffed::Heic => {
                let jpeg = self.heic_to_jpeg(bytes).await?;
                Ok(ReadText {
                    method: ReadMethod::Ocr,
                    lines: self.ocr(&jpeg).await?,
                })
            }
            other => Err(EngineError(format!("no reader for {other:?}"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tsv_rows_become_lines_with_column_gaps() {
        let tsv = "level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext\n\
4\t1\t1\t1\t1\t0\t10\t10\t500\t20\t-1\t\n\
5\t1\t1\t1\t1\t1\t10\t10\t80\t20\t96.5\tINSURED\n\
5\t1\t1\t1\t1\t2\t100\t10\t60\t20\t90\tAurora\n\
5\t1\t1\t1\t1\t3\t400\t10\t70\t20\t80\tINSURER\n\
5\t1\t1\t1\t2\t1\t10\t40\t80\t20\t50\tnext\n";
        let lines = lines_from_tsv(tsv);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0].text, "INSURED Aurora   INSURER");
        assert!((lines[0].confidence - 0.888).abs() < 0.01);
        assert_eq!(lines[1].text, "next");
    }
}
