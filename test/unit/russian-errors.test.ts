import { z } from 'zod';
import { russianErrors } from '../../api/validate';

/** The message of the first issue a value raises against a schema. */
const say = (schema: z.ZodType, value: unknown) => {
  const result = schema.safeParse(value, { error: russianErrors });
  if (result.success) throw new Error('expected a refusal');
  return result.error.issues[0].message;
};

describe('validation messages in Russian', () => {
  it('gives lengths with the noun agreeing with the number', () => {
    expect(say(z.string().max(50), 'x'.repeat(51))).toBe('не длиннее 50 символов');
    expect(say(z.string().max(21), 'x'.repeat(22))).toBe('не длиннее 21 символа');
    expect(say(z.string().min(3), 'xy')).toBe('не короче 3 символов');
    expect(say(z.string().min(1), '')).toBe('не может быть пустым');
    expect(say(z.array(z.string()).max(2), ['a', 'b', 'c'])).toBe('не больше 2 элементов');
    expect(say(z.array(z.string()).min(1), [])).toBe('нужен хотя бы один элемент');
    expect(say(z.number().max(10), 11)).toBe('не больше 10');
    expect(say(z.number().int().min(1), 0)).toBe('не меньше 1');
  });

  it('names types in Russian, and a missing field as required', () => {
    expect(say(z.array(z.string()), 'строка')).toBe('ожидается список');
    expect(say(z.string(), 5)).toBe('ожидается строка');
    expect(say(z.object({ due: z.string() }), {})).toBe('обязательное поле');
  });

  it('lists the choices, names unknown fields and explains formats', () => {
    expect(say(z.enum(['protocol', 'letter']), 'memo')).toBe('допустимые значения: «protocol», «letter»');
    expect(say(z.strictObject({ a: z.string() }), { a: 'x', b: 1 })).toBe('лишнее поле: b');
    expect(say(z.email(), 'not-an-address')).toBe('адрес электронной почты, например name@example.ru');
    expect(say(z.union([z.string(), z.number()]), null)).toBe('не подходит ни под один из допустимых вариантов');
  });

  it('keeps a message a schema gives itself', () => {
    expect(say(z.string().min(5, 'текст рекомендации слишком короткий'), 'abc')).toBe('текст рекомендации слишком короткий');
  });

  it('never falls back to English or to zod\'s own Russian for the common checks', () => {
    const messages = [
      say(z.string().max(1), 'ab'),
      say(z.array(z.string()), 'x'),
      say(z.number(), 'x'),
      say(z.boolean(), 'x'),
      say(z.enum(['a']), 'b'),
      say(z.iso.datetime(), 'вчера'),
    ];
    for (const message of messages) expect(message).not.toMatch(/expected|received|string|Неверн|ожидалось/);
  });
});
