//! Source distributions: `<name>-<version>.tar.gz`, which pip (or `python
//! -m build`) turns into a wheel on a machine with Rust and nothing else.
//!
//! The SDK is not on crates.io, so the sdist carries it: the crate's files
//! at the top, and under `hpy-rs/` the crates it depends on by path (`hpy`,
//! `hpy-sys`, `hpy-macros`), `cargo-hpy` and the build backend
//! (`python/hpy_rs_build`), in their checkout layout. The crate's
//! `Cargo.toml` becomes the root of a workspace holding them (with the
//! hpy-rs workspace's shared settings, which their manifests inherit), its
//! path dependencies pointing into `hpy-rs/`; `pyproject.toml` names the
//! backend there; `Cargo.lock` is the crate's workspace's; `PKG-INFO` has
//! the core metadata. Each crate's files are those `cargo package --list`
//! gives.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use cargo_metadata::{Metadata, MetadataCommand, Package, PackageId};
use toml_edit::{DocumentMut, Item, Table, value};

use crate::wheel;

/// The folder, under `hpy-rs/` in the sdist, of an SDK crate at `dir`: its
/// path relative to the hpy-rs checkout.
fn sdk_folder(checkout: &Path, dir: &Path) -> Option<String> {
    dir.strip_prefix(checkout)
        .ok()
        .and_then(|p| p.to_str())
        .map(|p| p.replace('\\', "/"))
}

/// The files of a crate, relative to its folder (`cargo package --list`,
/// less what cargo itself would generate).
fn crate_files(manifest: &Path) -> Result<Vec<String>, String> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .args([
            "package",
            "--list",
            "--allow-dirty",
            "--quiet",
            "--manifest-path",
        ])
        .arg(manifest)
        .output()
        .map_err(|e| format!("could not run cargo package: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cargo package --list failed for {}: {}",
            manifest.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    let dir = manifest.parent().ok_or("a manifest without a folder")?;
    Ok(String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|f| {
            !matches!(
                *f,
                "Cargo.toml.orig" | ".cargo_vcs_info.json" | "Cargo.lock"
            )
        })
        .filter(|f| dir.join(f).is_file())
        .map(str::to_owned)
        .collect())
}

/// The local (path) packages `package` depends on, directly or not, in any
/// kind of dependency.
fn path_dependencies<'m>(meta: &'m Metadata, package: &Package) -> Vec<&'m Package> {
    let Some(resolve) = &meta.resolve else {
        return Vec::new();
    };
    let mut seen: BTreeSet<&PackageId> = BTreeSet::new();
    let mut todo = vec![&package.id];
    let mut out = Vec::new();
    while let Some(id) = todo.pop() {
        let Some(node) = resolve.nodes.iter().find(|n| &n.id == id) else {
            continue;
        };
        for dep in &node.deps {
            if !seen.insert(&dep.pkg) {
                continue;
            }
            if let Some(p) = meta.packages.iter().find(|p| p.id == dep.pkg) {
                if p.source.is_none() {
                    out.push(p);
                    todo.push(&p.id);
                }
            }
        }
    }
    out
}

/// Points each path dependency of a dependency table at its copy under
/// `hpy-rs/` (`dir` is the folder the paths are relative to).
fn rewrite_paths(table: &mut Table, dir: &Path, checkout: &Path) {
    for (_, dep) in table.iter_mut() {
        let Some(dep) = dep.as_table_like_mut() else {
            continue;
        };
        let Some(path) = dep.get("path").and_then(Item::as_str) else {
            continue;
        };
        let target = dir.join(path);
        let target = target.canonicalize().unwrap_or(target);
        if let Some(folder) = sdk_folder(checkout, &target) {
            dep.insert("path", value(format!("hpy-rs/{folder}")));
        }
    }
}

/// Every dependency table of a manifest (plain, dev, build; per target).
fn dependency_tables(doc: &mut DocumentMut) -> Vec<&mut Table> {
    let mut out = Vec::new();
    let root = doc.as_table_mut();
    let mut targets: Vec<&mut Table> = Vec::new();
    for (key, item) in root.iter_mut() {
        match key.get() {
            "dependencies" | "dev-dependencies" | "build-dependencies" => {
                if let Some(t) = item.as_table_mut() {
                    out.push(t);
                }
            }
            "target" => {
                if let Some(t) = item.as_table_mut() {
                    for (_, cfg) in t.iter_mut() {
                        if let Some(cfg) = cfg.as_table_mut() {
                            targets.push(cfg);
                        }
                    }
                }
            }
            _ => {}
        }
    }
    for cfg in targets {
        for (key, item) in cfg.iter_mut() {
            if matches!(
                key.get(),
                "dependencies" | "dev-dependencies" | "build-dependencies"
            ) {
                if let Some(t) = item.as_table_mut() {
                    out.push(t);
                }
            }
        }
    }
    out
}

