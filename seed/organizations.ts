/**
 * Reference data: the issuing authority, the Department and the 20 municipal formations of Tomsk
 * Oblast (4 urban okrugs, 16 districts), as addressed in the authority's letters.
 */
import type { Organization } from '../store/models';

/** "Руководителям органов местного самоуправления, осуществляющих управление в сфере образования". */
export const MUNICIPAL_AUTHORITIES_GROUP = 'municipal-education-authorities';
export const RVCI_GROUP = 'rvci';

/** The groups as data an administrator then keeps: how letters name them, for the protocol import. */
export const GROUPS: Array<{ code: string; name: string; phrases: string[] }> = [
  {
    code: MUNICIPAL_AUTHORITIES_GROUP,
    name: 'Органы местного самоуправления, осуществляющие управление в сфере образования',
    phrases: [
      'органов местного самоуправления, осуществляющих управление в сфере образования',
      'муниципальных органов управления образованием',
      'муниципальные координаторы',
    ],
  },
  {
    code: RVCI_GROUP,
    name: 'Ресурсно-внедренческие центры инноваций (РВЦИ)',
    phrases: ['ресурсно-внедренческих центров инноваций', 'РВЦИ'],
  },
];

export const MUNICIPALITIES: Array<{ code: string; name: string }> = [
  { code: 'tomsk', name: 'Город Томск' },
  { code: 'seversk', name: 'ЗАТО Северск' },
  { code: 'strezhevoy', name: 'Городской округ Стрежевой' },
  { code: 'kedrovy', name: 'Город Кедровый' },
  { code: 'aleksandrovsky', name: 'Александровский район' },
  { code: 'asinovsky', name: 'Асиновский район' },
  { code: 'bakcharsky', name: 'Бакчарский район' },
  { code: 'verkhneketsky', name: 'Верхнекетский район' },
  { code: 'zyryansky', name: 'Зырянский район' },
  { code: 'kargasoksky', name: 'Каргасокский район' },
  { code: 'kozhevnikovsky', name: 'Кожевниковский район' },
  { code: 'kolpashevsky', name: 'Колпашевский район' },
  { code: 'krivosheinsky', name: 'Кривошеинский район' },
  { code: 'molchanovsky', name: 'Молчановский район' },
  { code: 'parabelsky', name: 'Парабельский район' },
  { code: 'pervomaysky', name: 'Первомайский район' },
  { code: 'teguldetsky', name: 'Тегульдетский район' },
  { code: 'tomsky', name: 'Томский район' },
  { code: 'chainsky', name: 'Чаинский район' },
  { code: 'shegarsky', name: 'Шегарский район' },
];

export const AUTHORITY: Pick<Organization, '_id' | 'name' | 'kind'> = {
  _id: 'rcro',
  name: 'ОГБУ «Региональный центр развития образования»',
  kind: 'authority',
};

export const DEPARTMENT: Pick<Organization, '_id' | 'name' | 'kind'> = {
  _id: 'doo',
  name: 'Департамент общего образования Томской области',
  kind: 'department',
};
