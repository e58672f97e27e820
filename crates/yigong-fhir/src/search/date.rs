//! Dates as periods: every FHIR date, dateTime, instant or Period is the half-open interval of
//! time it covers, and R4's search prefixes compare such intervals
//! (<https://hl7.org/fhir/R4/search.html#prefix>, the table for `date`).

use chrono::{DateTime, Duration, FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};

/// China time, UTC+08:00: the zone of a date, or of a dateTime written without one.
pub fn china_time() -> FixedOffset {
    FixedOffset::east_opt(8 * 3600).expect("+08:00 is a valid offset")
}

/// The half-open interval `[start, end)` a date value covers.
///
/// - `2023` is the whole year, `2023-05` the month, `2023-05-10` the day, each in China time;
/// - a dateTime covers its last written unit: `…T10:00` a minute, `…T10:00:00` a second,
///   `…T10:00:00.25` a hundredth of a second (so an instant, always written to the second or
///   finer, covers exactly its written precision and is never empty);
/// - a dateTime without zone is China time (FHIR requires a zone once hours are given; we accept
///   its absence from sources that drop it, and China is where our data is written);
/// - a Period runs from the start of its `start` to the end of its `end`; a missing end is
///   [`DatePeriod::OPEN_START`] / [`DatePeriod::OPEN_END`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DatePeriod {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
}

impl DatePeriod {
    /// The start of a Period without `start` (chrono's earliest time; a database column that
    /// cannot hold it should store its own sentinel or NULL).
    pub const OPEN_START: DateTime<Utc> = DateTime::<Utc>::MIN_UTC;
    /// The end of a Period without `end`, chrono's latest time.
    pub const OPEN_END: DateTime<Utc> = DateTime::<Utc>::MAX_UTC;

    /// Whether the two periods share an instant.
    pub fn overlaps(&self, other: &DatePeriod) -> bool {
        self.start < other.end && other.start < self.end
    }

    /// Whether `other` lies wholly within `self`.
    pub fn contains(&self, other: &DatePeriod) -> bool {
        self.start <= other.start && other.end <= self.end
    }
}

/// The period a FHIR date, dateTime or instant covers (see [`DatePeriod`]); `None` if the text
/// is none of them. Hours without seconds (`2023-05-10T10:00`) are accepted, as search values
/// are commonly written so.
pub fn parse_date_period(text: &str) -> Option<DatePeriod> {
    let (date_part, time_part) = match text.split_once('T') {
        Some((date, time)) => (date, Some(time)),
        None => (text, None),
    };
    let mut fields = date_part.split('-');
    let year = digits(fields.next()?, 4)?;
    let month = fields.next().map(|m| digits(m, 2)).unwrap_or(Some(0))?;
    let day = fields.next().map(|d| digits(d, 2)).unwrap_or(Some(0))?;
    if fields.next().is_some() || year == 0 {
        return None;
    }
    let china = china_time();
    let local = |date: NaiveDate| china.from_local_datetime(&date.and_time(NaiveTime::MIN)).single();
    match (month, day, time_part) {
        (0, _, None) => {
            let start = NaiveDate::from_ymd_opt(year as i32, 1, 1)?;
            let end = NaiveDate::from_ymd_opt(year as i32 + 1, 1, 1)?;
            period(local(start)?, local(end)?)
        }
        (1..=12, 0, None) => {
            let start = NaiveDate::from_ymd_opt(year as i32, month, 1)?;
            let end = start.checked_add_months(chrono::Months::new(1))?;
            period(local(start)?, local(end)?)
        }
        (1..=12, 1..=31, None) => {
            let start = NaiveDate::from_ymd_opt(year as i32, month, day)?;
            period(local(start)?, local(start.succ_opt()?)?)
        }
        (1..=12, 1..=31, Some(time)) => {
            let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
            parse_date_time(date, time)
        }
        _ => None,
    }
}

