//! Every relative link of the README, the guide and the quick start resolves: the file exists,
//! and an `#anchor` names a heading of it (GitHub's heading ids). External links are not
//! checked (no network in tests).
#![allow(clippy::expect_used)] // test helpers: a missing document is a failed test

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Markdown files whose links are checked.
fn documents() -> Vec<PathBuf> {
    let root = root();
    let mut files = vec![
        root.join("README.md"),
        root.join("docs/guide/README.md"),
        root.join("docs/quickstart/README.md"),
    ];
    let mut chapters: Vec<PathBuf> = std::fs::read_dir(root.join("docs/guide/chapters"))
        .expect("the chapters directory")
        .map(|e| e.expect("a directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    chapters.sort();
    files.extend(chapters);
    files
}

/// The lines outside fenced code blocks.
fn prose(text: &str) -> Vec<&str> {
    let mut fenced = false;
    text.lines()
        .filter(|line| {
            if line.trim_start().starts_with("```") {
                fenced = !fenced;
                return false;
            }
            !fenced
        })
        .collect()
}

/// GitHub's id for a heading: lowercase, code marks and punctuation dropped, spaces to `-`.
fn slug(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | ' '))
        .map(|c| if c == ' ' { '-' } else { c })
        .collect()
}

fn anchors(path: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(path).expect("a readable document");
    prose(&text)
        .into_iter()
        .filter_map(|line| {
            let rest = line.trim_start_matches('#');
            (rest.len() < line.len() && rest.starts_with(' ')).then(|| slug(rest))
        })
        .collect()
}

/// The targets of the inline links `[text](target)` on a line.
fn link_targets(line: &str) -> Vec<String> {
    line.match_indices("](")
        .filter_map(|(at, _)| {
            let rest = &line[at + 2..];
            rest.find(')').map(|end| rest[..end].to_owned())
        })
        .collect()
}

/// What is wrong with the links of `doc`, one line each.
fn broken_links(doc: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(doc).expect("a readable document");
    let dir = doc.parent().expect("a document's directory");
    let mut problems = Vec::new();
    for line in prose(&text) {
        for target in link_targets(line) {
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            let (file, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let path = if file.is_empty() {
                doc.to_path_buf()
            } else {
                dir.join(file)
            };
            if !path.exists() {
                problems.push(format!("{}: no file for {target}", doc.display()));
            } else if !anchor.is_empty() && (path.is_dir() || !anchors(&path).contains(anchor)) {
                problems.push(format!("{}: no heading for {target}", doc.display()));
            }
        }
    }
    problems
}

#[test]
fn every_relative_link_and_anchor_resolves() {
    let problems: Vec<String> = documents().iter().flat_map(|d| broken_links(d)).collect();
    assert!(
        problems.is_empty(),
        "broken links:\n{}",
        problems.join("\n")
    );
}

#[test]
fn slugs_follow_github() {
    assert_eq!(
        slug("Operating your skill's data"),
        "operating-your-skills-data"
    );
    assert_eq!(
        slug("Session carry: one read per session"),
        "session-carry-one-read-per-session"
    );
    assert_eq!(slug("4. The local Lambda loop"), "4-the-local-lambda-loop");
    assert_eq!(slug("`alexa-persistence copy`"), "alexa-persistence-copy");
}

#[test]
fn a_broken_link_is_found() {
    let dir = std::env::temp_dir().join(format!("guide-links-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    let doc = dir.join("doc.md");
    std::fs::write(
        &doc,
        "# Title\n\n[ok](#title) [bad](#nope) [gone](missing.md)\n\n```sh\n[not a link](x)\n```\n",
    )
    .expect("a temporary document");
    let problems = broken_links(&doc);
    std::fs::remove_dir_all(&dir).expect("removing the temporary directory");
    assert_eq!(problems.len(), 2, "{problems:?}");
}
