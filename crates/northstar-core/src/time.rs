//! Calendar arithmetic on unix seconds, in UTC, without a clock: due dates
//! given as `2026-12-01`, `2026-12-01T14:30`, `+2h` or `+7d`, and printed back.

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's
/// `days_from_civil`).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// A due time: `+Nh`, `+Nd` (from `now`), `YYYY-MM-DD` (midnight UTC) or
/// `YYYY-MM-DDTHH:MM` (UTC).
pub fn parse_due(text: &str, now: i64) -> Result<i64, String> {
    let bad = || {
        format!("'{text}' is not a due time: use +2h, +7d, 2026-12-01 or 2026-12-01T14:30 (UTC)")
    };
    let text = text.trim();
    if let Some(rest) = text.strip_prefix('+') {
        // The unit is the last character, which may not be one byte long.
        let unit_at = rest.char_indices().last().map_or(0, |(at, _)| at);
        let (number, unit) = rest.split_at(unit_at);
        let n: i64 = number.parse().map_err(|_| bad())?;
        let seconds = match unit {
            "h" => 3600,
            "d" => 86_400,
            _ => return Err(bad()),
        };
        if !(1..=3650).contains(&n) {
            return Err(bad());
        }
        return Ok(now + n * seconds);
    }
    let (date, clock) = match text.split_once('T') {
        Some((d, c)) => (d, Some(c)),
        None => (text, None),
    };
    let parts: Vec<&str> = date.split('-').collect();
    let [y, m, d] = parts.as_slice() else {
        return Err(bad());
    };
    if y.len() != 4 || m.len() != 2 || d.len() != 2 {
        return Err(bad());
    }
    let (y, m, d): (i64, i64, i64) = (
        y.parse().map_err(|_| bad())?,
        m.parse().map_err(|_| bad())?,
        d.parse().map_err(|_| bad())?,
    );
    if !(1970..=9999).contains(&y) || !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return Err(bad());
    }
    let mut seconds = days_from_civil(y, m, d) * 86_400;
    if let Some(clock) = clock {
        let (h, min) = clock.split_once(':').ok_or_else(bad)?;
        if h.len() != 2 || min.len() != 2 {
            return Err(bad());
        }
        let (h, min): (i64, i64) = (
            h.parse().map_err(|_| bad())?,
            min.parse().map_err(|_| bad())?,
        );
        if !(0..24).contains(&h) || !(0..60).contains(&min) {
            return Err(bad());
        }
        seconds += h * 3600 + min * 60;
    }
    Ok(seconds)
}

/// `YYYY-MM-DD HH:MM UTC`.
pub fn format_utc(seconds: i64) -> String {
    let (y, m, d) = civil_from_days(seconds.div_euclid(86_400));
    let rest = seconds.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02} UTC",
        rest / 3600,
        rest % 3600 / 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_764_000_000; // 2025-11-24 16:00 UTC

    #[test]
    fn dates_convert_both_ways() {
        assert_eq!(parse_due("1970-01-01", NOW), Ok(0));
        assert_eq!(parse_due("2000-03-01", NOW), Ok(951_868_800));
        assert_eq!(parse_due("2026-12-01T14:30", NOW), Ok(1_796_135_400));
        assert_eq!(format_utc(1_796_135_400), "2026-12-01 14:30 UTC");
        assert_eq!(format_utc(951_868_799), "2000-02-29 23:59 UTC");
        for days in [-1000, 0, 59, 60, 365, 10_957, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }

    #[test]
    fn relative_times_count_from_now() {
        assert_eq!(parse_due("+2h", NOW), Ok(NOW + 7200));
        assert_eq!(parse_due("+7d", NOW), Ok(NOW + 7 * 86_400));
    }

    #[test]
    fn nonsense_is_refused_with_the_forms_that_work() {
        for bad in [
            "",
            "+",
            "+h",
            "+0d",
            "+2w",
            "+99999d",
            "tomorrow",
            "2026-02-30",
            "2026-13-01",
            "2026-1-01",
            "1969-12-31",
            "2026-12-01T24:00",
            "2026-12-01T10",
            "2026-12-01T10:5",
        ] {
            let err = parse_due(bad, NOW).unwrap_err();
            assert!(err.contains("+2h, +7d"), "{bad}: {err}");
        }
    }
}
