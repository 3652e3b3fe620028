//! Command-line cases: one trycmd case per `tests/cmd/*.toml`, expected output beside it.
//! Update with `TRYCMD=overwrite cargo test --test cli`, then review the diff.

#[test]
fn cli() {
    trycmd::TestCases::new().case("tests/cmd/*.toml");
}
