import { readFileSync } from 'node:fs';
import path from 'node:path';
import { createCalendar } from '../../domain/calendar';
import { readProtocol } from '../../domain/protocol-reader';
import { GROUPS } from '../../seed/organizations';

const groups = [
  ...GROUPS.map((g) => ({ code: g.code, phrases: [g.name, ...g.phrases] })),
  { code: 'gifted-centers', phrases: ['межмуниципальных центров по работе с одаренными детьми'] },
];
const read = (text: string, today = '2024-03-01') => readProtocol(text, { calendar: createCalendar(), timezone: 'Asia/Tomsk', rule: 'previous', groups, today });
const letters = path.resolve(__dirname, '../fixtures/letters');

describe('protocol reader: items', () => {
  it.each([
    ['•', '• первый пункт (срок – май 2024 г.);\n• второй пункт (срок – июнь 2024 г.).'],
    ['-', '- первый пункт (срок – май 2024 г.);\n- второй пункт (срок – июнь 2024 г.).'],
    ['1.', '1. первый пункт (срок – май 2024 г.);\n2. второй пункт (срок – июнь 2024 г.).'],
    ['1)', '1) первый пункт (срок – май 2024 г.);\n2) второй пункт (срок – июнь 2024 г.).'],
    ['·', '· первый пункт (срок – май 2024 г.);\n· второй пункт (срок – июнь 2024 г.).'],
  ])('splits a list bulleted with «%s»', (_bullet, text) => {
    const drafts = read(`Рекомендовано:\n${text}\nДиректор                Н.П. Лыжина`);
    expect(drafts.items.map((i) => [i.text, i.deadline.kind === 'date' ? i.deadline.nominal : i.deadline.kind])).toEqual([
      ['Первый пункт (срок – май 2024 г.).', '2024-05-31'],
      ['Второй пункт (срок – июнь 2024 г.).', '2024-06-30'],
    ]);
  });

  it('joins a wrapped line to its item, and never the signature', () => {
    const drafts = read('1. обеспечить участие педагогов\nв курсах повышения квалификации\n(срок: IV кв. 2024);\n2. представить отчёт (срок: до 15.01.2025).\nДиректор');
    expect(drafts.items.map((i) => i.original)).toEqual([
      'обеспечить участие педагогов в курсах повышения квалификации (срок: IV кв. 2024);',
      'представить отчёт (срок: до 15.01.2025).',
    ]);
  });

  it('says what an item lacks instead of guessing', () => {
    const drafts = read('· вести мониторинг (постоянно);\n· принять меры (в установленные сроки).');
    expect(drafts.items.map((i) => i.problems)).toEqual([
      ['Срок «постоянно»: у поручения нет даты — укажите срок или не выдавайте пункт', 'Адресаты не определены — выберите группу или организации'],
      ['Срок не распознан — укажите его', 'Адресаты не определены — выберите группу или организации'],
    ]);
  });
});

describe('protocol reader: addressees', () => {
  it('takes the group an item opens with, not one it merely mentions', () => {
    const drafts = read(
      '· руководителям органов местного самоуправления, осуществляющих управление в сфере образования, обеспечить работу (срок – май 2024 г.);\n' +
        '· провести обновление сети межмуниципальных центров по работе с одаренными детьми (срок – июнь 2024 г.).',
    );
    expect(drafts.items.map((i) => [i.addressees.groups, i.addressees.from])).toEqual([
      [['municipal-education-authorities'], 'item'],
      [[], 'none'],
    ]);
    expect(drafts.items[0].text).toBe('Обеспечить работу (срок – май 2024 г.).');
  });

  it('gives the header’s groups to items that name none', () => {
    const drafts = read('Руководителям ресурсно-внедренческих центров инноваций\n\n12.02.2024 № 101\nО плане\nУважаемые коллеги!\n· представить план (срок – март 2024 г.).');
    expect(drafts.items[0].addressees).toEqual({ groups: ['rvci'], from: 'header', words: 'ресурсно-внедренческих центров инноваций' });
  });
});

describe('protocol reader: the source document', () => {
  it('reads a letter’s own date and number, and the protocol its items come from', () => {
    const drafts = read(readFileSync(path.join(letters, '000_f5c9a93b07d8db0d.txt'), 'utf8'));
    expect(drafts.reference).toBe('2022-08-26');
    expect(drafts.source).toMatchObject({ kind: 'protocol', number: '5', date: '2022-05-31' });
    expect(drafts.documents[0]).toMatchObject({ kind: 'letter', number: '766', date: '2022-08-26' });
    expect(drafts.documents[0].title).toMatch(/^Об итогах онлайн – часа/);
  });

  it('reads a letter referred to in the text', () => {
    const drafts = read('Во исполнение письма Департамента от 26.08.2022 № 766 рекомендовано:\n· провести совещание (срок – до 30.09.2022).');
    expect(drafts.documents).toEqual([expect.objectContaining({ kind: 'letter', number: '766', date: '2022-08-26' })]);
    expect(drafts.source).toMatchObject({ kind: 'letter', number: '766' });
    expect(drafts.reference).toBe('2022-08-26');
  });

  it('leaves the source empty when the text names none, and reads phrases without a year against today', () => {
    const drafts = read('· провести совещание (срок – до 1 июня).', '2024-03-01');
    expect(drafts.source).toBeNull();
    expect(drafts.items[0].deadline).toMatchObject({ kind: 'date', nominal: '2024-06-01' });
  });

  it('ignores an impossible date in requisites', () => {
    const drafts = read('протокол совещания от 31.02.2022 № 5\n· провести совещание (срок – до 30.09.2022).');
    expect(drafts.documents).toEqual([]);
  });
});
