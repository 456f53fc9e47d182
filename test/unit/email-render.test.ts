import { TEMPLATE_NAMES, createEmailRenderer } from '../../notifications/render';

const renderer = createEmailRenderer({ timezone: 'Asia/Tomsk', authority: 'ОГБУ «РЦРО»' });
const data = {
  organization: 'Асиновский район',
  source: { kind: 'protocol' as const, number: '5', date: '2022-05-31' },
  text: 'Провести анализ вовлеченности <script>alert("x")</script> & результативности',
  due: '2022-09-30T16:59:59.999Z',
  period: '',
  link: 'http://127.0.0.1:3000/assignments/demo.asinovsky.1',
  comment: '',
  reason: '',
  until: '',
  approved: false,
  daysLeft: 0,
  daysOverdue: 0,
  step: 0,
  status: 'выдано',
};

describe('email rendering', () => {
  it('finds every template in templates/email', () => {
    expect(renderer.names().sort()).toEqual([...TEMPLATE_NAMES].sort());
  });

  it('names the event, the deadline as DD.MM.YYYY and the source document in the subject', () => {
    const { subject } = renderer.render('assignment-issued', data);
    expect(subject).toBe('Новое поручение: срок 30.09.2022 — протокол от 31.05.2022 № 5');
  });

  it('escapes user text in the HTML part and keeps it verbatim in the text part', () => {
    const { html, text } = renderer.render('assignment-issued', data);
    expect(html).not.toContain('<script>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; результативности');
    expect(text).toContain('<script>alert("x")</script> & результативности');
    expect(text).not.toContain('&amp;');
  });

  it('wraps both parts in the layout, with the link to the assignment', () => {
    const { html, text } = renderer.render('assignment-issued', data);
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain(`<a href="${data.link}">Открыть поручение</a>`);
    expect(text).toContain(`Открыть поручение: ${data.link}`);
    expect(text).toContain('ОГБУ «РЦРО» автоматически');
  });

  it('names a recurring recommendation’s cycle, and no cycle for a one-off one', () => {
    const yearly = renderer.render('assignment-issued', { ...data, period: '2024' });
    expect(yearly.text).toContain('Период: 2024\nСрок: 30.09.2022');
    expect(yearly.html).toContain('<td>2024</td>');
    expect(renderer.render('assignment-issued', data).text).not.toContain('Период');
  });

  it('carries the curator’s comment into a returned-evidence email', () => {
    const { subject, html, text } = renderer.render('evidence-returned', { ...data, comment: 'Нет приказа <b>№ 12</b>' });
    expect(subject).toMatch(/^Отчёт возвращён на доработку/);
    expect(html).toContain('Нет приказа &lt;b&gt;№ 12&lt;/b&gt;');
    expect(text).toContain('Нет приказа <b>№ 12</b>');
  });

  it('folds a subject to one line so no header can be injected', () => {
    const { subject } = renderer.render('assignment-issued', { ...data, source: { ...data.source, number: '5\r\nBcc: x@evil.test' } });
    expect(subject).not.toMatch(/[\r\n]/);
  });

  it.each([
    ['assignment-overdue', {}, /^Срок истёк 30\.09\.2022: протокол от 31\.05\.2022 № 5$/],
    ['evidence-submitted', { comment: 'Готово' }, /^Отчёт на проверку: Асиновский район — протокол/],
    ['evidence-accepted', {}, /^Отчёт принят: протокол/],
    ['extension-requested', { until: '2022-10-31T16:59:59.999Z', reason: 'Болезнь' }, /^Запрос на продление срока до 31\.10\.2022: Асиновский район/],
    ['extension-decided', { approved: true }, /^Срок продлён до 30\.09\.2022: протокол/],
    ['extension-decided', { approved: false, comment: 'Нет' }, /^В продлении срока отказано: протокол/],
    ['recommendation-withdrawn', { reason: 'Утратило актуальность' }, /^Рекомендация отозвана: протокол/],
    ['assignment-still-overdue', { step: 2, daysOverdue: 24 }, /^Всё ещё просрочено: срок 30\.09\.2022 — протокол от 31\.05\.2022 № 5$/],
    ['assignment-reminder', { daysLeft: 3 }, /^Напоминание: срок 30\.09\.2022 — протокол от 31\.05\.2022 № 5$/],
    ['assignment-escalated', { step: 2, daysOverdue: 11, status: 'выдано, просрочено' }, /^Эскалация: просрочено поручение — Асиновский район, срок 30\.09\.2022, протокол/],
  ] as const)('renders %s with a subject that names the event', (name, extra, subject) => {
    const email = renderer.render(name, { ...data, ...extra });
    expect(email.subject).toMatch(subject);
    expect(email.text).toContain('Срок: 30.09.2022');
    for (const value of Object.values(extra)) if (typeof value === 'string' && !value.includes('T')) expect(email.text).toContain(value);
  });

  it.each([
    [1, 'срока — 1 день:'],
    [3, 'срока — 3 дня:'],
    [14, 'срока — 14 дней:'],
    [21, 'срока — 21 день:'],
  ])('words a reminder with %i days left in proper Russian', (daysLeft, words) => {
    const { text } = renderer.render('assignment-reminder', { ...data, daysLeft });
    expect(text).toContain(words);
  });

  it('says "today" in a reminder on the deadline day', () => {
    expect(renderer.render('assignment-reminder', { ...data, daysLeft: 0 }).text).toContain('истекает сегодня');
  });

  it('tells the escalation step, the days late and the state', () => {
    const { text, html } = renderer.render('assignment-escalated', { ...data, step: 2, daysOverdue: 11, status: 'выдано, просрочено' });
    expect(text).toContain('прошло 11 дней');
    expect(text).toContain('Состояние: выдано, просрочено');
    expect(text).toContain('2-й шаг');
    expect(html).toContain('<strong>Асиновский район</strong>');
  });

  it('refuses to render with data missing a field the template uses', () => {
    const { link: _link, ...withoutLink } = data;
    expect(() => renderer.render('assignment-issued', withoutLink as never)).toThrow(/link/);
  });
});
