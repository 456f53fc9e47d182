/**
 * Sample data for every email template, taken from the letters Kontrol started from, with what each
 * email is for and who gets it. The admin previews and the tests render from here, so a new template
 * is added in one place, and a template without a sample fails the typecheck.
 */
import type { AssignmentEmailData, DigestItem, EmailRenderer, RenderedEmail, TemplateData, TemplateName } from './render';

export interface TemplateSample<N extends TemplateName = TemplateName> {
  /** What event sends the email and who receives it, for the administrator. */
  description: string;
  data: TemplateData<N>;
}

/** One sample per template, each with the data its template takes: a missing one fails the typecheck. */
export type TemplateSamples = { [N in TemplateName]: TemplateSample<N> };

/** The end of September 2022 in Asia/Tomsk, as a deadline written «срок – сентябрь 2022 г.» is stored. */
const SEPTEMBER_2022 = '2022-09-30T16:59:59.999Z';

/** Item 1 of the collegium protocol, as quoted in the RCRO letter of 26.08.2022 № 766. */
const PROTOCOL_ITEM: Omit<AssignmentEmailData, 'link'> = {
  organization: 'Управление образования Администрации Асиновского района',
  source: { kind: 'protocol', number: '5', date: '2022-05-31', issuer: 'Департамент общего образования Томской области' },
  text:
    'Провести анализ вовлеченности и результативности участия обучающихся образовательных организаций ' +
    'муниципальных образований в высокорейтинговых мероприятиях (Перечни Минпросвещения России, ' +
    'Минобрнауки России), региональных мероприятиях, утвержденных Департаментом общего образования ' +
    'Томской области, принять управленческие решения по достижению положительной динамики.',
  due: SEPTEMBER_2022,
  period: '',
  comment: '',
  reason: '',
  until: '',
  approved: false,
  daysLeft: 0,
  daysOverdue: 0,
  step: 0,
  status: 'выдано',
};

/** Item 2 of the same list, entered from the letter itself: the recurring one («срок: сентябрь 2023 г., далее – ежегодно»). */
const LETTER_ITEM: Omit<AssignmentEmailData, 'link'> = {
  ...PROTOCOL_ITEM,
  organization: 'Управление образования Администрации Колпашевского района',
  source: { kind: 'letter', number: '766', date: '2022-08-26', issuer: 'ОГБУ «Региональный центр развития образования»' },
  text:
    'Сформировать муниципальные педагогические команды учителей-предметников, обеспечить на системной ' +
    'основе их повышение квалификации по программам подготовки обучающихся к олимпиадам повышенного уровня.',
  due: '2023-09-30T16:59:59.999Z',
};

