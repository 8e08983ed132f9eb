//! Every built component imports nothing outside its world in `wit/`
//! (docs/CONTRACT.md, "Runtime"): an accidental new import (sockets, key-value,
//! a newer Postgres) fails here before it fails on SpinKube.

use std::path::{Path, PathBuf};

use wit_parser::Resolve;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn component(name: &str) -> Vec<u8> {
    let path = repo().join(format!("target/wasm32-wasip2/release/{name}.wasm"));
    std::fs::read(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; build first: cargo build --target wasm32-wasip2 --release -p {name}",
            path.display()
        )
    })
}

fn check(component_name: &str, world: &str) -> anyhow::Result<()> {
    let mut resolve = Resolve::default();
    let (pkg, _) = resolve.push_dir(repo().join("wit"))?;
    let world = resolve.select_world(&[pkg], Some(world))?;
    wit_component::targets(&resolve, world, &component(component_name), true)
}

#[test]
fn each_component_targets_its_own_world() {
    for (name, world) in [
        ("subscriptions", "subscriptions"),
        ("notification", "notification"),
        ("recurrence", "recurrence"),
        ("scheduler", "scheduler"),
        ("metrics", "metrics"),
    ] {
        if let Err(e) = check(name, world) {
            panic!("{name} does not fit world {world}: {e:#}");
        }
    }
}

#[test]
fn a_component_importing_more_than_its_world_is_refused() {
    // `notification` imports Postgres and outbound HTTP; the `subscriptions`
    // world allows neither, so this must fail and name an import.
    let err = check("notification", "subscriptions").expect_err("must not fit");
    let text = format!("{err:#}");
    assert!(
        text.contains("spin:postgres/postgres") || text.contains("wasi:http/outgoing-handler"),
        "error should name the extra import: {text}"
    );
}

#[test]
fn no_world_of_ours_imports_sockets_or_other_spin_interfaces() {
    let mut resolve = Resolve::default();
    let (pkg, _) = resolve.push_dir(repo().join("wit")).expect("wit/ parses");
    for world in [
        "subscriptions",
        "notification",
        "recurrence",
        "scheduler",
        "metrics",
    ] {
        let id = resolve
            .select_world(&[pkg], Some(world))
            .expect("world exists");
        for key in resolve.worlds[id].imports.keys() {
            let name = resolve.name_world_key(key);
            let allowed = name.starts_with("wasi:cli/")
                || name.starts_with("wasi:io/")
                || name.starts_with("wasi:clocks/")
                || name.starts_with("wasi:random/")
                || name.starts_with("wasi:filesystem/")
                // Exporting the HTTP handler needs the types in every world.
                || name == "wasi:http/types@0.2.6"
                || (!["subscriptions", "metrics"].contains(&world)
                    && name == "wasi:http/outgoing-handler@0.2.6")
                || (world != "subscriptions" && name == "spin:postgres/postgres@4.0.0")
                || name == "fermyon:spin/variables@2.0.0";
            assert!(
                allowed,
                "world {world} imports {name}, which docs/CONTRACT.md (Runtime) forbids"
            );
        }
    }
}

#[test]
fn the_metrics_world_refuses_outbound_http() {
    // `scheduler` calls the Dapr sidecar; `metrics` may only read Postgres.
    let err = check("scheduler", "metrics").expect_err("must not fit");
    let text = format!("{err:#}");
    assert!(
        text.contains("wasi:http/outgoing-handler"),
        "error should name the outbound HTTP import: {text}"
    );
}
