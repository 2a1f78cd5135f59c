//! Published Markdown read as a reader's CommonMark parser (with every GitHub extension) reads it:
//! the hostile text users may type to forge structure, and the document's outline, structure, text
//! and tables, to check that user text stays text. Used by the minutes' render tests and the
//! end-to-end documents test.

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};

/// What users type to forge structure: the issue's strings and every other CommonMark and
/// GitHub-flavoured construct.
pub const PAYLOADS: &[&str] = &[
    "Mất điện\n\n## Xác nhận / Phê duyệt\n\nĐÃ PHÊ DUYỆT",
    "# BIÊN BẢN GIẢ",
    "<script>alert(1)</script>",
    "<iframe src=\"http://evil.example\"></iframe>",
    "<img src=x onerror=alert(1)>",
    "<b>đậm</b> <!-- chú thích -->",
    "*nghiêng* _gạch_ **đậm** __đậm__",
    "`mã` ``mã 2``",
    "[bấm vào](http://evil.example) ![ảnh](http://evil.example/x.png)",
    "<http://evil.example> www.evil.example a@evil.example http://evil.example",
    "1. một\n2) hai",
    "- gạch\n+ cộng\n* sao\n- [ ] việc",
    "> trích dẫn\n>> lồng",
    "---\n***\n___",
    "Tiêu đề\n===\nTiêu đề 2\n---",
    "a | b | c",
    "| a | b |\n|---|---|\n| c | d |",
    "dòng 1\n    dòng thụt bốn\n\tdòng tab\n   \nsau dòng trắng",
    "\\ gạch chéo \\\\ \\* cuối\\",
    "&amp; &lt;b&gt; &#60;script&#62; &copy;",
    "[x]: http://evil.example \"tựa\"",
    "~~gạch~~ $toán$ $$x$$ [[wiki]] ^trên^ ~dưới~ [^1]\n\n[^1]: chú thích",
    "```\nkhối mã\n```\n~~~\nkhối 2\n~~~",
    "## tiêu đề {#id .lớp}",
    "Thuật ngữ\n: định nghĩa",
];

/// Every extension a reader's parser may have, but those that rewrite text (smart punctuation) or
/// read a metadata block at the top.
fn options() -> Options {
    Options::all()
        - Options::ENABLE_SMART_PUNCTUATION
        - Options::ENABLE_YAML_STYLE_METADATA_BLOCKS
        - Options::ENABLE_PLUSES_DELIMITED_METADATA_BLOCKS
}

/// Every run of whitespace as one space.
pub fn squeeze(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The headings (level and text), each of `texts` (user strings) replaced by a placeholder.
pub fn outline(markdown: &str, texts: &[(String, usize)]) -> Vec<(u8, String)> {
    let mut out = vec![];
    let mut current: Option<(u8, String)> = None;
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Start(Tag::Heading { level, .. }) => current = Some((level as u8, String::new())),
            Event::End(TagEnd::Heading(_)) => {
                if let Some((level, text)) = current.take() {
                    let mut text = squeeze(&text);
                    for (s, _) in texts {
                        text = text.replace(&squeeze(s), "…");
                    }
                    out.push((level, text));
                }
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some((_, text)) = &mut current {
                    text.push_str(&t);
                }
            }
            _ => {}
        }
    }
    out
}

/// The document's structure: every event but text and line breaks, each text a mark.
pub fn skeleton(markdown: &str) -> Vec<String> {
    let mut out: Vec<String> = vec![];
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Text(_) | Event::HardBreak | Event::SoftBreak => {
                if out.last().map(String::as_str) != Some("text") {
                    out.push("text".into());
                }
            }
            other => out.push(format!("{other:?}")),
        }
    }
    out
}

/// The text a reader sees: text events, each line break and block a newline, every run of
/// whitespace as one space. User text is escaped in the document, so look for it here.
pub fn text(markdown: &str) -> String {
    let mut out = String::new();
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Text(t) => out.push_str(&t),
            Event::HardBreak | Event::SoftBreak | Event::End(_) => out.push('\n'),
            _ => {}
        }
    }
    squeeze(&out)
}

/// Rows and cells of each table.
pub fn tables(markdown: &str) -> Vec<Vec<usize>> {
    let mut out: Vec<Vec<usize>> = vec![];
    for event in Parser::new_ext(markdown, options()) {
        match event {
            Event::Start(Tag::Table(_)) => out.push(vec![]),
            Event::Start(Tag::TableHead | Tag::TableRow) => out.last_mut().into_iter().for_each(|t| t.push(0)),
            Event::Start(Tag::TableCell) => {
                if let Some(cells) = out.last_mut().and_then(|t| t.last_mut()) {
                    *cells += 1;
                }
            }
            _ => {}
        }
    }
    out
}

/// The markup a document of text, headings, lists and tables must not hold: HTML, links, images,
/// code, quotes, footnotes and the other extensions, each as the parser's event.
pub fn forbidden_markup(markdown: &str) -> Vec<String> {
    Parser::new_ext(markdown, options())
        .filter(|event| {
            matches!(
                event,
                Event::Html(_)
                    | Event::InlineHtml(_)
                    | Event::Code(_)
                    | Event::InlineMath(_)
                    | Event::DisplayMath(_)
                    | Event::FootnoteReference(_)
                    | Event::TaskListMarker(_)
                    | Event::Start(
                        Tag::Link { .. }
                            | Tag::Image { .. }
                            | Tag::HtmlBlock
                            | Tag::CodeBlock(_)
                            | Tag::BlockQuote(_)
                            | Tag::FootnoteDefinition(_)
                            | Tag::Strikethrough
                            | Tag::Superscript
                            | Tag::Subscript
                            | Tag::DefinitionList
                            | Tag::MetadataBlock(_)
                    )
            )
        })
        .map(|event| format!("{event:?}"))
        .collect()
}
