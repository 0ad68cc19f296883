fn main() -> std::process::ExitCode {
    wcomp::main()
}
