//! `wirecap completions` and `wirecap man`: generated from the clap definitions, so each
//! names every command `wirecap --help` lists; the bash script parses and completes.

use std::process::Command;

fn wirecap(args: &[&str]) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_wirecap"))
        .args(args)
        .output()
        .expect("wirecap runs");
    assert!(out.status.success(), "wirecap {args:?}: {out:?}");
    String::from_utf8(out.stdout).expect("UTF-8 output")
}

/// The commands `wirecap --help` lists (`help` aside), read from its "Commands:" section.
fn commands() -> Vec<String> {
    let help = wirecap(&["--help"]);
    let section = help
        .split("Commands:\n")
        .nth(1)
        .expect("a Commands section");
    let names: Vec<String> = section
        .lines()
        .take_while(|l| !l.trim().is_empty())
        .filter_map(|l| l.split_whitespace().next())
        .filter(|n| *n != "help")
        .map(str::to_owned)
        .collect();
    assert!(names.len() >= 8, "{names:?}");
    names
}

#[test]
fn every_shell_script_names_every_command() {
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = wirecap(&["completions", shell]);
        for name in commands() {
            assert!(script.contains(&name), "{shell} completion lacks {name}");
        }
    }
}

#[test]
fn bash_parses_the_script_and_it_completes_commands_and_options() {
    let script = wirecap(&["completions", "bash"]);
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wirecap.bash");
    std::fs::write(&path, &script).unwrap();
    let syntax = Command::new("bash").arg("-n").arg(&path).output().unwrap();
    assert!(syntax.status.success(), "bash -n: {syntax:?}");
    let complete = |words: &str| {
        let n = words.split(' ').count() - 1;
        let out = Command::new("bash")
            .arg("-c")
            .arg(format!(
                r#"source "$1"; COMP_WORDS=({words}); COMP_CWORD={n}; COMP_LINE="{words}"; COMP_POINT=${{#COMP_LINE}}; _wirecap wirecap "${{COMP_WORDS[$COMP_CWORD]}}" "${{COMP_WORDS[$COMP_CWORD-1]}}"; printf '%s\n' "${{COMPREPLY[@]}}""#
            ))
            .arg("bash")
            .arg(&path)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8(out.stdout).unwrap()
    };
    assert_eq!(complete("wirecap con").trim(), "convert");
    let replies = complete("wirecap stats --");
    assert!(replies.lines().any(|l| l == "--summary-json"), "{replies}");
    let formats = complete("wirecap convert --to ");
    assert!(formats.lines().any(|l| l == "hoverfly"), "{formats}");
}

#[test]
fn the_man_page_has_name_synopsis_and_every_command() {
    let page = wirecap(&["man"]);
    assert!(page.contains(".TH wirecap 1"), "{page}");
    for section in [
        ".SH NAME",
        ".SH SYNOPSIS",
        ".SH DESCRIPTION",
        ".SH SUBCOMMANDS",
    ] {
        assert!(page.contains(section), "no {section}");
    }
    for name in commands() {
        assert!(page.contains(&format!("wirecap\\-{name}(1)")), "no {name}");
        let own = wirecap(&["man", &name]);
        assert!(own.contains(&format!(".TH wirecap-{name} 1")), "{own}");
        assert!(own.contains(".SH SYNOPSIS") && own.contains(".SH OPTIONS"));
    }
}