/** The samples with links into the Kontrol at baseUrl, so a preview's links lead somewhere real. */
export function emailSamples(baseUrl: string): TemplateSamples {
  const protocol = { ...PROTOCOL_ITEM, link: `${baseUrl}/assignments/kollegiya-5-p1.asinovsky.1` };
  const letter = { ...LETTER_ITEM, link: `${baseUrl}/assignments/rcro-766-p2.kolpashevsky.1` };
  return {
    'assignment-issued': {
      description: 'Рекомендация выдана организации. Получают муниципальные координаторы организации-исполнителя.',
      data: letter,
    },
    'assignment-reminder': {
      description:
        'Напоминание о приближении срока по графику напоминаний рекомендации. Получают координаторы организации-исполнителя, пока отчёт не принят.',
      data: { ...protocol, daysLeft: 3 },
    },
    'assignment-overdue': {
      description: 'Срок истёк, а отчёт не принят. Получают координаторы организации-исполнителя.',
      data: protocol,
    },
    'assignment-escalated': {
      description:
        'Шаг эскалации после срока, пока поручение не исполнено. Получают адресаты шага по политике уведомлений: руководитель организации, затем наблюдатели Департамента общего образования.',
      data: { ...protocol, daysOverdue: 5, step: 1, status: 'выдано, просрочено' },
    },
    'assignment-still-overdue': {
      description:
        'Повторное напоминание после всех шагов эскалации, пока поручение остаётся просроченным (по политике: раз в 5 рабочих дней, не больше 12 раз). Получают муниципальные координаторы организации-исполнителя.',
      data: { ...protocol, daysOverdue: 24, step: 2, status: 'возвращено на доработку, просрочено' },
    },
    'evidence-submitted': {
      description: 'Организация отправила отчёт об исполнении. Получает куратор РЦРО, выдавший рекомендацию.',
      data: {
        ...protocol,
        comment: 'Анализ проведён; аналитическая справка и приказ Управления образования от 28.09.2022 № 312 «О мерах по повышению результативности» прилагаются.',
        status: 'на проверке',
      },
    },
    'evidence-accepted': {
      description: 'Куратор принял отчёт, поручение закрыто. Получают координаторы организации-исполнителя.',
      data: { ...protocol, status: 'принято' },
    },
    'evidence-returned': {
      description: 'Куратор вернул отчёт на доработку с комментарием. Получают координаторы организации-исполнителя.',
      data: {
        ...protocol,
        comment: 'В справке нет данных о региональных мероприятиях 2021/22 учебного года. Дополните и приложите приказ о принятых управленческих решениях.',
        status: 'возвращено на доработку',
      },
    },
    'extension-requested': {
      description: 'Организация просит продлить срок. Получает куратор РЦРО, выдавший рекомендацию.',
      data: {
        ...protocol,
        until: '2022-10-31T16:59:59.999Z',
        reason: 'Итоги регионального этапа олимпиады будут утверждены Департаментом только 20.10.2022, без них анализ неполон.',
      },
    },
    'extension-decided': {
      description: 'Куратор продлил срок или отказал в продлении. Получают координаторы организации-исполнителя.',
      data: {
        ...protocol,
        due: '2022-10-31T16:59:59.999Z',
        approved: true,
        comment: 'Срок продлён до утверждения итогов регионального этапа.',
      },
    },
    'recommendation-withdrawn': {
      description: 'Рекомендация отозвана, исполнять её больше не нужно. Получают координаторы организаций-адресатов.',
      data: {
        ...letter,
        reason: 'Пункт включён в план мероприятий Томского регионального центра выявления и поддержки одарённых детей на 2023 год.',
        status: 'отозвано',
      },
    },
    'curator-digest': {
      description:
        'Еженедельная сводка куратору по его рекомендациям: что ждёт проверки, что просрочено, у чего срок на этой неделе. Получает каждый куратор РЦРО.',
      data: {
        curator: 'Сафонова Вера Прокопьевна',
        weekStart: '2022-10-02T17:00:00.000Z',
        weekEnd: '2022-10-09T16:59:59.999Z',
        review: [digestItem('Управление образования Администрации Колпашевского района', 'kollegiya-5-p1.kolpashevsky.1')],
        overdue: [
          digestItem('Управление образования Администрации Асиновского района', 'kollegiya-5-p1.asinovsky.1'),
          digestItem('Отдел образования Администрации Тегульдетского района', 'kollegiya-5-p1.teguldetsky.1'),
        ],
        // Its deadline was extended to the Friday of this week.
        dueSoon: [{ ...digestItem('Отдел образования Администрации Шегарского района', 'kollegiya-5-p1.shegarsky.1'), due: '2022-10-07T16:59:59.999Z' }],
        counts: { review: 1, overdue: 4, dueSoon: 1 },
        link: `${baseUrl}/assignments`,
        missed: [],
      },
    },
    'digest-missed': {
      description:
        'Еженедельная сводка кураторам не ушла: рассылка не уложилась в свой срок или сервис не работал в день рассылки. Получают администраторы.',
      data: {
        weeks: [{ weekStart: '2022-09-25T17:00:00.000Z', weekEnd: '2022-10-02T16:59:59.999Z' }],
        reason: 'Рассылка не уложилась в отведённое ей время. Последняя ошибка: connect ECONNREFUSED 127.0.0.1:27017',
        sent: 2,
        curators: 5,
        link: `${baseUrl}/admin/outbox`,
      },
    },
  };

  function digestItem(organization: string, assignmentId: string): DigestItem {
    const { source, text, due } = PROTOCOL_ITEM;
    return { organization, source, text, due, link: `${baseUrl}/assignments/${assignmentId}` };
  }
}

/** One template rendered with its sample. */
export function renderSample<N extends TemplateName>(renderer: EmailRenderer, name: N, baseUrl: string): RenderedEmail {
  const sample: TemplateSample<N> = emailSamples(baseUrl)[name];
  return renderer.render(name, sample.data);
}
