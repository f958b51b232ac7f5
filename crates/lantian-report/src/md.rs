//! Markdown: the text with tables in pipe syntax; images are files beside
//! it, referenced relatively (`<stem>_files/<name>.png`).

use crate::doc::{Block, Cell, Doc};

/// The Markdown text and the image files it references (relative path, PNG).
pub fn render(doc: &Doc, files_dir: &str) -> (String, Vec<(String, Vec<u8>)>) {
    let mut s = format!("# {}\n\n", doc.title);
    for line in &doc.subtitle {
        s.push_str(&format!("{line}  \n"));
    }
    if !doc.subtitle.is_empty() {
        s.push('\n');
    }
    let mut files = Vec::new();
    for b in &doc.blocks {
        match b {
            Block::Heading(level, t) => s.push_str(&format!("{} {t}\n\n", "#".repeat(usize::from(*level) + 1))),
            Block::Para(t) => s.push_str(&format!("{t}\n\n")),
            Block::Table(t) => {
                if !t.caption.is_empty() {
                    s.push_str(&format!("**{}**\n\n", t.caption));
                }
                let width = t.rows.iter().map(Vec::len).chain([t.header.len()]).max().unwrap_or(0);
                let header: Vec<String> =
                    if t.header.is_empty() { vec![String::new(); width] } else { t.header.clone() };
                s.push_str(&format!("| {} |\n", header.iter().map(|h| escape(h)).collect::<Vec<_>>().join(" | ")));
                let align: Vec<&str> = (0..width)
                    .map(|c| {
                        let numeric = t.rows.iter().any(|r| matches!(r.get(c), Some(Cell::Int(_) | Cell::Num(..))));
                        if numeric { "---:" } else { "---" }
                    })
                    .collect();
                s.push_str(&format!("|{}|\n", align.join("|")));
                for r in &t.rows {
                    let cells: Vec<String> = r.iter().map(|c| escape(&c.display())).collect();
                    s.push_str(&format!("| {} |\n", cells.join(" | ")));
                }
                s.push('\n');
                for n in &t.notes {
                    s.push_str(&format!("> {n}\n"));
                }
                if !t.notes.is_empty() {
                    s.push('\n');
                }
            }
            Block::Image(i) => {
                let rel = format!("{files_dir}/{}.png", i.name);
                s.push_str(&format!("![{}]({rel})\n\n*{}*\n\n", i.caption, i.caption));
                files.push((rel, i.png.clone()));
            }
        }
    }
    (s, files)
}

fn escape(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', "<br>")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::doc::Table;

    #[test]
    fn tables_and_images() {
        let doc = Doc {
            title: "通报".into(),
            subtitle: vec!["2019年7月".into()],
            blocks: vec![
                Block::Para("正文".into()),
                Block::Table(Table {
                    caption: "表1".into(),
                    header: vec!["城市".into(), "PM2.5".into()],
                    rows: vec![vec![Cell::text("成|都"), Cell::Num(35.5, 0)]],
                    ..Default::default()
                }),
            ],
            landscape: false,
        };
        let (s, files) = render(&doc, "x_files");
        assert!(s.contains("| 成\\|都 | 36 |"), "{s}");
        assert!(s.contains("|---|---:|"));
        assert!(files.is_empty());
    }
}
