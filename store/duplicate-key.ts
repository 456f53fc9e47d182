/** Whether a write failed on a unique index (MongoDB's and FerretDB's code 11000): someone wrote that key first. */
export function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: number }).code === 11000;
}
