/**
 * The sample data the admin previews are rendered with: one per template, complete for strict
 * rendering, and safe — any text a person typed reaches the HTML part escaped.
 */
import { TEMPLATE_NAMES, createEmailRenderer, type TemplateName } from '../../notifications/render';
import { emailSamples, renderSample } from '../../notifications/samples';

const BASE_URL = 'https://kontrol.example.test';
const renderer = createEmailRenderer({ timezone: 'Asia/Tomsk', authority: 'ОГБУ «Региональный центр развития образования»' });
const samples = emailSamples(BASE_URL);
const CYRILLIC = /[А-Яа-яЁё]/;

/** Replaces every non-empty string in the data (dates aside) with markup naming its path. */
function withMarkup(value: unknown, path: string, markers: string[]): unknown {
  if (typeof value === 'string') {
    if (value === '' || /^\d{4}-\d{2}-\d{2}/.test(value)) return value;
    const marker = `<script>alert("${path}")</script>&amp;`;
    markers.push(marker);
    return marker;
  }
  if (Array.isArray(value)) return value.map((item, i) => withMarkup(item, `${path}.${i}`, markers));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, withMarkup(item, path ? `${path}.${key}` : key, markers)]));
  return value;
}

const escapeHtml = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

describe('email samples', () => {
  it('exist for every template and nothing else', () => {
    expect(Object.keys(samples).sort()).toEqual([...TEMPLATE_NAMES].sort());
  });

  it.each(TEMPLATE_NAMES)('render %s in strict mode into a Russian subject, an HTML page and a text part', (name) => {
    const email = renderSample(renderer, name, BASE_URL);
    expect(email.subject).toMatch(CYRILLIC);
    expect(email.subject).not.toMatch(/[\r\n]|undefined|Invalid/);
    expect(email.html).toMatch(/^<!doctype html>/);
    // Every email leads somewhere: the assignment, the curator's list, or the administrator's log.
    expect(samples[name].data.link).toMatch(new RegExp(`^${BASE_URL}/(assignments|admin/outbox)`));
    expect(email.html).toContain(samples[name].data.link);
    expect(email.text).toContain(samples[name].data.link);
    for (const part of [email.html, email.text]) expect(part).not.toMatch(/undefined|Invalid DateTime|NaN|\[object Object\]/);
    expect(samples[name].description).toMatch(CYRILLIC);
    expect(samples[name].description).toMatch(/Получа/);
  });

  it.each(TEMPLATE_NAMES)('escape every text a person typed in the HTML part of %s and keep it verbatim in the text part', (name: TemplateName) => {
    const markers: string[] = [];
    const data = withMarkup(samples[name].data, '', markers) as never;
    const email = renderer.render(name, data);
    expect(email.html).not.toContain('<script>');
    const shown = markers.filter((marker) => email.text.includes(marker));
    // The organisation or the curator, and the recommendation's text or its source, are in every email.
    expect(shown.length).toBeGreaterThanOrEqual(2);
    for (const marker of shown) expect(email.html).toContain(escapeHtml(marker));
  });
});
