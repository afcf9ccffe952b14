//! The key table: parsing, remapping with errors that name their place, and clashes.

use super::*;
use crossterm::event::KeyCode;

fn place(action: &str, keys: &[&str]) -> KeyOverride {
    KeyOverride {
        action: action.to_string(),
        keys: keys.iter().map(|k| k.to_string()).collect(),
    }
}

/// The refusal's detail, for the entry it names.
fn refusal(overrides: &[KeyOverride]) -> (usize, String) {
    let error = KeyTable::with_overrides(overrides).expect_err("refused");
    (error.entry, error.detail)
}

#[test]
fn keys_parse_with_names_case_and_ctrl() {
    assert_eq!(KeyPress::parse("R"), Ok(KeyPress::char('R')));
    assert_eq!(
        KeyPress::parse("enter"),
        Ok(KeyPress::plain(KeyCode::Enter))
    );
    assert_eq!(KeyPress::parse("F5"), Ok(KeyPress::plain(KeyCode::F(5))));
    assert_eq!(
        KeyPress::parse("ctrl-R"),
        Ok(KeyPress {
            code: KeyCode::Char('r'),
            ctrl: true
        })
    );
    assert!(KeyPress::parse("hyper-q").is_err());
    assert!(KeyPress::parse("f13").is_err());
    assert_eq!(
        KeyPress::parse("ctrl-r").map(|k| k.shown()),
        Ok("Ctrl-R".into())
    );
}

#[test]
fn the_defaults_have_no_clash() {
    let table = KeyTable::default();
    for binding in table.bindings() {
        assert_eq!(table.clash_of(binding.name), None, "{}", binding.name);
    }
}

#[test]
fn a_remap_takes_the_place_of_the_default_keys() {
    let table =
        KeyTable::with_overrides(&[place("reset_failures", &["R", "ctrl-r"])]).expect("valid");
    let reset = table
        .bindings()
        .iter()
        .find(|b| b.name == "reset_failures")
        .expect("reset");
    assert_eq!(reset.help_keys(), "R Ctrl-R");
}

#[test]
fn unknown_actions_clashes_and_bad_keys_name_their_entry() {
    let (entry, unknown) = refusal(&[place("quit", &["Q"]), place("explode", &["x"])]);
    assert_eq!(entry, 1);
    assert!(
        unknown.starts_with("no such action; the actions are: help, quit,"),
        "{unknown}"
    );
    assert!(unknown.contains("reset_failures"), "{unknown}");
    assert_eq!(
        refusal(&[place("reset_failures", &["l"])]),
        (
            0,
            "l is already bound to inject_latency (a default)".to_string()
        )
    );
    let (_, bad) = refusal(&[place("quit", &["hyper-q"])]);
    assert!(bad.contains("\"hyper-q\" is not a key"), "{bad}");
    let (_, ctrl_c) = refusal(&[place("zoom", &["ctrl-c"])]);
    assert!(ctrl_c.contains("Ctrl-C always quits"), "{ctrl_c}");
}

#[test]
fn an_empty_list_unbinds_and_hides_the_binding() {
    let table = KeyTable::with_overrides(&[place("containers", &[])]).expect("valid");
    let containers = table
        .bindings()
        .iter()
        .find(|b| b.name == "containers")
        .expect("still in the table");
    assert!(containers.keys.is_empty());
}

#[test]
fn keys_in_contexts_that_never_meet_may_be_shared() {
    // `c` picks a drill only when none runs; a running drill may use it for hints.
    assert!(KeyTable::with_overrides(&[place("hint", &["c"])]).is_ok());
    // A swap is fine once both sides have moved.
    assert!(
        KeyTable::with_overrides(&[place("zoom", &["t"]), place("next_theme", &["z"])]).is_ok()
    );
}

#[test]
fn the_readme_lists_every_action() {
    let readme = include_str!("../../README.md");
    for binding in KeyTable::default().bindings() {
        assert!(
            readme.contains(&format!("`{}`", binding.name)),
            "README.md does not list the action {}",
            binding.name
        );
    }
}
