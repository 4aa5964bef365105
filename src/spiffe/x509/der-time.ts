/**
 * X.509 validity times (RFC 5280 §4.1.2.5), strictly: UTCTime is exactly
 * `YYMMDDHHMMSSZ`, GeneralizedTime exactly `YYYYMMDDHHMMSSZ`; no fractions, no
 * offsets, every field in range. Returns milliseconds since the epoch.
 */
import { TAG, type DerElement } from './der-reader.js';
import { malformed } from './x509-svid-error.js';

export function decodeTime(buf: Buffer, el: DerElement): number {
  const start = el.contentStart;
  const length = el.end - start;
  let year: number;
  let at: number;
  if (el.tag === TAG.UTC_TIME) {
    if (length !== 13) throw malformed('UTCTime must be YYMMDDHHMMSSZ');
    const yy = twoDigits(buf, start);
    year = yy >= 50 ? 1900 + yy : 2000 + yy; // RFC 5280: YY >= 50 means 19YY
    at = start + 2;
  } else if (el.tag === TAG.GENERALIZED_TIME) {
    if (length !== 15) throw malformed('GeneralizedTime must be YYYYMMDDHHMMSSZ');
    year = twoDigits(buf, start) * 100 + twoDigits(buf, start + 2);
    at = start + 4;
  } else {
    throw malformed('validity time must be UTCTime or GeneralizedTime');
  }
  if (buf[el.end - 1] !== 0x5a) throw malformed('validity time must end in Z');
  const month = twoDigits(buf, at);
  const day = twoDigits(buf, at + 2);
  const hour = twoDigits(buf, at + 4);
  const minute = twoDigits(buf, at + 6);
  const second = twoDigits(buf, at + 8);
  if (year < 100 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 59) {
    throw malformed('validity time is out of range');
  }
  return Date.UTC(year, month - 1, day, hour, minute, second);
}

function twoDigits(buf: Buffer, at: number): number {
  const a = buf[at]! - 0x30;
  const b = buf[at + 1]! - 0x30;
  if (a < 0 || a > 9 || b < 0 || b > 9) throw malformed('validity time holds a non-digit');
  return a * 10 + b;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0 ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}
