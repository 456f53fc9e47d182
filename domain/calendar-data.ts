/**
 * The Russian production calendar (производственный календарь) for a five-day, 40-hour week, as data.
 *
 * Base rule: Monday–Friday work, Saturday and Sunday rest. Each year then differs from the base rule by
 *  - `daysOff`: Monday–Friday dates on which nobody works — the public holidays of Labour Code art. 112
 *    part 1 (1–6 and 8 January, 7 January, 23 February, 8 March, 1 May, 9 May, 12 June, 4 November)
 *    that fall on a weekday, the Mondays a holiday moves to under art. 112 part 2 when it falls on a
 *    weekend, and the days off moved by that year's Government decree «О переносе выходных дней»;
 *  - `workingWeekends`: Saturdays and Sundays that the decree makes working days.
 * A holiday falling on a Saturday or Sunday is not listed: that day is off anyway.
 *
 * Left out on purpose (they are not part of the production calendar and did not change its official
 * totals): the paid non-working days declared by presidential decree in 2020 (30.03–11.05, 24.06, 01.07)
 * and 2021 (04.05–07.05, 30.10–07.11), and regional holidays.
 *
 * Dates are ISO calendar dates 'YYYY-MM-DD'. Pure data, no I/O: workflow code may import it.
 *
 * Where each year came from (checked in November 2026 against published texts and press
 * reports; see each entry):
 *  2019 — text of the decree of 01.10.2018 № 1163 (reprinted on viselki.net, kadrovikdon.ru).
 *  2020 — transfers (4, 5 January → 4, 5 May) confirmed by the Government's announcement of 13.07.2019
 *         as reported by 78.ru, russia.ink, adi19.ru; the decree's date and number (10.07.2019 № 875)
 *         are from memory and were NOT confirmed by a source found.
 *  2021 — transfers confirmed by government.ru's announcement of 16.10.2020 (via profiz.ru, sport24.ru,
 *         which gives the decree date 10.10.2020); the number № 1648 is from memory, NOT confirmed.
 *  2022 — transfers confirmed by the Government's announcement of 17.09.2021 (km.ru, sakhprof.ru,
 *         admbal.ru); the decree's date and number (15.09.2021 № 1564) are from memory, NOT confirmed.
 *  2023 — decree of 29.08.2022 № 1505 (garant.ru review of the decree). Not № 2406.
 *  2024 — decree of 10.08.2023 № 1314 (full text on normativ.kontur.ru). Not 04.08.2023 № 1272.
 *  2025 — decree of 04.10.2024 № 1335 (government.ru announcement reprinted by teko.cntd.ru).
 *  2026 — decree of 24.09.2025 № 1466 (profedu38.ru, kirov143.ru, RIA of 24.09.2025); monthly totals
 *         checked against glavaudit.org and 4dk.ru (247 working days, 1972 hours).
 *  2027 — not included: as of the last check no decree for 2027 had been found (a December 2025 report
 *         says only a preliminary draft exists). An administrator can add it at run time (see calendar.ts).
 */

export interface CalendarYear {
  year: number;
  /** The decree (and where its content was checked). */
  source: string;
  /** Monday–Friday dates that are not working days. */
  daysOff: readonly string[];
  /** Saturdays and Sundays that are working days. */
  workingWeekends: readonly string[];
  /**
   * Pre-holiday working days shortened by one hour (art. 95). Listed only where verified;
   * absent means "not recorded", not "none".
   */
  shortDays?: readonly string[];
}

