//! Entry point: parse the command line, run the subcommand, render any error once, exit with the
//! documented code (see `asc_publish::ExitCode`).

mod sim_cli;

use clap::Parser;

fn main() {
    // A panic is a bug; it must still end with a documented code and a useful line, never 101.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("error: internal error (this is a bug in asc-publish, please report it): {info}");
    }));
    let cli = sim_cli::Cli::parse();
    let format = cli.command.format();
    let code = match std::panic::catch_unwind(move || sim_cli::run(cli)) {
        Ok(Ok(code)) => code,
        Ok(Err(err)) => {
            asc_publish::cli::render::render_error(&err, format);
            err.exit_code()
        }
        Err(_) => asc_publish::ExitCode::Usage.code(),
    };
    std::process::exit(code);
}