/// `hh:mm[:ss[.fff…]][Z|±hh:mm]` on a date.
fn parse_date_time(date: NaiveDate, time: &str) -> Option<DatePeriod> {
    let zone_at = time.find(['Z', '+', '-']).unwrap_or(time.len());
    let (clock, zone) = time.split_at(zone_at);
    let offset = match zone {
        "" => china_time(),
        "Z" => FixedOffset::east_opt(0)?,
        zone => {
            let sign = if zone.starts_with('-') { -1 } else { 1 };
            let (hours, minutes) = zone[1..].split_once(':')?;
            let (hours, minutes) = (digits(hours, 2)?, digits(minutes, 2)?);
            if hours > 14 || minutes > 59 || (hours == 14 && minutes > 0) {
                return None;
            }
            FixedOffset::east_opt(sign * (hours * 3600 + minutes * 60) as i32)?
        }
    };
    let mut fields = clock.split(':');
    let hour = digits(fields.next()?, 2)?;
    let minute = digits(fields.next()?, 2)?;
    let (second, fraction) = match fields.next() {
        None => (None, None),
        Some(seconds) => match seconds.split_once('.') {
            None => (Some(digits(seconds, 2)?), None),
            Some((whole, fraction)) => (Some(digits(whole, 2)?), Some(fraction)),
        },
    };
    if fields.next().is_some() || hour > 23 || minute > 59 || second.is_some_and(|s| s > 60) {
        return None;
    }
    // A leap second (`:60`) is read as the last second of its minute.
    let time = NaiveTime::from_hms_opt(hour, minute, second.unwrap_or(0).min(59))?;
    let (nanos, unit) = match (second, fraction) {
        (None, _) => (0, Duration::minutes(1)),
        (Some(_), None) => (0, Duration::seconds(1)),
        (Some(_), Some(fraction)) => {
            if fraction.is_empty() || !fraction.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            // Digits past the nanosecond are dropped; the unit is then one nanosecond.
            let kept = &fraction[..fraction.len().min(9)];
            let scale = 10u32.pow(9 - kept.len() as u32);
            let nanos: u32 = kept.parse().ok()?;
            (nanos * scale, Duration::nanoseconds(i64::from(scale)))
        }
    };
    let local = NaiveDateTime::new(date, time) + Duration::nanoseconds(i64::from(nanos));
    let start = offset.from_local_datetime(&local).single()?;
    period(start, start.checked_add_signed(unit)?)
}

fn period<Tz: TimeZone>(start: DateTime<Tz>, end: DateTime<Tz>) -> Option<DatePeriod> {
    Some(DatePeriod { start: start.with_timezone(&Utc), end: end.with_timezone(&Utc) })
}

/// Exactly `width` ASCII digits.
fn digits(text: &str, width: usize) -> Option<u32> {
    (text.len() == width && text.bytes().all(|b| b.is_ascii_digit())).then(|| text.parse().ok())?
}

/// A search prefix (R4 §3.1.1.4 "prefix"); `eq` when none is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Prefix {
    Eq,
    Ne,
    Gt,
    Lt,
    Ge,
    Le,
    Sa,
    Eb,
    Ap,
}

impl Prefix {
    pub const ALL: [Prefix; 9] = [
        Prefix::Eq,
        Prefix::Ne,
        Prefix::Gt,
        Prefix::Lt,
        Prefix::Ge,
        Prefix::Le,
        Prefix::Sa,
        Prefix::Eb,
        Prefix::Ap,
    ];

    /// The two letters written in a URL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Eq => "eq",
            Self::Ne => "ne",
            Self::Gt => "gt",
            Self::Lt => "lt",
            Self::Ge => "ge",
            Self::Le => "le",
            Self::Sa => "sa",
            Self::Eb => "eb",
            Self::Ap => "ap",
        }
    }

    /// Splits a leading prefix off a search value: `ge2023` → (`Ge`, `2023`); `2023` → (`Eq`, `2023`).
    pub fn split(raw: &str) -> (Prefix, &str) {
        Self::ALL
            .into_iter()
            .find_map(|prefix| raw.strip_prefix(prefix.as_str()).map(|rest| (prefix, rest)))
            .unwrap_or((Prefix::Eq, raw))
    }
}

