//! The `singerid` command-line program: parse the arguments, set up logging, run the command.
//!
//! Exit status: 0 when everything succeeded, 2 when any file failed or a fatal error stopped
//! the command (printed as one `error:` line with its chain of causes).

mod args;
mod commands;
mod logging;

use std::process::ExitCode;

use clap::Parser;

use args::{Args, Command};

fn main() -> ExitCode {
    let args = Args::parse();
    logging::init(&args.global);
    install_panic_logger();
    let result = match &args.command {
        Command::Features(features) => commands::features::run(features, &args.global),
        Command::Presets(presets) => commands::presets::run(presets).map(|()| true),
        Command::Train(train) => commands::train::run(train, &args.global),
        Command::TrainSeparator(a) => commands::train_separator::run(a, &args.global),
        Command::Eval(eval) => commands::eval::run(eval, &args.global),
        Command::Identify(identify) => commands::identify::run(identify, &args.global),
        Command::Embed(a) => commands::embed::run(a, &args.global),
        Command::Ensemble(a) => commands::ensemble::run(a, &args.global),
        Command::Scan(a) => commands::scan::run(a, &args.global),
        Command::Enrol(a) => commands::enrol::run(a, &args.global),
        Command::Singers(a) => commands::singers::run(a, &args.global),
        Command::Similar(a) => commands::similar::run(a, &args.global),
        Command::EvalOpen(a) => commands::eval_open::run(a, &args.global),
        Command::Serve(a) => commands::serve::run(a, &args.global),
        Command::Reproduce(reproduce) => commands::reproduce::run(reproduce, &args.global),
        Command::Separate(separate) => commands::separate::run(separate, &args.global),
        Command::ImportSeparator(a) => commands::import_separator::run(a, &args.global),
        Command::Melody(melody) => commands::melody::run(melody, &args.global),
        Command::Demo(demo) => commands::demo::run(demo, &args.global),
    };
    match result {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::from(2),
        Err(err) => {
            tracing::error!("{err:#}");
            ExitCode::from(2)
        }
    }
}

/// A panic (a bug: inside a per-file job it is also caught and counted as that file's failure)
/// is logged as one line with its location, through the same writer as every other message.
fn install_panic_logger() {
    std::panic::set_hook(Box::new(|info| {
        let message = info.to_string().replace('\n', " ");
        tracing::error!("internal error: {message}");
    }));
}
