//! A runtime's place in AWS's runtime table: its OS, its architectures, and
//! when it was (or will be) deprecated, when creating and then updating
//! functions with it is blocked, with the runtime that replaces it
//! (`docs/runtime-facts.md` §6b). Pure: the date to judge against is given
//! by the caller (`check --today`, the system clock's date by default).

use serde::{Deserialize, Serialize};

use crate::error::shown;

/// What AWS's runtime table says of one runtime (a profile's `runtime`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RuntimeFacts {
    /// The OS profile it runs on (`amazonlinux-2`).
    pub os: String,
    /// Lambda's architectures it exists on (`x86_64`, `arm64`).
    pub architectures: Vec<String>,
    /// The date it is deprecated (`YYYY-MM-DD`); `null`: none announced.
    pub deprecated: Option<String>,
    /// From this date no function can be created with it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocks_create: Option<String>,
    /// From this date no function with it can be updated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blocks_update: Option<String>,
    /// The runtime to move to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replacement: Option<String>,
}

/// A runtime deprecated on or before the date judged against, with the
/// blocks AWS announced (each `None` if none is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deprecation {
    pub runtime: String,
    pub since: String,
    #[serde(rename = "use")]
    pub replacement: Option<String>,
    pub blocks_create: Option<String>,
    pub blocks_update: Option<String>,
    /// The date judged against (not serialized: the JSON report has it).
    #[serde(skip)]
    pub today: String,
}

impl Deprecation {
    /// The warning line, naming the phase the runtime is in at `today`:
    /// `python3.10 is deprecated since 2026-10-31: use python3.14`, then
    /// `python3.6: new functions blocked since 2022-07-18, updates blocked
    /// since 2022-08-29: use python3.14`.
    pub fn line(&self) -> String {
        let use_instead = match &self.replacement {
            Some(r) => format!(": use {}", shown(r)),
            None => String::new(),
        };
        let today = self.today.as_str();
        let created = self.blocks_create.as_deref().filter(|d| *d <= today);
        match (created, &self.blocks_update) {
            (Some(create), update) => {
                let update = match update {
                    Some(u) if u.as_str() <= today => {
                        format!(", updates blocked since {}", shown(u))
                    }
                    Some(u) => format!(", updates blocked from {}", shown(u)),
                    None => String::new(),
                };
                format!(
                    "warning: {}: new functions blocked since {}{}{}",
                    shown(&self.runtime),
                    shown(create),
                    update,
                    use_instead
                )
            }
            (None, _) => format!(
                "warning: {} is deprecated since {}{}",
                shown(&self.runtime),
                shown(&self.since),
                use_instead
            ),
        }
    }
}

/// `runtime`'s deprecation, if its date is `today` or earlier (both `YYYY-MM-DD`,
/// which compare as text).
pub fn deprecation(
    runtime: &str,
    facts: Option<&RuntimeFacts>,
    today: &str,
) -> Option<Deprecation> {
    let facts = facts?;
    let since = facts.deprecated.as_ref()?;
    (since.as_str() <= today).then(|| Deprecation {
        runtime: runtime.to_string(),
        since: since.clone(),
        replacement: facts.replacement.clone(),
        blocks_create: facts.blocks_create.clone(),
        blocks_update: facts.blocks_update.clone(),
        today: today.to_string(),
    })
}

/// Whether `text` is a calendar date `YYYY-MM-DD`.
pub fn is_date(text: &str) -> bool {
    let parts: Vec<&str> = text.split('-').collect();
    let [y, m, d] = parts[..] else {
        return false;
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    if !(digits(y, 4) && digits(m, 2) && digits(d, 2)) {
        return false;
    }
    let (year, month, day): (i64, u32, u32) = (
        y.parse().unwrap_or(0),
        m.parse().unwrap_or(0),
        d.parse().unwrap_or(0),
    );
    (1..=12).contains(&month) && day >= 1 && day <= days_in_month(year, month)
}

fn days_in_month(year: i64, month: u32) -> u32 {
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The date (`YYYY-MM-DD`, UTC) `days` days after 1970-01-01 (the civil
/// calendar from a day count, as in Howard Hinnant's `civil_from_days`).
pub fn date_of_day(days: i64) -> String {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn facts(deprecated: Option<&str>) -> RuntimeFacts {
        RuntimeFacts {
            os: "amazonlinux-2".into(),
            architectures: vec!["x86_64".into(), "arm64".into()],
            deprecated: deprecated.map(String::from),
            blocks_create: Some("2027-02-01".into()),
            blocks_update: Some("2027-03-03".into()),
            replacement: Some("provided.al2023".into()),
        }
    }

    #[test]
    fn a_runtime_is_deprecated_from_its_date_on() {
        let al2 = facts(Some("2026-07-31"));
        assert_eq!(deprecation("provided.al2", Some(&al2), "2026-07-30"), None);
        let on_the_day = deprecation("provided.al2", Some(&al2), "2026-07-31").unwrap();
        assert_eq!(
            on_the_day.line(),
            "warning: provided.al2 is deprecated since 2026-07-31: use provided.al2023"
        );
        assert_eq!(
            deprecation("provided.al2", Some(&al2), "2027-02-01")
                .unwrap()
                .line(),
            "warning: provided.al2: new functions blocked since 2027-02-01, updates blocked \
             from 2027-03-03: use provided.al2023"
        );
        assert_eq!(
            deprecation("provided.al2", Some(&al2), "2027-03-03")
                .unwrap()
                .line(),
            "warning: provided.al2: new functions blocked since 2027-02-01, updates blocked \
             since 2027-03-03: use provided.al2023"
        );
        assert_eq!(deprecation("x", Some(&facts(None)), "2999-01-01"), None);
        assert_eq!(deprecation("x", None, "2999-01-01"), None);
    }

    #[test]
    fn dates_are_calendar_dates() {
        assert!(is_date("2026-12-01"));
        assert!(is_date("2024-02-29"));
        assert!(!is_date("2023-02-29"));
        assert!(!is_date("2026-13-01"));
        assert!(!is_date("2026-1-01"));
        assert!(!is_date("tomorrow"));
    }

    #[test]
    fn day_counts_give_their_dates() {
        assert_eq!(date_of_day(0), "1970-01-01");
        assert_eq!(date_of_day(19_782), "2024-02-29");
        assert_eq!(date_of_day(20_788), "2026-12-01");
    }
}
