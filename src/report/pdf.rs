//! A page printed to PDF by headless Chromium: the HTML renderer's page, so the PDF is the
//! page a customer would print from their browser, with nothing re-laid-out by us.

use std::path::Path;
use std::process::Command;

/// Paper sizes a quote is printed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Paper {
    A4,
    Letter,
}

impl Paper {
    fn css(self) -> &'static str {
        match self {
            Paper::A4 => "A4",
            Paper::Letter => "letter",
        }
    }
}

/// `html` (a self-contained page) printed by the Chromium at `chromium` on `paper`, without
/// the browser's own header and footer.
pub fn print(html: &str, chromium: &Path, paper: Paper) -> Result<Vec<u8>, String> {
    let dir = tempfile::tempdir().map_err(|e| format!("a temporary folder for printing: {e}"))?;
    let page = dir.path().join("page.html");
    let sized = html.replacen(
        "</head>",
        &format!("<style>@page {{ size: {}; }}</style>\n</head>", paper.css()),
        1,
    );
    std::fs::write(&page, sized).map_err(|e| format!("{}: {e}", page.display()))?;
    let pdf = dir.path().join("page.pdf");
    let out = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-pdf-header-footer",
        ])
        .arg(format!(
            "--user-data-dir={}",
            dir.path().join("profile").display()
        ))
        .arg(format!("--print-to-pdf={}", pdf.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .map_err(|e| format!("cannot run {}: {e}", chromium.display()))?;
    match std::fs::read(&pdf) {
        Ok(bytes) if out.status.success() && bytes.starts_with(b"%PDF") => Ok(bytes),
        _ => Err(format!(
            "{} did not print the page ({}): {}",
            chromium.display(),
            out.status,
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
        )),
    }
}
