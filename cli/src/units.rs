//! Durations and sizes as people write them (`500ms`, `1m30s`, `64MiB`), with one parser for
//! every flag and `wcomp.toml` key that takes them, and one printer whose every output parses
//! back. A leaf: it depends on nothing else in the crate.

use std::time::Duration;

/// A duration or size that could not be read.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum UnitError {
    /// Not a duration.
    #[error("invalid duration `{text}`")]
    #[diagnostic(help(
        "write a number with a unit: `500ms`, `1s`, `2m`, `1m30s`, `1h` (or `none` for no limit)"
    ))]
    Duration { text: String },
    /// Not a size.
    #[error("invalid size `{text}`")]
    #[diagnostic(help(
        "write a number with a unit: `64MiB`, `1GiB`, `512KiB` (plain numbers are bytes)"
    ))]
    Size { text: String },
}

/// Parses a limit: a duration (see [`parse_duration`]), or `none`, `off` or `0` for no limit.
pub fn parse_timeout(text: &str) -> Result<Option<Duration>, UnitError> {
    let trimmed = text.trim();
    if matches!(trimmed, "none" | "off" | "0") {
        return Ok(None);
    }
    parse_duration(trimmed).map(Some)
}

/// Parses `500ms`, `1s`, `1.5s`, `2m`, `1h`, `250us`, and sums of them: `1m30s`, `1h 2m`.
pub fn parse_duration(text: &str) -> Result<Duration, UnitError> {
    let error = || UnitError::Duration {
        text: text.to_owned(),
    };
    let mut rest = text.trim();
    if rest.is_empty() {
        return Err(error());
    }
    let mut seconds = 0.0;
    while !rest.is_empty() {
        let number_end = rest
            .find(|c: char| !(c.is_ascii_digit() || c == '.'))
            .ok_or_else(error)?;
        let (number, after) = rest.split_at(number_end);
        let value: f64 = number.parse().map_err(|_| error())?;
        let after = after.trim_start();
        let unit_end = after
            .find(|c: char| c.is_ascii_digit() || c.is_whitespace())
            .unwrap_or(after.len());
        let (unit, after) = after.split_at(unit_end);
        seconds += value
            * match unit {
                "ns" => 1e-9,
                "us" | "µs" => 1e-6,
                "ms" => 1e-3,
                "s" | "sec" => 1.0,
                "m" | "min" => 60.0,
                "h" => 3600.0,
                _ => return Err(error()),
            };
        rest = after.trim_start();
    }
    Duration::try_from_secs_f64(seconds)
        .ok()
        .filter(|d| !d.is_zero())
        .ok_or_else(error)
}

/// Parses `64MiB`, `1GiB`, `512KiB`, `1GB`, `64M` (binary), `1.5 KiB`, or a plain number of
/// bytes.
pub fn parse_size(text: &str) -> Result<u64, UnitError> {
    let error = || UnitError::Size {
        text: text.to_owned(),
    };
    let trimmed = text.trim();
    let split = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(split);
    let value: f64 = number.parse().map_err(|_| error())?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kib" => 1024.0,
        "m" | "mib" => 1024.0 * 1024.0,
        "g" | "gib" => 1024.0 * 1024.0 * 1024.0,
        "kb" => 1e3,
        "mb" => 1e6,
        "gb" => 1e9,
        _ => return Err(error()),
    };
    let bytes = value * scale;
    if !(1.0..=u64::MAX as f64).contains(&bytes) {
        return Err(error());
    }
    Ok(bytes as u64)
}

/// `1s`, `500ms`, `2m`, `1m30s`, `1h2m3s`: the shortest exact form, which
/// [`parse_duration`] reads back.
pub fn format_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis == 0 {
        return format!("{}µs", duration.as_micros());
    }
    if !millis.is_multiple_of(1000) {
        return format!("{millis}ms");
    }
    let seconds = millis / 1000;
    let (h, m, s) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    let mut out = String::new();
    for (value, unit) in [(h, "h"), (m, "m"), (s, "s")] {
        if value > 0 {
            out.push_str(&format!("{value}{unit}"));
        }
    }
    out
}

