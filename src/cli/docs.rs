//! `creditsim completions SHELL` and `creditsim man`: shell completion scripts and man pages,
//! generated from the same clap definitions the commands parse with.

use super::{bad, Cli, Failure};
use clap::CommandFactory;
use creditsim::report::output::write_set;
use std::path::PathBuf;

#[derive(clap::Args)]
#[command(after_help = "Examples:
  creditsim completions bash > ~/.local/share/bash-completion/completions/creditsim
  creditsim completions zsh > ~/.zfunc/_creditsim
  creditsim completions fish > ~/.config/fish/completions/creditsim.fish")]
pub struct CompletionsArgs {
    /// The shell to complete in.
    shell: clap_complete::Shell,
}

#[derive(clap::Args)]
#[command(after_help = "Examples:
  creditsim man | man -l -
  creditsim man --out target/man && man -l target/man/creditsim-replay.1")]
pub struct ManArgs {
    /// Write creditsim.1 and a page per command (creditsim-replay.1, ...) into this folder
    /// instead of printing creditsim.1.
    #[arg(long, value_name = "DIR")]
    out: Option<PathBuf>,
}

pub fn completions(args: CompletionsArgs) -> Result<(), Failure> {
    let mut command = Cli::command();
    clap_complete::generate(
        args.shell,
        &mut command,
        "creditsim",
        &mut std::io::stdout(),
    );
    Ok(())
}

fn page(command: clap::Command) -> Result<Vec<u8>, Failure> {
    let mut bytes = Vec::new();
    clap_mangen::Man::new(command)
        .render(&mut bytes)
        .map_err(|e| bad(format_args!("rendering a man page: {e}")))?;
    Ok(bytes)
}

pub fn man(args: ManArgs) -> Result<(), Failure> {
    let command = Cli::command();
    let Some(dir) = args.out else {
        print!("{}", String::from_utf8_lossy(&page(command)?));
        return Ok(());
    };
    let mut files = vec![("creditsim.1".to_string(), page(command.clone())?)];
    for sub in command.get_subcommands() {
        let name = format!("creditsim-{}", sub.get_name());
        let sub = sub.clone().name(name.clone());
        files.push((format!("{name}.1"), page(sub)?));
    }
    write_set(&dir, &files).map_err(bad)
}
