//! The layering rules, checked on the sources: crates depend only downwards
//! (domain ← store ← core ← http ← functions, and domain ← wire ← http, cli), the domain
//! and wire crates link no AWS SDK, HTTP framework or async runtime, and no module of any crate imports a module that (directly or
//! through others) imports it back.
//!
//! Cargo already refuses a crate that uses another it does not depend on; this test refuses
//! the dependency itself, and the module cycles the compiler allows.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The `[dependencies]` (not dev-dependencies) a manifest names.
fn dependencies(manifest: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(manifest).unwrap();
    let mut in_deps = false;
    let mut deps = BTreeSet::new();
    for line in text.lines() {
        let line = line.trim();
        if line.starts_with('[') {
            in_deps = line == "[dependencies]";
            continue;
        }
        if in_deps
            && let Some(name) = line.split(['.', ' ', '=']).next()
            && !name.is_empty()
            && !name.starts_with('#')
        {
            deps.insert(name.to_owned());
        }
    }
    deps
}

#[test]
fn crates_depend_only_downwards() {
    let root = workspace();
    // Each layer's own crates may depend only on the crates listed for it.
    let allowed: &[(&str, &[&str])] = &[
        ("crates/domain", &[]),
        // The wire shapes sit on the domain alone, so that clients can share them.
        ("crates/wire", &["filegate-domain"]),
        ("crates/store", &["filegate-domain"]),
        ("crates/core", &["filegate-domain", "filegate-store"]),
        (
            "crates/proxy-client",
            &["filegate-domain", "filegate-store"],
        ),
        (
            "crates/http",
            &[
                "filegate-domain",
                "filegate-store",
                "filegate-core",
                "filegate-wire",
            ],
        ),
        // The CLI is a client: it speaks HTTP to the API and shares only the domain's rules
        // and the wire's shapes.
        ("cli", &["filegate-domain", "filegate-wire"]),
    ];
    for (dir, may) in allowed {
        let deps = dependencies(&root.join(dir).join("Cargo.toml"));
        for dep in deps.iter().filter(|d| d.starts_with("filegate-")) {
            assert!(
                may.contains(&dep.as_str()),
                "{dir} must not depend on {dep}"
            );
        }
    }
    let lower = ["crates/domain", "crates/wire"]
        .iter()
        .flat_map(|dir| dependencies(&root.join(dir).join("Cargo.toml")));
    for dep in lower {
        let forbidden = ["aws-", "axum", "tokio", "hyper", "lambda", "tower", "http"];
        assert!(
            !forbidden.iter().any(|f| dep.starts_with(f)),
            "the domain and wire crates must not depend on {dep}"
        );
    }
    // Functions are entry points: nothing below them may depend on one.
    for dir in [
        "crates/domain",
        "crates/wire",
        "crates/store",
        "crates/core",
        "crates/http",
    ] {
        let deps = dependencies(&root.join(dir).join("Cargo.toml"));
        assert!(
            !deps.iter().any(
                |d| ["filegate-presign", "filegate-finalize", "filegate-metadata"]
                    .contains(&d.as_str())
                    || d == "filegate-proxy"
                    || d == "filegate-local"
            ),
            "{dir} depends on an entry point"
        );
    }
}

/// One crate's modules: `crate`, `crate::a`, `crate::a::b`, each with its source.
fn modules(src: &Path, root_file: &str) -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if path.file_name().is_some_and(|n| n != "bin") {
                    stack.push(path);
                }
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let relative = path.strip_prefix(src).unwrap().with_extension("");
            let mut parts: Vec<String> = relative
                .iter()
                .map(|p| p.to_string_lossy().into_owned())
                .collect();
            if parts.last().is_some_and(|p| p == "mod") {
                parts.pop();
            }
            if parts == [root_file] {
                parts.clear();
            } else if parts.len() == 1 && (parts[0] == "lib" || parts[0] == "main") {
                continue; // the other root of a crate with both: its own crate
            }
            let name = std::iter::once("crate".to_owned())
                .chain(parts)
                .collect::<Vec<_>>()
                .join("::");
            let text = std::fs::read_to_string(&path).unwrap();
            // Test modules sit at the end of their file; they may import what they test.
            let text = match text.find("#[cfg(test)]") {
                Some(i) => text[..i].to_owned(),
                None => text,
            };
            out.insert(name, text);
        }
    }
    out
}

/// `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand(tree: &str) -> Vec<String> {
    let tree: String = tree.chars().filter(|c| !c.is_whitespace()).collect();
    let Some(open) = tree.find('{') else {
        return vec![tree];
    };
    let prefix = &tree[..open];
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut items = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push(&inner[start..]);
    items
        .into_iter()
        .filter(|i| !i.is_empty())
        .flat_map(|item| {
            expand(item)
                .into_iter()
                .map(move |e| format!("{prefix}{e}"))
        })
        .collect()
}