/// `64 MiB`, `1 GiB`, `1.5 KiB`, `12 B`; [`parse_size`] reads it back.
pub fn format_size(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    if value.fract() == 0.0 {
        format!("{value} {}", UNITS[unit])
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// `bytes` in MiB (or KiB below one MiB) with a decimal, fine enough to differ visibly from a
/// round limit just below it.
pub fn format_size_beside(bytes: u64) -> String {
    let kib = bytes as f64 / 1024.0;
    if bytes < 1024 {
        format!("{bytes} B")
    } else if kib >= 1024.0 {
        format!("{:.1} MiB", kib / 1024.0)
    } else {
        format!("{kib:.1} KiB")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_durations() {
        assert_eq!(
            parse_timeout("500ms").unwrap(),
            Some(Duration::from_millis(500))
        );
        assert_eq!(parse_timeout("1s").unwrap(), Some(Duration::from_secs(1)));
        assert_eq!(
            parse_timeout("1.5s").unwrap(),
            Some(Duration::from_millis(1500))
        );
        assert_eq!(parse_timeout("2m").unwrap(), Some(Duration::from_secs(120)));
        assert_eq!(
            parse_timeout("1m30s").unwrap(),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            parse_timeout("1m 30s").unwrap(),
            Some(Duration::from_secs(90))
        );
        assert_eq!(
            parse_timeout("1h 2m 3s").unwrap(),
            Some(Duration::from_secs(3723))
        );
        assert_eq!(parse_timeout("none").unwrap(), None);
        assert!(parse_timeout("10").is_err());
        assert!(parse_timeout("").is_err());
        assert!(parse_timeout("1 fortnight").is_err());
        assert!(parse_timeout("-1s").is_err());
        assert!(parse_timeout("1m30").is_err());
    }

    #[test]
    fn parses_sizes() {
        assert_eq!(parse_size("64MiB").unwrap(), 64 << 20);
        assert_eq!(parse_size("1GiB").unwrap(), 1 << 30);
        assert_eq!(parse_size("1gb").unwrap(), 1_000_000_000);
        assert_eq!(parse_size("4096").unwrap(), 4096);
        assert!(parse_size("lots").is_err());
        assert!(parse_size("0").is_err());
    }

    #[test]
    fn formats_for_messages() {
        assert_eq!(format_duration(Duration::from_secs(1)), "1s");
        assert_eq!(format_duration(Duration::from_millis(250)), "250ms");
        assert_eq!(format_duration(Duration::from_secs(90)), "1m30s");
        assert_eq!(format_duration(Duration::from_secs(3723)), "1h2m3s");
        assert_eq!(format_size(64 << 20), "64 MiB");
        assert_eq!(format_size(1536), "1.5 KiB");
        assert_eq!(format_size_beside((1 << 30) + (1 << 20)), "1025.0 MiB");
    }

    #[test]
    fn everything_printed_parses_back() {
        for millis in [
            1, 250, 999, 1000, 1500, 59_000, 60_000, 90_000, 3_600_000, 3_723_000, 86_400_000,
        ] {
            let duration = Duration::from_millis(millis);
            let text = format_duration(duration);
            assert_eq!(parse_duration(&text).unwrap(), duration, "{text}");
            assert_eq!(parse_timeout(&text).unwrap(), Some(duration), "{text}");
        }
        assert_eq!(
            parse_duration(&format_duration(Duration::from_micros(250))).unwrap(),
            Duration::from_micros(250)
        );
        for bytes in [1, 1023, 1024, 1536, 64 << 20, 1 << 30, 3 << 30, 10 << 20] {
            let text = format_size(bytes);
            assert_eq!(parse_size(&text).unwrap(), bytes, "{text}");
            assert!(parse_size(&format_size_beside(bytes)).is_ok());
        }
    }
}
