use serde_json::json;

use crate::lang::doctor;
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
    if ctx.printer.is_json() {
        for check in &checks {
            ctx.printer.json(json!({"reason": "check", "name": check.name, "ok": check.ok, "detail": check.detail, "fix": check.fix}));
        }
        ctx.printer
            .json(json!({"reason": "doctor-finished", "ok": healthy}));
    } else {
        for check in &checks {
            let mark = if check.ok { "ok" } else { "missing" };
            ctx.printer.data(format_args!(
                "{mark:>7}  {}: {}",
                check.name,
                check.detail.lines().next().unwrap_or("")
            ));
            if let Some(fix) = &check.fix {
                ctx.printer.data(format_args!("         fix: {fix}"));
            }
        }
    }
    Ok(if healthy {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}
