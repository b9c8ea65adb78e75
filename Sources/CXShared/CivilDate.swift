/// Dates of the proleptic Gregorian calendar by arithmetic alone: what the hand-written date
/// readers (cxrun.toml's dates, the sandbox clock's RFC 3339 times) share, with no ICU behind it.
public enum CivilDate {
    /// The days of `month` (1–12) in `year`.
    public static func days(inMonth month: Int, of year: Int) -> Int {
        let leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)
        return [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][month - 1]
    }

    /// Days from 1970-01-01 to `year`-`month`-`day` (H. Hinnant's days_from_civil).
    public static func daysSince1970(_ year: Int, _ month: Int, _ day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * ((month + 9) % 12) + 2) / 5 + day - 1
        return era * 146_097 + yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear - 719_468
    }
}
