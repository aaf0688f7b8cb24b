//! A `Doc` as one self-contained HTML page: inline CSS, charts as inline SVG and nothing
//! fetched from the network, so the file can be mailed, archived and printed as is. The only
//! script is an explorer's (a quote's `--interactive` slider), inline, and it looks up
//! values the engine computed; it computes none.

use super::doc::{looks_numeric, Block, Chart, Doc, Explorer, Table};

/// Screen: a readable column that never makes the page wider than the window (wide tables
/// scroll inside their box). Print: A4 and Letter both fit in 180 mm of line width.
const STYLE: &str = r#"
:root { color-scheme: light; }
* { box-sizing: border-box; }
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif;
       color: #1b1f24; margin: 0 auto; padding: 24px; max-width: 1100px; }
h1 { font-size: 1.5em; margin: 0 0 .2em; }
h2 { font-size: 1.15em; margin: 1.6em 0 .4em; border-bottom: 1px solid #d0d7de; padding-bottom: .2em; }
.subtitle { color: #57606a; margin: 0 0 1em; overflow-wrap: anywhere; }
p { margin: .5em 0; overflow-wrap: anywhere; }
.note { background: #fff8e1; border-left: 4px solid #d4a72c; padding: .5em .8em; margin: .8em 0; }
.scroll { overflow-x: auto; max-width: 100%; margin: .4em 0 1em; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; font-size: .9em; }
caption { text-align: left; font-weight: 600; padding: .3em 0; caption-side: top; }
th, td { border: 1px solid #d0d7de; padding: .25em .6em; white-space: nowrap; }
th { background: #f6f8fa; text-align: left; }
td.num { text-align: right; }
pre { overflow-x: auto; max-width: 100%; background: #f6f8fa; padding: .5em .8em;
      font-size: .85em; }
figure { margin: 1em 0; }
figure svg { max-width: 100%; height: auto; display: block; }
footer { margin-top: 2.5em; border-top: 1px solid #d0d7de; padding-top: .6em; color: #57606a;
         font-size: .8em; }
footer dl { display: grid; grid-template-columns: max-content 1fr; gap: .1em 1em; margin: 0; }
footer dd { margin: 0; overflow-wrap: anywhere; }
.figures { display: grid; grid-template-columns: repeat(auto-fit, minmax(300px, 1fr)); gap: 8px 16px; margin: .6em 0; }
.figures figure { margin: 0; }
figcaption { font-size: .85em; color: #57606a; margin-top: .2em; }
tr.best th, tr.best td { background: #e6f4ea; font-weight: 600; }
.explorer { border: 1px solid #d0d7de; border-radius: 6px; padding: .2em 1em .8em; margin: 1.4em 0; }
.explorer input[type=range] { width: 100%; }
body.one-page main { max-width: 900px; margin: 0 auto; }
body.one-page h2 { font-size: 1.05em; margin: 1em 0 .3em; }
body.one-page th, body.one-page td { white-space: normal; }
body.one-page td.num { white-space: nowrap; }
@page { margin: 14mm 12mm; }
@media print {
  body { max-width: none; padding: 0; font-size: 10pt; }
  .scroll { overflow: visible; }
  pre { white-space: pre-wrap; overflow-wrap: anywhere; }
  table { font-size: 7.5pt; }
  th, td { padding: .15em .35em; }
  h2 { break-after: avoid; }
  figure, tr { break-inside: avoid; }
  @page { margin: 10mm 11mm; }
  body.one-page { font-size: 8.2pt; line-height: 1.3; }
  body.one-page h1 { font-size: 14pt; }
  body.one-page h2 { font-size: 9.5pt; margin: .6em 0 .2em; }
  body.one-page p { margin: .3em 0; }
  body.one-page table { font-size: 7.6pt; }
  body.one-page .scroll { margin: .2em 0 .4em; }
  body.one-page .figures { grid-template-columns: 1fr 1fr; gap: 4px 10px; margin: .3em 0; }
  body.one-page footer { margin-top: .6em; font-size: 6pt; padding-top: .2em; }
  .explorer { display: none; }
}
"#;

/// `text` with `&`, `<`, `>`, `"` and `'` escaped, for element content and attributes.
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn table(t: &Table) -> String {
    let mut out = String::from("<div class=\"scroll\"><table>\n");
    out.push_str(&format!(
        "<caption>{}</caption>\n<thead><tr>",
        escape(&t.title)
    ));
    for h in &t.header {
        out.push_str(&format!("<th scope=\"col\">{}</th>", escape(h)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in &t.rows {
        out.push_str("<tr>");
        for (c, cell) in row.iter().enumerate() {
            if c < t.key_columns {
                out.push_str(&format!("<th scope=\"row\">{}</th>", escape(cell)));
            } else {
                let class = if looks_numeric(cell) {
                    " class=\"num\""
                } else {
                    ""
                };
                out.push_str(&format!("<td{class}>{}</td>", escape(cell)));
            }
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
    out
}

/// The SVG as inline markup: the XML declaration is dropped (not allowed inside HTML); the
/// chart draws its own title, so screen readers get it as the figure's label.
/// The `<svg>` element of an SVG document: its XML declaration is not allowed inside HTML.
fn svg_element(svg: &str) -> &str {
    svg.find("<svg").map_or(svg, |i| &svg[i..])
}

fn inline_svg(svg: &str, title: &str) -> String {
    let body = svg_element(svg);
    format!(
        "<figure role=\"img\" aria-label=\"{}\">{body}</figure>\n",
        escape(title)
    )
}

fn figures_html(figures: &[(Chart, String)]) -> String {
    let mut out = String::from("<div class=\"figures\">\n");
    for (chart, caption) in figures {
        let body = svg_element(&chart.svg);
        out.push_str(&format!(
            "<figure>{body}<figcaption>{}</figcaption></figure>\n",
            escape(caption)
        ));
    }
    out.push_str("</div>\n");
    out
}

/// Shows point `i` of the explorer's data: its words, its cells, its best row.
const EXPLORER_SCRIPT: &str = r##"(function () {
  var data = JSON.parse(document.getElementById("explorer-data").textContent);
  var slider = document.getElementById("explorer-usage");
  function show(i) {
    var p = data[i];
    document.getElementById("explorer-at").textContent = p.at;
    document.getElementById("explorer-sentence").textContent = p.sentence;
    var rows = document.querySelectorAll("#explorer-table tbody tr");
    rows.forEach(function (row, k) {
      var cells = row.querySelectorAll("td");
      p.cells[k].forEach(function (text, j) { cells[j].textContent = text; });
      row.className = k === p.best ? "best" : "";
    });
  }
  slider.addEventListener("input", function () { show(Number(slider.value)); });
  show(Number(slider.value));
})();"##;

/// The explorer: a slider, the start point's words and table written out (the page reads
/// right without script), its points as JSON and the script that shows them.
fn explorer(e: &Explorer) -> String {
    let start = &e.points[e.start];
    let mut out = format!(
        "<section class=\"explorer\">\n<h2>{}</h2>\n<label for=\"explorer-usage\">{}</label>\n",
        escape(&e.title),
        escape(&e.label)
    );
    out.push_str(&format!(
        "<input type=\"range\" id=\"explorer-usage\" min=\"0\" max=\"{}\" step=\"1\" value=\"{}\">\n",
        e.points.len() - 1,
        e.start
    ));
    out.push_str(&format!(
        "<p id=\"explorer-at\">{}</p>\n<p id=\"explorer-sentence\">{}</p>\n",
        escape(&start.at),
        escape(&start.sentence)
    ));
    out.push_str("<div class=\"scroll\"><table id=\"explorer-table\">\n<thead><tr>");
    for h in &e.header {
        out.push_str(&format!("<th scope=\"col\">{}</th>", escape(h)));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for (k, name) in e.row_names.iter().enumerate() {
        let class = if k == start.best {
            " class=\"best\""
        } else {
            ""
        };
        out.push_str(&format!(
            "<tr{class}><th scope=\"row\">{}</th>",
            escape(name)
        ));
        for cell in &start.cells[k] {
            out.push_str(&format!("<td class=\"num\">{}</td>", escape(cell)));
        }
        out.push_str("</tr>\n");
    }
    // "</" never appears inside the script element: JSON allows "<\/" for it.
    let json = serde_json::to_string(&e.points)
        .expect("strings serialise")
        .replace("</", "<\\/");
    out.push_str(&format!(
        "</tbody></table></div>\n<script type=\"application/json\" id=\"explorer-data\">{json}</script>\n<script>{EXPLORER_SCRIPT}</script>\n</section>\n"
    ));
    out
}

pub fn render(doc: &Doc) -> String {
    let lang = if doc.lang.is_empty() { "en" } else { &doc.lang };
    let mut out = format!(
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n",
        escape(lang)
    );
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str(&format!("<title>{}</title>\n", escape(&doc.title)));
    out.push_str(&format!(
        "<style>{STYLE}</style>\n</head>\n<body{}>\n<main>\n",
        if doc.one_page {
            " class=\"one-page\""
        } else {
            ""
        }
    ));
    out.push_str(&format!("<h1>{}</h1>\n", escape(&doc.title)));
    if let Some(s) = &doc.subtitle {
        out.push_str(&format!("<p class=\"subtitle\">{}</p>\n", escape(s)));
    }
    for block in &doc.blocks {
        match block {
            Block::Heading(h) => out.push_str(&format!("<h2>{}</h2>\n", escape(h))),
            Block::Paragraph(p) => out.push_str(&format!("<p>{}</p>\n", escape(p))),
            Block::Note(n) => out.push_str(&format!(
                "<p class=\"note\"><strong>Note:</strong> {}</p>\n",
                escape(n)
            )),
            Block::Table(t) => out.push_str(&table(t)),
            Block::Chart(c) => out.push_str(&inline_svg(&c.svg, &c.title)),
            Block::Lines(lines) => {
                out.push_str(&format!("<pre>{}</pre>\n", escape(&lines.join("\n"))))
            }
            Block::Figures(figures) => out.push_str(&figures_html(figures)),
            Block::Explorer(e) => out.push_str(&explorer(e)),
        }
    }
    out.push_str("</main>\n<footer>\n<dl>\n");
    for (k, v) in &doc.provenance {
        out.push_str(&format!("<dt>{}</dt><dd>{}</dd>\n", escape(k), escape(v)));
    }
    out.push_str("</dl>\n</footer>\n</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn everything_from_input_is_escaped() {
        let mut doc = Doc::new("a <b> & \"c\"");
        doc.push(Block::Paragraph("<script>alert(1)</script>".into()));
        doc.push(Block::Table(Table {
            title: "t".into(),
            header: vec!["<h>".into(), "n".into()],
            rows: vec![vec!["<k>".into(), "1.00".into()]],
            key_columns: 1,
        }));
        let html = render(&doc);
        assert!(!html.contains("<script>"));
        assert!(html.contains("&lt;script&gt;"));
        assert!(html.contains("<th scope=\"row\">&lt;k&gt;</th><td class=\"num\">1.00</td>"));
        assert!(html.contains("<title>a &lt;b&gt; &amp; &quot;c&quot;</title>"));
    }

    #[test]
    fn the_page_fetches_nothing() {
        let mut doc = Doc::new("t");
        doc.push(Block::Chart(super::super::doc::Chart {
            title: "c".into(),
            svg: "<?xml version=\"1.0\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"></svg>".into(),
        }));
        let html = render(&doc);
        assert!(!html.contains("<?xml"));
        for fetch in ["<link", "<script", "src=", "@import", "url("] {
            assert!(!html.contains(fetch), "{fetch} in the page");
        }
    }
}
