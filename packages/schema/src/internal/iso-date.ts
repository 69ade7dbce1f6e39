/**
 * Days since 1970-01-01 <-> ISO 8601 calendar dates (proleptic Gregorian, with a year 0), the
 * representation of the Avro `date` logical type, over the whole Avro `int` range of days.
 *
 * The text is exactly what Java's `LocalDate.toString()` writes (and `LocalDate.parse()` reads):
 * `YYYY-MM-DD` for years 0000 to 9999, `+YYYYY-MM-DD` (a `+` and no leading zero) after 9999,
 * `-YYYY-MM-DD` (a `-` and at least four digits) before 0000. Only that form is accepted, so a
 * date read back is the very string that was written.
 *
 * Number arithmetic only (the algorithms of Howard Hinnant's `chrono`-compatible date
 * algorithms): exact for any int, no `Date` in between.
 * @module
 */

/** The first and the last day of the Avro `int` range. */
export const minDateDays = -2_147_483_648;
export const maxDateDays = 2_147_483_647;

const daysPer400Years = 146_097;
/** Days from 0000-03-01 to 1970-01-01. */
const epochShift = 719_468;
const twoDigits = Array.from({ length: 32 }, (_, i) => String(i).padStart(2, '0'));

/**
 * The ISO date of `days` since 1970-01-01 (`0` -> `'1970-01-01'`, `-719162` -> `'0001-01-01'`,
 * `2932897` -> `'+10000-01-01'`). `days` must be an integer within the int range.
 */
export function formatIsoDate(days: number): string {
  const z = days + epochShift;
  const era = Math.floor(z / daysPer400Years);
  const dayOfEra = z - era * daysPer400Years; // [0, 146096]
  const yearOfEra = Math.floor(
    (dayOfEra -
      Math.floor(dayOfEra / 1460) +
      Math.floor(dayOfEra / 36_524) -
      Math.floor(dayOfEra / 146_096)) /
      365,
  ); // [0, 399]
  const dayOfYear = dayOfEra - (365 * yearOfEra + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100)); // [0, 365], from March 1st
  const shiftedMonth = Math.floor((5 * dayOfYear + 2) / 153); // [0, 11], March = 0
  const day = dayOfYear - Math.floor((153 * shiftedMonth + 2) / 5) + 1;
  const month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9;
  const year = yearOfEra + era * 400 + (month <= 2 ? 1 : 0);
  return `${formatYear(year)}-${twoDigits[month]}-${twoDigits[day]}`;
}

function formatYear(year: number): string {
  if (year >= 1000 && year <= 9999) return String(year);
  if (year > 9999) return `+${year}`;
  const digits = String(Math.abs(year)).padStart(4, '0');
  return year < 0 ? `-${digits}` : digits;
}

/**
 * The days since 1970-01-01 of an ISO date in the form {@link formatIsoDate} writes, or
 * `undefined` when `text` is not such a date (wrong form, a day the month does not have, a
 * non-canonical year such as `'+0001'` or `'-000001'`) or lies outside the int range of days.
 */
export function parseIsoDate(text: string): number | undefined {
  const length = text.length;
  const first = text.charCodeAt(0);
  const sign = first === 0x2b ? 1 : first === 0x2d ? -1 : 0;
  const yearStart = sign === 0 ? 0 : 1;
  let i = yearStart;
  let year = 0;
  for (let c = text.charCodeAt(i); c >= 0x30 && c <= 0x39; c = text.charCodeAt(++i)) {
    year = year * 10 + (c - 0x30);
  }
  const yearDigits = i - yearStart;
  // Canonical years only: 4 digits unsigned; '+' only beyond 9999 and '-' only below 0, and
  // more than 4 digits only without a leading zero. 9 digits is beyond any int day already.
  if (yearDigits < 4 || yearDigits > 9) return undefined;
  if (sign === 0 ? yearDigits !== 4 : yearDigits > 4 && text.charCodeAt(yearStart) === 0x30) return undefined;
  if ((sign === 1 && yearDigits === 4) || (sign === -1 && year === 0)) return undefined;
  if (length !== i + 6 || text.charCodeAt(i) !== 0x2d || text.charCodeAt(i + 3) !== 0x2d) return undefined;
  const month = twoDigitsAt(text, i + 1);
  const day = twoDigitsAt(text, i + 4);
  const signedYear = sign === -1 ? -year : year;
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(signedYear, month)) return undefined;
  const days = daysFromCivil(signedYear, month, day);
  return days >= minDateDays && days <= maxDateDays ? days : undefined;
}

/** The two-digit number at `at`, or -1 when those are not two digits. */
function twoDigitsAt(text: string, at: number): number {
  const tens = text.charCodeAt(at) - 0x30;
  const ones = text.charCodeAt(at + 1) - 0x30;
  return tens >= 0 && tens <= 9 && ones >= 0 && ones <= 9 ? tens * 10 + ones : -1;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400; // [0, 399]
  const dayOfYear = Math.floor((153 * (month > 2 ? month - 3 : month + 9) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * daysPer400Years + dayOfEra - epochShift;
}
