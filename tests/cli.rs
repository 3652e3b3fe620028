//! Every CLI case under `tests/cmd/`: one TOML file per scenario, with expected stdout,
//! stderr and output files beside it. Update with `TRYCMD=overwrite cargo test --test cli`.

#[test]
fn cli() {
    trycmd::TestCases::new().case("tests/cmd/*.toml");
}