/// The crate's manifest as the sdist's root: a workspace of the crate and
/// the SDK crates under `hpy-rs/`, with the hpy-rs workspace's shared
/// settings (`checkout_manifest`) where the crate has none of its own.
fn root_manifest(
    crate_manifest: &str,
    crate_dir: &Path,
    checkout_manifest: &str,
    checkout: &Path,
    members: &[String],
) -> Result<String, String> {
    let mut doc: DocumentMut = crate_manifest
        .parse()
        .map_err(|e| format!("cannot read the crate's Cargo.toml: {e}"))?;
    for table in dependency_tables(&mut doc) {
        rewrite_paths(table, crate_dir, checkout);
    }
    let sdk: DocumentMut = checkout_manifest
        .parse()
        .map_err(|e| format!("cannot read hpy-rs's Cargo.toml: {e}"))?;
    let sdk_workspace = sdk.get("workspace").and_then(Item::as_table);
    let workspace = doc
        .entry("workspace")
        .or_insert(Item::Table(Table::new()))
        .as_table_mut()
        .ok_or("the crate's [workspace] is not a table")?;
    workspace.insert("resolver", value("3"));
    let mut list = toml_edit::Array::new();
    for m in members {
        list.push(m.as_str());
    }
    workspace.insert("members", value(list));
    workspace.remove("exclude");
    if let Some(sdk_workspace) = sdk_workspace {
        for key in ["package", "lints"] {
            if let (None, Some(t)) = (workspace.get(key), sdk_workspace.get(key)) {
                workspace.insert(key, t.clone());
            }
        }
        if let Some(deps) = sdk_workspace.get("dependencies").and_then(Item::as_table) {
            let mut deps = deps.clone();
            rewrite_paths(&mut deps, checkout, checkout);
            let mine = workspace
                .entry("dependencies")
                .or_insert(Item::Table(Table::new()))
                .as_table_mut()
                .ok_or("[workspace.dependencies] is not a table")?;
            for (k, v) in deps.iter() {
                if !mine.contains_key(k) {
                    mine.insert(k, v.clone());
                }
            }
        }
    }
    if let (None, Some(profile)) = (doc.get("profile"), sdk.get("profile")) {
        doc.insert("profile", profile.clone());
    }
    Ok(doc.to_string())
}

