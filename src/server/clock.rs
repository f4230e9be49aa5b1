//! Wall-clock formatting without a date crate: RFC 3339 with nanoseconds for change times (as Go's
//! `time.Time` marshals) and the IMF-fixdate of the HTTP `Date` header.

use std::time::{SystemTime, UNIX_EPOCH};

/// A UTC civil time split into its fields.
struct Civil {
    year: i64,
    month: u32,
    day: u32,
    hour: u64,
    minute: u64,
    second: u64,
    nanos: u32,
    weekday: usize,
}

fn civil(now: SystemTime) -> Civil {
    let since = now.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = since.as_secs();
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Howard Hinnant's days-to-civil algorithm.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    Civil {
        year,
        month,
        day,
        hour: rem / 3_600,
        minute: rem % 3_600 / 60,
        second: rem % 60,
        nanos: since.subsec_nanos(),
        // 1970-01-01 was a Thursday.
        weekday: ((days + 4).rem_euclid(7)) as usize,
    }
}

/// Formats `now` like Go's `time.RFC3339Nano` in UTC: trailing zeros of the fraction are dropped,
/// and the fraction disappears when it is zero (`2026-01-02T03:04:05.1234Z`).
pub(crate) fn rfc3339_nano(now: SystemTime) -> String {
    let c = civil(now);
    let mut out = format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    );
    if c.nanos > 0 {
        let fraction = format!("{:09}", c.nanos);
        out.push('.');
        out.push_str(fraction.trim_end_matches('0'));
    }
    out.push('Z');
    out
}

/// Formats `now` as an HTTP date (`Tue, 24 Nov 2026 22:26:17 GMT`).
pub(crate) fn http_date(now: SystemTime) -> String {
    const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let c = civil(now);
    format!(
        "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
        DAYS[c.weekday],
        c.day,
        MONTHS[(c.month as usize).saturating_sub(1) % 12],
        c.year,
        c.hour,
        c.minute,
        c.second
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn formats_times_like_go_rfc3339_nano() {
        let t = UNIX_EPOCH + Duration::new(1_767_323_045, 123_400_000);
        assert_eq!(rfc3339_nano(t), "2026-01-02T03:04:05.1234Z");
        let t = UNIX_EPOCH + Duration::new(951_782_400, 0);
        assert_eq!(rfc3339_nano(t), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn formats_http_dates() {
        let t = UNIX_EPOCH + Duration::new(784_111_777, 0);
        assert_eq!(http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
    }
}
