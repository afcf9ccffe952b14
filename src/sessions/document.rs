//! A report as plain structure (headings, paragraphs, lists, tables), written out as Markdown or
//! as one self-contained HTML page. Every text is escaped here, once, for the format it goes
//! to: participants' notes and the target's answers end up in reports verbatim.

use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq)]
pub struct Document {
    pub lang: &'static str,
    pub title: String,
    pub blocks: Vec<Block>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    Heading(String),
    Paragraph(String),
    List(Vec<String>),
    Table {
        header: Vec<String>,
        rows: Vec<Vec<String>>,
    },
    /// An SVG picture (made by us, so trusted markup) and the text that stands for it.
    Chart {
        svg: String,
        alt: String,
    },
}

/// Where a Markdown report finds its chart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChartLink<'a> {
    /// A file beside the report, by this relative name: GitHub, GitLab, VS Code, Obsidian
    /// and pandoc all show it.
    File(&'a str),
    /// Inside the text as a `data:` URI, for a report written to the standard output: it
    /// travels with the text, and VS Code, Typora, Obsidian and pandoc show it; GitHub does not.
    DataUri,
}

/// A cell or line of Markdown: characters that would start markup are escaped, and line
/// breaks become spaces so a note cannot break a table.
fn markdown_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' | '`' | '*' | '_' | '[' | ']' | '<' | '>' | '|' | '#' => {
                out.push('\\');
                out.push(c);
            }
            '\n' | '\r' => out.push(' '),
            _ => out.push(c),
        }
    }
    out
}

pub fn to_markdown(document: &Document, chart: ChartLink) -> String {
    let mut out = format!("# {}\n", markdown_text(&document.title));
    for block in &document.blocks {
        out.push('\n');
        match block {
            Block::Heading(text) => {
                let _ = writeln!(out, "## {}", markdown_text(text));
            }
            Block::Paragraph(text) => {
                let _ = writeln!(out, "{}", markdown_text(text));
            }
            Block::List(items) => {
                for item in items {
                    let _ = writeln!(out, "- {}", markdown_text(item));
                }
            }
            Block::Table { header, rows } => {
                let row = |cells: &[String]| {
                    let cells: Vec<String> = cells.iter().map(|c| markdown_text(c)).collect();
                    format!("| {} |\n", cells.join(" | "))
                };
                out.push_str(&row(header));
                let rule: Vec<&str> = header.iter().map(|_| "---").collect();
                let _ = writeln!(out, "| {} |", rule.join(" | "));
                for cells in rows {
                    out.push_str(&row(cells));
                }
            }
            Block::Chart { svg, alt } => {
                let target = match chart {
                    ChartLink::File(name) if name.contains([' ', '(', ')', '<', '>']) => {
                        format!("<{}>", name.replace(['<', '>'], ""))
                    }
                    ChartLink::File(name) => name.to_string(),
                    ChartLink::DataUri => {
                        format!("data:image/svg+xml;base64,{}", base64(svg.as_bytes()))
                    }
                };
                let _ = writeln!(out, "![{}]({target})", markdown_text(alt));
            }
        }
    }
    out
}

/// Standard base64 with padding (RFC 4648), for the chart's `data:` URI.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (index, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if index <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// Text for HTML element content and attribute values.
pub fn html_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Inline, so the page is one file that opens anywhere, offline, and prints cleanly.
const STYLE: &str = "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;\
padding:0 1rem;line-height:1.45;color:#1b1b1b}h1{font-size:1.6rem}h2{font-size:1.25rem;\
margin-top:2rem;border-bottom:1px solid #ccc}table{border-collapse:collapse;margin:.5rem 0}\
th,td{border:1px solid #ccc;padding:.25rem .6rem;text-align:left;vertical-align:top}\
th{background:#f2f2f2}figure{margin:1rem 0}figure svg{max-width:100%;height:auto}\
@media print{body{margin:0}}";

pub fn to_html(document: &Document) -> String {
    let mut out = String::new();
    let title = html_text(&document.title);
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>{title}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<h1>{title}</h1>\n",
        html_text(document.lang)
    );
    for block in &document.blocks {
        match block {
            Block::Heading(text) => {
                let _ = writeln!(out, "<h2>{}</h2>", html_text(text));
            }
            Block::Paragraph(text) => {
                let _ = writeln!(out, "<p>{}</p>", html_text(text));
            }
            Block::List(items) => {
                out.push_str("<ul>\n");
                for item in items {
                    let _ = writeln!(out, "<li>{}</li>", html_text(item));
                }
                out.push_str("</ul>\n");
            }
            Block::Table { header, rows } => {
                out.push_str("<table>\n<thead><tr>");
                for cell in header {
                    let _ = write!(out, "<th>{}</th>", html_text(cell));
                }
                out.push_str("</tr></thead>\n<tbody>\n");
                for cells in rows {
                    out.push_str("<tr>");
                    for cell in cells {
                        let _ = write!(out, "<td>{}</td>", html_text(cell));
                    }
                    out.push_str("</tr>\n");
                }
                out.push_str("</tbody>\n</table>\n");
            }
            // Our own SVG, inline: the page stays one file.
            Block::Chart { svg, .. } => {
                let _ = writeln!(out, "<figure>\n{}</figure>", svg);
            }
        }
    }
    out.push_str("</body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn document() -> Document {
        Document {
            lang: "en",
            title: "Postmortem: <script>".to_string(),
            blocks: vec![
                Block::Heading("Timeline".to_string()),
                Block::Paragraph("a & b".to_string()),
                Block::List(vec!["note: \"quoted\" 'x'".to_string()]),
                Block::Table {
                    header: vec!["Figure".to_string(), "Value".to_string()],
                    rows: vec![vec!["a|b".to_string(), "line\nbreak".to_string()]],
                },
            ],
        }
    }

    #[test]
    fn markdown_escapes_what_would_become_markup() {
        let text = to_markdown(&document(), ChartLink::DataUri);
        assert!(text.starts_with("# Postmortem: \\<script\\>\n"), "{text}");
        assert!(text.contains("\n## Timeline\n"), "{text}");
        assert!(
            text.contains("| Figure | Value |\n| --- | --- |\n"),
            "{text}"
        );
        assert!(text.contains("| a\\|b | line break |"), "{text}");
        assert!(text.contains("- note: \"quoted\" 'x'"), "{text}");
    }

    #[test]
    fn html_is_one_self_contained_escaped_page() {
        let html = to_html(&document());
        assert!(
            html.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"),
            "{html}"
        );
        assert!(html.contains("<style>"), "inline CSS");
        assert!(!html.contains("<link"), "no outside stylesheet");
        assert!(!html.contains("<script>"), "{html}");
        assert!(
            html.contains("<h1>Postmortem: &lt;script&gt;</h1>"),
            "{html}"
        );
        assert!(html.contains("<p>a &amp; b</p>"), "{html}");
        assert!(
            html.contains("<li>note: &quot;quoted&quot; &#39;x&#39;</li>"),
            "{html}"
        );
        assert!(html.contains("<td>a|b</td><td>line\nbreak</td>"), "{html}");
        assert!(html.trim_end().ends_with("</html>"));
    }

    #[test]
    fn base64_is_the_standard_one() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
        assert_eq!(base64("ё<svg>".as_bytes()), "0ZE8c3ZnPg==");
    }

    #[test]
    fn a_chart_is_a_file_beside_the_markdown_or_inside_it() {
        let document = Document {
            lang: "en",
            title: "t".to_string(),
            blocks: vec![Block::Chart {
                svg: "<svg/>".to_string(),
                alt: "The signals".to_string(),
            }],
        };
        let beside = to_markdown(&document, ChartLink::File("report.svg"));
        assert!(
            beside.contains("\n![The signals](report.svg)\n"),
            "{beside}"
        );
        let spaced = to_markdown(&document, ChartLink::File("my report.svg"));
        assert!(spaced.contains("](<my report.svg>)"), "{spaced}");
        let inside = to_markdown(&document, ChartLink::DataUri);
        assert!(
            inside.contains("](data:image/svg+xml;base64,PHN2Zy8+)"),
            "{inside}"
        );
        assert!(to_html(&document).contains("<figure>\n<svg/></figure>"));
    }
}
