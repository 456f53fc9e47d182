import { createCalendar } from '../../domain/calendar';
import { parseDeadlinePhrase, type ParsedDeadline } from '../../domain/deadline-phrase';

const calendar = createCalendar();
const parse = (text: string, reference = '2022-05-31', rule: 'previous' | 'next' = 'previous') =>
  parseDeadlinePhrase(text, { reference, calendar, timezone: 'Asia/Tomsk', rule });
const dateOf = (p: ParsedDeadline) => (p.kind === 'date' || p.kind === 'recurring' ? [p.nominal, p.dueDate] : []);

describe('deadline phrases: a date', () => {
  it.each([
    // the seed letters
    ['срок – сентябрь 2022 г.', '2022-09-30', '2022-09-30', 'сентябрь 2022 г.'],
    ['(срок: ноябрь 2023 г.)', '2023-11-30', '2023-11-30', 'ноябрь 2023 г.'],
    ['принято решение до 05 октября 2020г. внести изменения', '2020-10-05', '2020-10-05', '05 октября 2020г.'],
    ['на октябрь-декабрь 2020г.', '2020-12-31', '2020-12-31', 'октябрь-декабрь 2020г.'],
    // forms of writing
    ['до 30.09.2022', '2022-09-30', '2022-09-30', '30.09.2022'],
    ['до 30.09.22 г.', '2022-09-30', '2022-09-30', '30.09.22 г.'],
    ['срок — до 15 марта 2024 года', '2024-03-15', '2024-03-15', '15 марта 2024 года'],
    ['СРОК:   Сентябрь   2023  года', '2023-09-30', '2023-09-29', 'Сентябрь   2023  года'],
    ['в мае 2025 г.', '2025-05-31', '2025-05-30', 'мае 2025 г.'],
    ['в феврале 2024 года', '2024-02-29', '2024-02-29', 'феврале 2024 года'],
    ['до 1 июня', '2022-06-01', '2022-06-01', '1 июня'],
    ['до 1 марта', '2023-03-01', '2023-03-01', '1 марта'], // already past on 31.05.2022: next year
    ['август', '2022-08-31', '2022-08-31', 'август'],
    ['II квартал 2023 года', '2023-06-30', '2023-06-30', 'II квартал 2023 года'],
    ['до конца 3 квартала 2023 г.', '2023-09-30', '2023-09-29', '3 квартала 2023 г.'],
    ['IV кв. 2024', '2024-12-31', '2024-12-28', 'IV кв. 2024'], // 31.12.2024 was a day off; 28.12 a working Saturday
    ['первое полугодие 2024 г.', '2024-06-30', '2024-06-28', 'первое полугодие 2024 г.'],
    ['2-е полугодие 2025 года', '2025-12-31', '2025-12-30', '2-е полугодие 2025 года'], // 31.12.2025 was a day off (from 05.01)
    ['до конца года', '2022-12-31', '2022-12-30', 'до конца года'],
    ['до конца 2023 года', '2023-12-31', '2023-12-29', 'до конца 2023 года'],
    ['до конца текущего года', '2022-12-31', '2022-12-30', 'до конца текущего года'],
    // holiday transfers of 2023–2025 under the previous-working-day rule
    ['до 24.02.2023', '2023-02-24', '2023-02-22', '24.02.2023'],
    ['до 08 мая 2024 г.', '2024-05-08', '2024-05-08', '08 мая 2024 г.'],
    ['до 10.05.2024', '2024-05-10', '2024-05-08', '10.05.2024'],
    ['до 03.05.2025', '2025-05-03', '2025-04-30', '03.05.2025'],
    ['до 04.11.2025', '2025-11-04', '2025-11-01', '04.11.2025'], // 01.11.2025 was a working Saturday
    ['до 09.01.2023', '2023-01-09', '2023-01-09', '09.01.2023'],
  ])('%s → nominal %s, due %s', (text, nominal, dueDate, source) => {
    const parsed = parse(text);
    expect(parsed.kind).toBe('date');
    expect(dateOf(parsed)).toEqual([nominal, dueDate]);
    expect(parsed.source).toBe(source);
  });

  it('moves to the next working day when the setting says so', () => {
    expect(dateOf(parse('до 03.05.2025', '2025-01-01', 'next'))).toEqual(['2025-05-03', '2025-05-05']);
    expect(dateOf(parse('IV квартал 2024 г.', '2024-01-01', 'next'))).toEqual(['2024-12-31', '2025-01-09']);
  });

  it('gives the moment the deadline passes: the end of the day in Tomsk', () => {
    const parsed = parse('срок – сентябрь 2022 г.');
    expect(parsed.kind === 'date' && parsed.due).toBe('2022-09-30T16:59:59.999Z');
  });
});

describe('deadline phrases: recurring, standing, unknown', () => {
  it('reads the seed letter’s yearly item with its first three cycles', () => {
    const parsed = parse('(срок: сентябрь 2023 г., далее – ежегодно);');
    expect(parsed).toMatchObject({ kind: 'recurring', recurrence: { frequency: 'yearly' }, nominal: '2023-09-30', dueDate: '2023-09-29', source: 'сентябрь 2023 г., далее – ежегодно' });
    expect(parsed.kind === 'recurring' && parsed.occurrences.map((o) => [o.nominal, o.dueDate])).toEqual([
      ['2023-09-30', '2023-09-29'],
      ['2024-09-30', '2024-09-30'],
      ['2025-09-30', '2025-09-30'],
    ]);
  });

  it.each([
    ['ежеквартально', '2022-06-30', '2022-09-30', '2022-12-31'],
    ['Ежемесячно', '2022-05-31', '2022-06-30', '2022-07-31'],
    ['ежемесячно до 5 числа', '2022-06-05', '2022-07-05', '2022-08-05'],
    ['ежеквартально, до конца II квартала 2022 г.', '2022-06-30', '2022-09-30', '2022-12-31'],
  ])('%s recurs from the reference', (text, ...nominals) => {
    const parsed = parse(text);
    expect(parsed.kind).toBe('recurring');
    expect(parsed.kind === 'recurring' && parsed.occurrences.map((o) => o.nominal)).toEqual(nominals);
  });

  it('reads "постоянно" as a standing item with no deadline', () => {
    expect(parse('срок: постоянно')).toEqual({ kind: 'standing', source: 'постоянно' });
  });

  it.each([['в установленные сроки'], ['ежегодно'], ['до 31 сентября 2023 г.'], ['до 30.02.2024'], ['по мере необходимости'], ['']])(
    '%j is unknown, not a guess',
    (text) => {
      expect(parse(text).kind).toBe('unknown');
    },
  );
});