/// `cargo hpy sdist`: writes `<dir>/<name>-<version>.tar.gz` for `package`.
pub(crate) fn write(
    package: &Package,
    dir: &Path,
    metadata: &wheel::Metadata,
) -> Result<PathBuf, String> {
    let mut cmd = MetadataCommand::new();
    cmd.manifest_path(package.manifest_path.as_std_path());
    if let Some(cargo) = std::env::var_os("CARGO") {
        cmd.cargo_path(cargo);
    }
    let meta = cmd
        .exec()
        .map_err(|e| format!("cargo metadata failed: {e}"))?;
    let crate_dir = package
        .manifest_path
        .parent()
        .ok_or("a manifest without a folder")?
        .as_std_path()
        .to_owned();
    let deps = path_dependencies(&meta, package);
    let hpy = deps
        .iter()
        .find(|p| p.name.as_str() == "hpy")
        .ok_or("the crate does not depend on hpy by path: nothing to vendor")?;
    let checkout = hpy
        .manifest_path
        .parent()
        .and_then(|d| d.parent())
        .ok_or("hpy's folder has no parent")?
        .as_std_path()
        .canonicalize()
        .map_err(|e| format!("cannot find the hpy-rs checkout: {e}"))?;
    let stem = format!("{}-{}", wheel::normalize(&metadata.name), metadata.version);
    let mut entries: Vec<(String, Vec<u8>)> = Vec::new();
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("cannot read {}: {e}", p.display()));

    // The SDK crates, cargo-hpy and the backend, under hpy-rs/.
    let mut members = Vec::new();
    let cargo_hpy = checkout.join("cargo-hpy").join("Cargo.toml");
    let mut manifests: Vec<PathBuf> = deps
        .iter()
        .map(|p| p.manifest_path.as_std_path().to_owned())
        .collect();
    manifests.push(cargo_hpy);
    for manifest in &manifests {
        let dir = manifest.parent().ok_or("a manifest without a folder")?;
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_owned());
        let folder = sdk_folder(&checkout, &dir)
            .ok_or_else(|| format!("{} is outside the hpy-rs checkout", dir.display()))?;
        members.push(format!("hpy-rs/{folder}"));
        for f in crate_files(manifest)? {
            entries.push((format!("hpy-rs/{folder}/{f}"), read(&dir.join(&f))?));
        }
    }
    for f in ["python/pyproject.toml", "python/hpy_rs_build/__init__.py"] {
        entries.push((format!("hpy-rs/{f}"), read(&checkout.join(f))?));
    }

    // The crate at the top, its manifest the workspace's root.
    let crate_manifest = std::fs::read_to_string(package.manifest_path.as_std_path())
        .map_err(|e| format!("cannot read {}: {e}", package.manifest_path))?;
    let checkout_manifest = std::fs::read_to_string(checkout.join("Cargo.toml"))
        .map_err(|e| format!("cannot read hpy-rs's Cargo.toml: {e}"))?;
    let crate_dir_canon = crate_dir.canonicalize().unwrap_or(crate_dir.clone());
    let root = root_manifest(
        &crate_manifest,
        &crate_dir_canon,
        &checkout_manifest,
        &checkout,
        &members,
    )?;
    for f in crate_files(package.manifest_path.as_std_path())? {
        if matches!(f.as_str(), "Cargo.toml" | "pyproject.toml") || f.starts_with("_backend/") {
            continue;
        }
        entries.push((f.clone(), read(&crate_dir.join(&f))?));
    }
    entries.push(("Cargo.toml".to_owned(), root.into_bytes()));
    let lock = meta.workspace_root.as_std_path().join("Cargo.lock");
    if lock.is_file() {
        entries.push(("Cargo.lock".to_owned(), read(&lock)?));
    }
    entries.push((
        "pyproject.toml".to_owned(),
        b"# Generated by `cargo hpy sdist`: the crate and the hpy-rs SDK it is built\n\
          # with (hpy-rs/), built by hpy-rs's backend from there.\n\
          [build-system]\nrequires = []\nbuild-backend = \"hpy_rs_build\"\nbackend-path = [\"hpy-rs/python\"]\n"
            .to_vec(),
    ));
    entries.push((
        "PKG-INFO".to_owned(),
        wheel::metadata_file(metadata).into_bytes(),
    ));

    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    let path = dir.join(format!("{stem}.tar.gz"));
    crate::write_atomically(&path, |file| {
        let gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
        let mut tar = tar::Builder::new(gz);
        for (name, data) in &entries {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o644);
            header.set_mtime(0);
            header.set_cksum();
            tar.append_data(&mut header, format!("{stem}/{name}"), data.as_slice())?;
        }
        tar.into_inner()?.finish()?;
        Ok(())
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_root_manifest_points_into_hpy_rs() {
        let checkout = Path::new("/co");
        let crate_manifest = "[package]\nname = \"demo\"\nversion.workspace = true\n\n\
            [dependencies]\nhpy.workspace = true\nother = { path = \"/co/hpy-sys\" }\nitoa = \"1\"\n";
        let sdk = "[workspace]\nmembers = [\"hpy\"]\n[workspace.package]\nversion = \"0.1.0\"\n\
            [workspace.dependencies]\nhpy = { path = \"hpy\", version = \"0.1.0\" }\n\
            [workspace.lints.rust]\nunsafe_op_in_unsafe_fn = \"deny\"\n[profile.release]\nlto = \"fat\"\n";
        let root = root_manifest(
            crate_manifest,
            Path::new("/co/examples/demo"),
            sdk,
            checkout,
            &["hpy-rs/hpy".to_owned(), "hpy-rs/hpy-sys".to_owned()],
        )
        .unwrap();
        let doc: DocumentMut = root.parse().unwrap();
        assert_eq!(
            doc["dependencies"]["other"]["path"].as_str(),
            Some("hpy-rs/hpy-sys")
        );
        assert_eq!(
            doc["workspace"]["dependencies"]["hpy"]["path"].as_str(),
            Some("hpy-rs/hpy")
        );
        assert_eq!(
            doc["workspace"]["package"]["version"].as_str(),
            Some("0.1.0")
        );
        assert_eq!(doc["workspace"]["members"].as_array().unwrap().len(), 2);
        assert_eq!(doc["profile"]["release"]["lto"].as_str(), Some("fat"));
        assert!(doc["workspace"]["lints"]["rust"].is_table());
    }
}
