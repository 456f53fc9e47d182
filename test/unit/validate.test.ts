/**
 * The API's shared input rules: each one says in the OpenAPI document what it accepts, so the
 * checks here pair what validation accepts with what the pattern in the document admits.
 */
import { z } from 'zod';
import { ApiDocs } from '../../api/openapi';
import { durationPattern, OffsetSchema, PolicySchema } from '../../api/policy/schema';
import { deadlineInput, isoDate, pagination, text, withoutNul } from '../../api/validate';
import { offsetProblem } from '../../domain/policy';

describe('isoDate', () => {
  it.each([
    ['2024-02-29', true],
    ['1900-01-01', true],
    ['2023-02-29', false],
    ['2024-04-31', false],
    ['0000-00-00', false],
    ['1899-12-31', false],
    ['2024-1-01', false],
  ])('%s → %s', (value, ok) => {
    expect(isoDate.safeParse(value).success).toBe(ok);
  });
});

describe('deadlineInput', () => {
  const due = deadlineInput('срок');
  it.each([
    ['2024-01-31', true],
    ['2024-01-31T10:00:00Z', true],
    ['2024-01-31T10:00:00.250+07:00', true],
    ['2100-12-31', true],
    ['2101-01-01', false],
    ['2024-01-31T10:00Z', false],
    ['2023-02-30T10:00:00+07:00', false],
    ['2024-01-31T10:00:00', false],
  ])('%s → %s', (value, ok) => {
    expect(due.safeParse(value).success).toBe(ok);
  });

  it('states both forms in the document, each with its pattern', () => {
    const schema = z.toJSONSchema(due) as { anyOf: { format: string; pattern: string }[] };
    expect(schema.anyOf.map((s) => s.format)).toEqual(['date', 'date-time']);
    for (const { pattern } of schema.anyOf) expect(new RegExp(pattern).test('2101-01-01')).toBe(false);
  });
});

describe('text', () => {
  it('counts the characters left after trimming, as its pattern does', () => {
    const reason = text({ min: 3, max: 20 });
    const pattern = new RegExp((z.toJSONSchema(reason) as { pattern: string }).pattern);
    for (const [value, ok] of [
      ['abc', true],
      ['  a b  ', true],
      ['  ab  ', false],
      ['   ', false],
    ] as const) {
      expect(reason.safeParse(value).success).toBe(ok);
      expect(pattern.test(value)).toBe(ok);
    }
    expect(reason.parse('  причина  ')).toBe('причина');
  });

  it('takes any non-blank text for a minimum of one', () => {
    const code = text({ min: 1, max: 64 });
    expect(code.safeParse('municipal-education-authorities').success).toBe(true);
    expect(code.safeParse(' \t ').success).toBe(false);
  });
});

describe('pagination', () => {
  const query = z.strictObject(pagination);
  it('reads digits only, within the bounds', () => {
    expect(query.parse({ offset: '20', limit: '5' })).toEqual({ offset: 20, limit: 5 });
    expect(query.parse({})).toEqual({ offset: 0, limit: 50 });
    for (const offset of ['', '1e3', '-1', '9999999999999999999']) expect(query.safeParse({ offset }).success).toBe(false);
  });
});

describe('withoutNul', () => {
  it('replaces NUL everywhere in a body, keys included, and keeps the lengths', () => {
    const body = withoutNul({ name: 'a\u0000b', list: ['\u0000'], nested: { 'k\u0000': 1 } });
    expect(body).toEqual({ name: 'a\uFFFDb', list: ['\uFFFD'], nested: { 'k\uFFFD': 1 } });
  });
});

describe('offsets', () => {
  const candidates = [
    ...[0, 1, 9, 10, 99, 100, 299, 300, 359, 360, 366, 367, 999].map((n) => `P${n}D`),
    ...[0, 1, 52, 53].map((n) => `P${n}W`),
    ...[0, 1, 12, 13].map((n) => `P${n}M`),
    ...[0, 1, 2].map((n) => `P${n}Y`),
    ...['PT0H', 'PT999H', 'PT1000H', 'PT99999M', 'PT100000M', 'PT5S', 'PT9999999S', 'PT10000000S', 'P1DT12H', 'P', 'PT', 'P03D'],
  ];

  it('admits by pattern only what the domain takes', () => {
    const pattern = durationPattern({ nonZero: false });
    for (const value of candidates) {
      if (pattern.test(value)) expect([value, offsetProblem(value)]).toEqual([value, undefined]);
    }
    expect(candidates.filter((v) => pattern.test(v))).toEqual(expect.arrayContaining(['P366D', 'P52W', 'P12M', 'P1Y', 'PT999H', 'PT9999999S']));
    expect(OffsetSchema.safeParse('P367D').success).toBe(false);
  });

  it('refuses a zero interval between repeats by pattern', () => {
    expect(PolicySchema.safeParse({ repeat: { every: 'P0D', to: 'head', times: 2 } }).success).toBe(false);
    expect(PolicySchema.safeParse({ repeat: { every: { workingDays: 0 }, to: 'head', times: 2 } }).success).toBe(false);
    expect(PolicySchema.safeParse({ repeat: { every: 'P7D', to: 'head', times: 2 } }).success).toBe(true);
  });
});

describe('ApiDocs.methodsFor', () => {
  it('prefers a path without parameters over a templated one it also fits', () => {
    const docs = new ApiDocs();
    docs.route('get', '/api/imports/:id', { summary: 's', tag: 't' });
    docs.route('post', '/api/imports/protocol', { summary: 's', tag: 't' });
    expect(docs.methodsFor('/api/imports/protocol')).toEqual(['OPTIONS', 'POST']);
    expect(docs.methodsFor('/api/imports/abc123456')).toEqual(['GET', 'HEAD', 'OPTIONS']);
    expect(docs.methodsFor('/api/nothing')).toBeUndefined();
  });

  it('marks a body required unless an empty one is valid', () => {
    const docs = new ApiDocs();
    docs.route('post', '/api/a', { summary: 's', tag: 't', body: z.strictObject({ reason: z.string() }) });
    docs.route('post', '/api/b', { summary: 's', tag: 't', body: z.strictObject({ reason: z.string().optional() }) });
    const paths = docs.document().paths as Record<string, { post: { requestBody: { required: boolean } } }>;
    expect(paths['/api/a'].post.requestBody.required).toBe(true);
    expect(paths['/api/b'].post.requestBody.required).toBe(false);
  });
});
