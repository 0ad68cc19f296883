//! A WASI 0.3 command (`wasi:cli/run@0.3`, whose `run` is `async`) that also uses WASI 0.2
//! through Rust's standard library (`eprintln!`), for `cli/tests/rust.rs`: one component
//! importing both versions.

struct Command;

wasip3::cli::command::export!(Command);

impl wasip3::exports::cli::run::Guest for Command {
    async fn run() -> Result<(), ()> {
        let args = wasip3::cli::environment::get_arguments();
        // WASI 0.3: stdout is a stream the host reads while a task of ours writes it.
        let (mut writer, reader) = wasip3::wit_stream::new();
        let line = format!("0.3 stdout: {}\n", args[1..].join(" "));
        wasip3::spawn_local(async move {
            writer.write_all(line.into_bytes()).await;
        });
        if wasip3::cli::stdout::write_via_stream(reader).await.is_err() {
            return Err(());
        }
        wasip3::clocks::monotonic_clock::wait_for(1_000_000).await;
        // WASI 0.2, through the standard library.
        eprintln!("0.2 stderr: {} arguments", args.len());
        if args.iter().any(|arg| arg == "fail") {
            Err(())
        } else {
            Ok(())
        }
    }
}