/// The modules `module` imports: every `crate::`/`super::`/`self::` path it names, and every
/// `use` of one of its own child modules, resolved to the longest known module prefix.
fn imports(module: &str, text: &str, known: &BTreeMap<String, String>) -> BTreeSet<String> {
    let parent = module.rsplit_once("::").map(|(p, _)| p.to_owned());
    // Comments name paths without importing them.
    let text: String = text
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .map(|l| format!("{l}\n"))
        .collect();
    let mut paths = Vec::new();
    let mut lines = text.lines();
    while let Some(line) = lines.next() {
        let line = line.trim_start();
        let body = ["pub use ", "pub(crate) use ", "pub(super) use ", "use "]
            .iter()
            .find_map(|prefix| line.strip_prefix(prefix));
        if let Some(body) = body {
            let mut statement = body.to_owned();
            while !statement.contains(';') {
                match lines.next() {
                    Some(next) => statement.push_str(next),
                    None => break,
                }
            }
            paths.extend(expand(statement.split(';').next().unwrap_or_default()));
        }
    }
    let bytes = text.as_bytes();
    for anchor in ["crate::", "super::", "self::"] {
        let mut from = 0;
        while let Some(i) = text[from..].find(anchor).map(|i| i + from) {
            let end = text[i..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(text.len(), |e| e + i);
            let before = i.checked_sub(1).map(|b| bytes[b] as char);
            if before.is_none_or(|b| !(b.is_alphanumeric() || b == '_')) {
                paths.push(text[i..end].to_owned());
            }
            from = end.max(i + 1);
        }
    }
    let mut found = BTreeSet::new();
    for path in paths {
        let path = path.trim_end_matches("::").to_owned();
        let absolute = if let Some(rest) = path.strip_prefix("crate::") {
            format!("crate::{rest}")
        } else if let Some(rest) = path.strip_prefix("super::") {
            match &parent {
                Some(p) => format!("{p}::{rest}"),
                None => continue,
            }
        } else if let Some(rest) = path.strip_prefix("self::") {
            format!("{module}::{rest}")
        } else {
            // A `use` of a child module (`use schema::INDEXES` in `mod.rs`), else an extern.
            format!("{module}::{path}")
        };
        let mut segments: Vec<&str> = absolute.split("::").collect();
        while !segments.is_empty() {
            let candidate = segments.join("::");
            if known.contains_key(&candidate) {
                if candidate != module {
                    found.insert(candidate);
                }
                break;
            }
            segments.pop();
        }
    }
    found
}

fn cycle(graph: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        graph: &BTreeMap<String, BTreeSet<String>>,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = path.iter().position(|n| n == node) {
            let mut found = path[at..].to_vec();
            found.push(node.to_owned());
            return Some(found);
        }
        if done.contains(node) {
            return None;
        }
        path.push(node.to_owned());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(found) = visit(next, graph, path, done) {
                return Some(found);
            }
        }
        path.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    graph
        .keys()
        .find_map(|node| visit(node, graph, &mut Vec::new(), &mut done))
}

/// Every crate root of the workspace: (source folder, root file stem).
fn crate_roots() -> Vec<(PathBuf, &'static str)> {
    let root = workspace();
    let mut roots = Vec::new();
    for dir in ["crates", "functions"] {
        for entry in std::fs::read_dir(root.join(dir)).unwrap() {
            let src = entry.unwrap().path().join("src");
            if src.join("lib.rs").exists() {
                roots.push((src.clone(), "lib"));
            }
            if src.join("main.rs").exists() {
                roots.push((src, "main"));
            }
        }
    }
    roots.push((root.join("local/src"), "lib"));
    roots.push((root.join("local/src"), "main"));
    roots.push((root.join("tests/src"), "lib"));
    roots
}

#[test]
fn no_module_imports_a_module_that_imports_it_back() {
    let mut checked = 0;
    for (src, root_file) in crate_roots() {
        let known = modules(&src, root_file);
        let graph: BTreeMap<String, BTreeSet<String>> = known
            .iter()
            .map(|(name, text)| (name.clone(), imports(name, text, &known)))
            .collect();
        if let Some(found) = cycle(&graph) {
            panic!(
                "{}: modules import each other in a circle: {}",
                src.display(),
                found.join(" -> ")
            );
        }
        checked += known.len();
    }
    assert!(checked > 50, "only {checked} modules found");
}

#[test]
fn the_checker_sees_a_cycle_through_a_parent_and_its_child() {
    // The shape the store had before its split: `mod.rs` uses its child `schema`, which uses
    // `super::MetadataStore`.
    let known = BTreeMap::from([
        ("crate".to_owned(), String::new()),
        (
            "crate::metadata".to_owned(),
            "mod schema;\nuse schema::{FOLDER_SK, folder_pk};\npub struct MetadataStore;"
                .to_owned(),
        ),
        (
            "crate::metadata::schema".to_owned(),
            "use super::{Item, MetadataStore};".to_owned(),
        ),
    ]);
    let graph: BTreeMap<_, _> = known
        .iter()
        .map(|(name, text)| (name.clone(), imports(name, text, &known)))
        .collect();
    assert_eq!(
        cycle(&graph),
        Some(vec![
            "crate::metadata".to_owned(),
            "crate::metadata::schema".to_owned(),
            "crate::metadata".to_owned()
        ])
    );
    assert_eq!(
        expand("crate::a::{b, c::{d, e}}"),
        ["crate::a::b", "crate::a::c::d", "crate::a::c::e"]
    );
}
