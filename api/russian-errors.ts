/**
 * What a validation issue says to a person, in Russian: for every check that carries no message
 * of ours (a field's length, a type, a format, a choice). Zod's own Russian locale names types in
 * English and mismatches its cases («ожидалось массив, получено string»); these sentences follow
 * the pattern of the app's own messages, lower case, the field's name given by whoever shows it.
 * Numbers agree with their nouns through pluralRu (domain/policy.ts).
 */
import { z } from 'zod';
import { pluralRu } from '../domain/russian';

const TYPES: Record<string, string> = {
  string: 'строка',
  number: 'число',
  int: 'целое число',
  bigint: 'целое число',
  boolean: 'да или нет (true/false)',
  array: 'список',
  object: 'объект',
  date: 'дата',
  null: 'пустое значение (null)',
};

const FORMATS: Record<string, string> = {
  email: 'адрес электронной почты, например name@example.ru',
  date: 'дата в виде ГГГГ-ММ-ДД',
  datetime: 'дата и время в формате ISO 8601, например 2026-12-05T10:00:00Z',
  time: 'время в виде ЧЧ:ММ',
  url: 'адрес (URL), например https://example.ru',
  uuid: 'идентификатор (UUID)',
};

/** «50 символов» after «не длиннее»: the genitive (1 символа, 2 символов, 5 символов). */
const characters = (n: number) => `${n} ${pluralRu(n, ['символа', 'символов', 'символов'])}`;
/** «3 элементов» after «не больше»/«не меньше»: the genitive. */
const elements = (n: number) => `${n} ${pluralRu(n, ['элемента', 'элементов', 'элементов'])}`;
const bound = (value: unknown) => (value instanceof Date ? value.toISOString().slice(0, 10) : String(value));
const quoted = (values: readonly unknown[]) => values.map((v) => (typeof v === 'string' ? `«${v}»` : String(v))).join(', ');

const fallback = z.locales.ru().localeError;

function message(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'обязательное поле';
      return `ожидается ${TYPES[issue.expected] ?? issue.expected}`;
    case 'too_big': {
      const max = Number(issue.maximum);
      const inclusive = issue.inclusive !== false;
      if (issue.origin === 'string') return `не длиннее ${characters(inclusive ? max : max - 1)}`;
      if (issue.origin === 'array' || issue.origin === 'set') return `не больше ${elements(inclusive ? max : max - 1)}`;
      if (issue.origin === 'date') return `${inclusive ? 'не позже' : 'раньше'} ${bound(issue.maximum)}`;
      return `${inclusive ? 'не больше' : 'меньше'} ${bound(issue.maximum)}`;
    }
    case 'too_small': {
      const min = Number(issue.minimum);
      const inclusive = issue.inclusive !== false;
      if (issue.origin === 'string') return min <= 1 && inclusive ? 'не может быть пустым' : `не короче ${characters(inclusive ? min : min + 1)}`;
      if (issue.origin === 'array' || issue.origin === 'set') return min <= 1 && inclusive ? 'нужен хотя бы один элемент' : `не меньше ${elements(inclusive ? min : min + 1)}`;
      if (issue.origin === 'date') return `${inclusive ? 'не раньше' : 'позже'} ${bound(issue.minimum)}`;
      return `${inclusive ? 'не меньше' : 'больше'} ${bound(issue.minimum)}`;
    }
    case 'invalid_format':
      return FORMATS[issue.format] ?? 'неверный формат';
    case 'not_multiple_of':
      return `должно быть кратно ${bound(issue.divisor)}`;
    case 'invalid_value':
      return issue.values.length === 1 ? `допустимое значение: ${quoted(issue.values)}` : `допустимые значения: ${quoted(issue.values)}`;
    case 'unrecognized_keys':
      return issue.keys.length === 1 ? `лишнее поле: ${issue.keys[0]}` : `лишние поля: ${issue.keys.join(', ')}`;
    case 'invalid_union':
      return 'не подходит ни под один из допустимых вариантов';
    case 'invalid_key':
      return 'недопустимый ключ';
    case 'invalid_element':
      return 'недопустимый элемент';
    case 'custom':
      return issue.message ?? 'неверное значение';
    default:
      return undefined;
  }
}

/** The error map every schema is parsed with (`schema.safeParse(value, { error: russianErrors })`). */
export const russianErrors: z.core.$ZodErrorMap = (issue) => message(issue) ?? fallback(issue);
