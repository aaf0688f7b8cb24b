//! The `creditsim` command. Everything it does is in `cli/`, a front end over the library.

mod cli;

fn main() -> std::process::ExitCode {
    cli::main()
}
