//! Every Hoverfly reader (simulations of every schemaVersion, legacy records, templates and
//! delays), then the pairs as exchanges, as `convert` does.
#![no_main]
use wirecap::formats::{self, Format, Input, ReadOptions};
use wirecap::loss::Losses;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    for format in [
        Format::Hoverfly,
        Format::HoverflyV1Records,
        Format::HoverflyV1Templates,
        Format::HoverflyV1Delays,
    ] {
        let input = Input {
            name: "fuzz".into(),
            reader: Box::new(std::io::Cursor::new(data.to_vec())),
        };
        let mut losses = Losses::default();
        if let Ok(sim) =
            formats::read_simulation(format, input, &ReadOptions::default(), &mut losses)
        {
            for pair in &sim.pairs {
                let _ = pair.to_exchange(&mut losses);
            }
        }
    }
});
