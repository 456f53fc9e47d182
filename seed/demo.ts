/**
 * Demo data for `npm start`: the reference organisations with demo contacts, a user of each role,
 * and the recommendations of the two letters in shared/seeds, issued. Idempotent: running it again
 * changes nothing that exists.
 */
import type { ActorRef } from '../domain/assignment';
import type { Role } from '../domain/roles';
import type { Logger } from '../config/logger';
import type { RecommendationService, NewRecommendation } from '../api/recommendations/service';
import { createUser } from '../api/users/router';
import type { Organization } from '../store/models';
import type { Repositories } from '../store/repositories';
import { AUTHORITY, DEPARTMENT, GROUPS, MUNICIPALITIES, MUNICIPAL_AUTHORITIES_GROUP, RVCI_GROUP } from './organizations';

export const DEMO_DOMAIN = 'demo.kontrol.test';

const contact = (role: string, code: string) => `${role}.${code}@${DEMO_DOMAIN}`;

function demoOrganizations(): Organization[] {
  const municipal = MUNICIPALITIES.map(({ code, name }) => ({
    _id: code,
    name,
    kind: 'municipality' as const,
    groups: [MUNICIPAL_AUTHORITIES_GROUP],
    contacts: { coordinator: [contact('coordinator', code)], head: [contact('head', code)] },
  }));
  return [
    { ...AUTHORITY, groups: [], contacts: { coordinator: [contact('curator', 'rcro')], head: [contact('head', 'rcro')] } },
    { ...DEPARTMENT, groups: [], contacts: { coordinator: [contact('observer', 'doo')], head: [contact('head', 'doo')] } },
    ...municipal,
    {
      _id: 'gumlicey-tomsk',
      name: 'МАОУ Гуманитарный лицей г. Томска (РВЦИ)',
      kind: 'rvci',
      groups: [RVCI_GROUP],
      contacts: { coordinator: [contact('coordinator', 'gumlicey-tomsk')], head: [contact('head', 'gumlicey-tomsk')] },
    },
  ];
}

export const DEMO_USERS: Array<{ email: string; name: string; role: Role; organization?: string }> = [
  { email: `curator@${DEMO_DOMAIN}`, name: 'Куратор РЦРО (демо)', role: 'curator', organization: 'rcro' },
  { email: `observer@${DEMO_DOMAIN}`, name: 'Наблюдатель Департамента (демо)', role: 'observer', organization: 'doo' },
  { email: `executor.tomsk@${DEMO_DOMAIN}`, name: 'Координатор г. Томска (демо)', role: 'executor', organization: 'tomsk' },
  { email: `executor.seversk@${DEMO_DOMAIN}`, name: 'Координатор ЗАТО Северск (демо)', role: 'executor', organization: 'seversk' },
  { email: `executor.asinovsky@${DEMO_DOMAIN}`, name: 'Координатор Асиновского района (демо)', role: 'executor', organization: 'asinovsky' },
  { email: `executor.gumlicey@${DEMO_DOMAIN}`, name: 'Координатор РВЦИ Гуманитарного лицея (демо)', role: 'executor', organization: 'gumlicey-tomsk' },
];

const municipalities = MUNICIPALITIES.map((m) => m.code);
const protocol5 = {
  kind: 'protocol' as const,
  number: '5',
  date: '2022-05-31',
  issuer: 'Коллегия Департамента общего образования Томской области',
  title: 'Протокол заседания Коллегии Департамента общего образования Томской области (доведён письмом ОГБУ «РЦРО» от 26.08.2022 № 766)',
};

/** The items of the seed letters, with the deadlines they state. Ids are fixed so seeding is idempotent. */
export const DEMO_RECOMMENDATIONS: Array<{ id: string; input: NewRecommendation }> = [
  {
    id: 'demo-p5-2022-1',
    input: {
      source: protocol5,
      text:
        'Провести анализ вовлеченности и результативности участия обучающихся образовательных организаций муниципальных образований в высокорейтинговых мероприятиях (Перечни Минпросвещения России, Минобрнауки России), региональных мероприятиях, утвержденных Департаментом общего образования Томской области, принять управленческие решения по достижению положительной динамики (срок – сентябрь 2022 г.)',
      assignees: municipalities,
      deadline: { due: '2022-09-30' },
    },
  },
  {
    id: 'demo-p5-2022-2',
    input: {
      source: protocol5,
      text:
        'Сформировать муниципальные педагогические команды учителей-предметников, обеспечить на системной основе их повышение квалификации по программам подготовки обучающихся к олимпиадам повышенного уровня (срок: сентябрь 2023 г., далее – ежегодно)',
      assignees: municipalities,
      deadline: { due: '2023-09-30', recurrence: { frequency: 'yearly' } },
    },
  },
  {
    id: 'demo-p5-2022-3',
    input: {
      source: protocol5,
      text: 'Провести обновление сети межмуниципальных центров по работе с одаренными детьми под актуальные задачи (срок: ноябрь 2023 г.)',
      assignees: municipalities,
      deadline: { due: '2023-11-30' },
    },
  },
  {
    id: 'demo-l941-2020-1',
    input: {
      source: { kind: 'letter', number: '941', date: '2020-09-25', title: 'Об итогах проведения вебинара' },
      text:
        'Внести изменения и уточнения в технические задания РВЦИ по проведению открытых образовательных событий для педагогов и обучающихся в соответствии с новыми задачами региональной сети РВЦИ на октябрь-декабрь 2020 г. (до 05 октября 2020 г.)',
      assignees: ['gumlicey-tomsk'],
      deadline: { due: '2020-10-05' },
    },
  },
];

export async function seedDemoData({
  repos,
  recommendations,
  password,
  logger,
}: {
  repos: Repositories;
  recommendations: RecommendationService;
  password: string;
  logger: Logger;
}): Promise<void> {
  for (const org of demoOrganizations()) await repos.organizations.create(org);
  const seeder: ActorRef = { id: 'demo-seed', email: `seed@${DEMO_DOMAIN}`, role: 'admin' };
  for (const group of GROUPS) {
    // Only when missing: an administrator's later edits are theirs.
    if (!(await repos.groups.get(group.code)))
      await repos.groups.put(group.code, { name: group.name, phrases: group.phrases }, seeder);
  }
  for (const user of DEMO_USERS) {
    if (!(await repos.users.findByEmail(user.email))) await createUser(repos, { ...user, password });
  }
  const issuer = (await repos.users.findByEmail(DEMO_USERS[0].email))!;
  const actor: ActorRef = { id: issuer._id, email: issuer.email, role: issuer.role };
  for (const { id, input } of DEMO_RECOMMENDATIONS) {
    if (!(await repos.recommendations.get(id))) await recommendations.create(input, actor, { id });
    const rec = await repos.recommendations.get(id);
    if (rec?.status !== 'withdrawn') await recommendations.issue(id, actor);
  }
  logger.info({ organizations: demoOrganizations().length, users: DEMO_USERS.length, recommendations: DEMO_RECOMMENDATIONS.length }, 'demo data ready');
}