export const CALENDAR_DATA: readonly CalendarYear[] = [
  {
    year: 2019,
    source:
      'Постановление Правительства РФ от 01.10.2018 № 1163 «О переносе выходных дней в 2019 году»: ' +
      '5 января → 2 мая, 6 января → 3 мая, 23 февраля → 10 мая',
    daysOff: [
      '2019-01-01', '2019-01-02', '2019-01-03', '2019-01-04', '2019-01-07', '2019-01-08',
      '2019-03-08',
      '2019-05-01', '2019-05-02', '2019-05-03', '2019-05-09', '2019-05-10',
      '2019-06-12',
      '2019-11-04',
    ],
    workingWeekends: [],
  },
  {
    year: 2020,
    source:
      'Постановление Правительства РФ «О переносе выходных дней в 2020 году» (от 10.07.2019 № 875 — реквизиты не проверены): ' +
      '4 января → 4 мая, 5 января → 5 мая; 23 февраля → 24 февраля, 8 марта → 9 марта, 9 мая → 11 мая по ст. 112 ТК РФ',
    daysOff: [
      '2020-01-01', '2020-01-02', '2020-01-03', '2020-01-06', '2020-01-07', '2020-01-08',
      '2020-02-24',
      '2020-03-09',
      '2020-05-01', '2020-05-04', '2020-05-05', '2020-05-11',
      '2020-06-12',
      '2020-11-04',
    ],
    workingWeekends: [],
  },
  {
    year: 2021,
    source:
      'Постановление Правительства РФ от 10.10.2020 «О переносе выходных дней в 2021 году» (№ 1648 — номер не проверен): ' +
      '2 января → 5 ноября, 3 января → 31 декабря, 20 февраля (суббота, рабочая) → 22 февраля',
    daysOff: [
      '2021-01-01', '2021-01-04', '2021-01-05', '2021-01-06', '2021-01-07', '2021-01-08',
      '2021-02-22', '2021-02-23',
      '2021-03-08',
      '2021-05-03', '2021-05-10',
      '2021-06-14',
      '2021-11-04', '2021-11-05',
      '2021-12-31',
    ],
    workingWeekends: ['2021-02-20'],
  },
  {
    year: 2022,
    source:
      'Постановление Правительства РФ «О переносе выходных дней в 2022 году» (от 15.09.2021 № 1564 — реквизиты не проверены): ' +
      '1 января → 3 мая, 2 января → 10 мая, 5 марта (суббота, рабочая) → 7 марта',
    daysOff: [
      '2022-01-03', '2022-01-04', '2022-01-05', '2022-01-06', '2022-01-07',
      '2022-02-23',
      '2022-03-07', '2022-03-08',
      '2022-05-02', '2022-05-03', '2022-05-09', '2022-05-10',
      '2022-06-13',
      '2022-11-04',
    ],
    workingWeekends: ['2022-03-05'],
  },
  {
    year: 2023,
    source:
      'Постановление Правительства РФ от 29.08.2022 № 1505 «О переносе выходных дней в 2023 году»: ' +
      '1 января → 24 февраля, 8 января → 8 мая; 4 ноября → 6 ноября по ст. 112 ТК РФ',
    daysOff: [
      '2023-01-02', '2023-01-03', '2023-01-04', '2023-01-05', '2023-01-06',
      '2023-02-23', '2023-02-24',
      '2023-03-08',
      '2023-05-01', '2023-05-08', '2023-05-09',
      '2023-06-12',
      '2023-11-06',
    ],
    workingWeekends: [],
  },
  {
    year: 2024,
    source:
      'Постановление Правительства РФ от 10.08.2023 № 1314 «О переносе выходных дней в 2024 году»: ' +
      '6 января → 10 мая, 7 января → 31 декабря, 27 апреля → 29 апреля, 2 ноября → 30 апреля, 28 декабря → 30 декабря',
    daysOff: [
      '2024-01-01', '2024-01-02', '2024-01-03', '2024-01-04', '2024-01-05', '2024-01-08',
      '2024-02-23',
      '2024-03-08',
      '2024-04-29', '2024-04-30',
      '2024-05-01', '2024-05-09', '2024-05-10',
      '2024-06-12',
      '2024-11-04',
      '2024-12-30', '2024-12-31',
    ],
    workingWeekends: ['2024-04-27', '2024-11-02', '2024-12-28'],
  },
  {
    year: 2025,
    source:
      'Постановление Правительства РФ от 04.10.2024 № 1335 «О переносе выходных дней в 2025 году»: ' +
      '4 января → 2 мая, 5 января → 31 декабря, 23 февраля → 8 мая, 8 марта → 13 июня, 1 ноября → 3 ноября',
    daysOff: [
      '2025-01-01', '2025-01-02', '2025-01-03', '2025-01-06', '2025-01-07', '2025-01-08',
      '2025-05-01', '2025-05-02', '2025-05-08', '2025-05-09',
      '2025-06-12', '2025-06-13',
      '2025-11-03', '2025-11-04',
      '2025-12-31',
    ],
    workingWeekends: ['2025-11-01'],
  },
  {
    year: 2026,
    source:
      'Постановление Правительства РФ от 24.09.2025 № 1466 «О переносе выходных дней в 2026 году»: ' +
      '3 января → 9 января, 4 января → 31 декабря; 8 марта → 9 марта, 9 мая → 11 мая по ст. 112 ТК РФ',
    daysOff: [
      '2026-01-01', '2026-01-02', '2026-01-05', '2026-01-06', '2026-01-07', '2026-01-08', '2026-01-09',
      '2026-02-23',
      '2026-03-09',
      '2026-05-01', '2026-05-11',
      '2026-06-12',
      '2026-11-04',
      '2026-12-31',
    ],
    workingWeekends: [],
    shortDays: ['2026-04-30', '2026-05-08', '2026-06-11', '2026-11-03'],
  },
];

/** The first and last years the built-in data covers. */
export const firstYear = 2019;
export const lastYear = 2026;
