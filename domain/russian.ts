/**
 * Russian as the product writes it: plural forms and the order of names. One place for both, so
 * every page, email and message agrees (see GLOSSARY.md for the words themselves).
 */

/** The form of a noun for a count: pluralRu(21, ['адресат', 'адресата', 'адресатов']) → 'адресат'. */
export function pluralRu(n: number, forms: [one: string, few: string, many: string]): string {
  const rule = new Intl.PluralRules('ru').select(n);
  return rule === 'one' ? forms[0] : rule === 'few' ? forms[1] : forms[2];
}

let collator: Intl.Collator | undefined;

/**
 * Compares two names in Russian alphabetical order: ё with е, case aside, numbers by value
 * («Школа № 2» before «Школа № 10»), Latin after Cyrillic as the locale has it.
 */
export function compareRu(a: string, b: string): number {
  collator ??= new Intl.Collator('ru', { sensitivity: 'base', numeric: true });
  return collator.compare(a, b);
}

/** A copy of the list in Russian alphabetical order of its names; equal names keep their order. */
export function byNameRu<T>(list: readonly T[], nameOf: (item: T) => string): T[] {
  return list.map((item, i) => ({ item, i, name: nameOf(item) })).sort((a, b) => compareRu(a.name, b.name) || a.i - b.i).map(({ item }) => item);
}
