use serde_json::{Value, json};

use crate::lang::doctor;
use crate::printer::{Message, Printer};
use crate::{Context, ExitStatus};

/// Check that the toolchains wcomp drives are installed and usable.
///
/// Checks cargo and the `wasm32-wasip2` target (Rust), Go (1.25 or newer), Python with
/// the pinned componentize-py, and Node.js (20 or newer) for the pinned componentize-js. For each missing piece it prints the command that fixes
/// it. Exits 1 when anything is missing.
///
/// Examples:
///
///   wcomp doctor
///
///   wcomp doctor --format json
#[derive(Debug, clap::Args)]
pub struct DoctorArgs {}

pub fn run(_args: DoctorArgs, ctx: &Context) -> anyhow::Result<ExitStatus> {
    let checks = doctor::run(ctx);
    let healthy = checks.iter().all(|check| check.ok);
    for check in &checks {
        ctx.printer.emit(check);
    }
    ctx.printer.emit(&DoctorFinished(healthy));
    Ok(if healthy {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

impl Message for doctor::Check {
    fn to_json(&self) -> Value {
        json!({"reason": "check", "name": self.name, "ok": self.ok, "detail": self.detail, "fix": self.fix})
    }

    fn show(&self, printer: &Printer) {
        let mark = if self.ok { "ok" } else { "missing" };
        printer.data(format_args!(
            "{mark:>7}  {}: {}",
            self.name,
            self.detail.lines().next().unwrap_or("")
        ));
        if let Some(fix) = &self.fix {
            printer.data(format_args!("         fix: {fix}"));
        }
    }
}

/// The end of the checks: whether all passed (said in JSON; the lines above say it to people).
struct DoctorFinished(bool);

impl Message for DoctorFinished {
    fn to_json(&self) -> Value {
        json!({"reason": "doctor-finished", "ok": self.0})
    }

    fn show(&self, _: &Printer) {}
}
