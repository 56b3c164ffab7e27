//! Calendar dates (proleptic Gregorian, UTC), as days since 1970-01-01.
use crate::tbs::Time;
use core::fmt;
use core::str::FromStr;

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date {
    pub year: i32,
    pub month: u8,
    pub day: u8,
}

impl Date {
    pub const fn new(year: i32, month: u8, day: u8) -> Date {
        Date { year, month, day }
    }

    /// Days since 1970-01-01 (H. Hinnant's days_from_civil).
    pub fn days(self) -> i64 {
        smki_der::days_from_civil(
            i64::from(self.year),
            u32::from(self.month),
            u32::from(self.day),
        )
    }

    /// The date `days` after 1970-01-01.
    pub fn from_days(days: i64) -> Date {
        let z = days + 719468;
        let era = z.div_euclid(146097);
        let doe = z - era * 146097;
        let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let d = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let m = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let y = yoe + era * 400 + (m <= 2) as i64;
        Date {
            year: y as i32,
            month: m,
            day: d,
        }
    }

    /// Today (UTC), by the system clock.
    pub fn today() -> Date {
        let secs = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Date::from_days((secs / 86_400) as i64)
    }

    pub fn add_days(self, n: i64) -> Date {
        Date::from_days(self.days() + n)
    }

    /// The same day `n` years later (29 February becomes 28 February).
    pub fn add_years(self, n: i32) -> Date {
        let year = self.year + n;
        let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
        let day = if self.month == 2 && self.day == 29 && !leap {
            28
        } else {
            self.day
        };
        Date {
            year,
            month: self.month,
            day,
        }
    }

    /// This date at hh:mm:ss.
    pub fn at(self, hour: u8, minute: u8, second: u8) -> Time {
        Time {
            year: self.year as u16,
            month: self.month,
            day: self.day,
            hour,
            minute,
            second,
        }
    }

    /// `YYYYMMDD`.
    pub fn compact(self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }

    /// `YYYY-MM`.
    pub fn month_text(self) -> String {
        format!("{:04}-{:02}", self.year, self.month)
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl FromStr for Date {
    type Err = String;
    fn from_str(s: &str) -> Result<Date, String> {
        let bad = || format!("bad date {s:?} (YYYY-MM-DD)");
        let mut it = s.split('-');
        let (Some(y), Some(m), Some(d), None) = (it.next(), it.next(), it.next(), it.next()) else {
            return Err(bad());
        };
        let date = Date {
            year: y.parse().map_err(|_| bad())?,
            month: m.parse().map_err(|_| bad())?,
            day: d.parse().map_err(|_| bad())?,
        };
        if !(1950..=9999).contains(&date.year) || Date::from_days(date.days()) != date {
            return Err(bad());
        }
        Ok(date)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        assert_eq!(Date::new(1970, 1, 1).days(), 0);
        assert_eq!(Date::new(2016, 4, 6).days(), 16897);
        for d in [0, 59, 60, 16897, 18000, -1, 2932896] {
            assert_eq!(Date::from_days(d).days(), d);
        }
        assert_eq!(Date::new(2016, 2, 29).add_years(10), Date::new(2026, 2, 28));
        assert!("2017-02-29".parse::<Date>().is_err());
        assert_eq!("2017-03-01".parse::<Date>().unwrap(), Date::new(2017, 3, 1));
    }
}