/// Whether an indexed period matches a date search value, per the R4 `date` prefix table
/// (`q` is the search value's period, `t` the indexed one):
///
/// | prefix | R4 wording | as intervals |
/// |---|---|---|
/// | `eq` | q fully contains t | `q.start <= t.start && t.end <= q.end` |
/// | `ne` | q does not fully contain t | `t.start < q.start \|\| t.end > q.end` |
/// | `gt` | the range above q overlaps t | `t.end > q.end` |
/// | `lt` | the range below q overlaps t | `t.start < q.start` |
/// | `ge` | `gt` or `eq` | |
/// | `le` | `lt` or `eq` | |
/// | `sa` | t does not overlap q, and lies above it | `t.start >= q.end` |
/// | `eb` | t does not overlap q, and lies below it | `t.end <= q.start` |
/// | `ap` | q overlaps t | `t.start < q.end && t.end > q.start` |
///
/// `ap` is the overlap of the date table, not the 10 % rule of numbers.
pub fn date_matches(prefix: Prefix, query: DatePeriod, indexed: DatePeriod) -> bool {
    date_sql_bounds(prefix, query).matches(indexed)
}

/// A column of a date index row: the start or the (exclusive) end of the indexed period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DateColumn {
    Start,
    End,
}

/// A comparison of a column with a value: `column < value` for `Lt`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Comparison {
    Lt,
    Le,
    Gt,
    Ge,
}

impl Comparison {
    /// The SQL operator.
    pub fn as_sql(self) -> &'static str {
        match self {
            Self::Lt => "<",
            Self::Le => "<=",
            Self::Gt => ">",
            Self::Ge => ">=",
        }
    }
}

/// `column comparison value`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct DateBound {
    pub column: DateColumn,
    pub comparison: Comparison,
    pub value: DateTime<Utc>,
}

impl DateBound {
    fn holds(&self, indexed: DatePeriod) -> bool {
        let column = match self.column {
            DateColumn::Start => indexed.start,
            DateColumn::End => indexed.end,
        };
        match self.comparison {
            Comparison::Lt => column < self.value,
            Comparison::Le => column <= self.value,
            Comparison::Gt => column > self.value,
            Comparison::Ge => column >= self.value,
        }
    }
}

/// A date search as a condition on the `(start, end)` columns of the index: an OR of ANDs,
/// `(b1 AND b2) OR (b3)`, ready to be written as SQL with bound values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateCondition {
    pub any_of: Vec<Vec<DateBound>>,
}

impl DateCondition {
    /// Whether an indexed period satisfies the condition (what the SQL computes).
    pub fn matches(&self, indexed: DatePeriod) -> bool {
        self.any_of.iter().any(|all| all.iter().all(|bound| bound.holds(indexed)))
    }
}

/// The condition on the index columns equivalent to [`date_matches`]: the server writes it as
/// SQL, `(start >= $1 AND end <= $2)` for `eq`, and so on (see the table at [`date_matches`]).
pub fn date_sql_bounds(prefix: Prefix, query: DatePeriod) -> DateCondition {
    use Comparison::{Ge, Gt, Le, Lt};
    use DateColumn::{End, Start};
    let bound = |column, comparison, value| DateBound { column, comparison, value };
    let contained = vec![bound(Start, Ge, query.start), bound(End, Le, query.end)];
    let after = vec![bound(End, Gt, query.end)];
    let before = vec![bound(Start, Lt, query.start)];
    let any_of = match prefix {
        Prefix::Eq => vec![contained],
        Prefix::Ne => vec![before, after],
        Prefix::Gt => vec![after],
        Prefix::Lt => vec![before],
        Prefix::Ge => vec![after, contained],
        Prefix::Le => vec![before, contained],
        Prefix::Sa => vec![vec![bound(Start, Ge, query.end)]],
        Prefix::Eb => vec![vec![bound(End, Le, query.start)]],
        Prefix::Ap => vec![vec![bound(Start, Lt, query.end), bound(End, Gt, query.start)]],
    };
    DateCondition { any_of }
}
