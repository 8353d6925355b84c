//! Writes the demo's sample IPA and its test root CA (for `--extra-root-ca`), e.g. to try
//! `validate` by hand: `cargo run --example sample_ipa -- /tmp/demo.ipa [padding-bytes]`.

fn main() {
    let mut args = std::env::args().skip(1);
    let Some(out) = args.next().filter(|a| !a.starts_with('-')) else {
        eprintln!("usage: sample_ipa OUT.ipa [PADDING_BYTES]");
        std::process::exit(2);
    };
    let padding = args.next().and_then(|p| p.parse().ok()).unwrap_or(0);
    let sample = asc_publish::sample::app::SampleApp {
        padding,
        ..Default::default()
    };
    match sample.write_to(std::path::Path::new(&out)) {
        Ok(built) => {
            let ca = format!("{out}.root-ca.pem");
            if let Err(e) = std::fs::write(&ca, built.root_pem()) {
                eprintln!("error: {e}");
                std::process::exit(2);
            }
            println!("{out}\n{ca}");
        }
        Err(e) => {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
}
