import type { Model, QueryFilter } from 'mongoose';

/** Whether a write failed on a unique index (MongoDB's and FerretDB's code 11000): someone wrote that key first. */
export function isDuplicateKey(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: number }).code === 11000;
}

/**
 * Inserts a document unless its key exists; a second insert of the key changes nothing. Says
 * whether this call inserted it. Mongoose's timestamps are left out: the caller's are kept.
 */
export async function insertOnce<T>(model: Model<T>, _id: string, doc: Record<string, unknown>): Promise<boolean> {
  try {
    const result = await model.updateOne({ _id } as QueryFilter<T>, { $setOnInsert: doc }, { upsert: true, timestamps: false });
    return result.upsertedCount === 1;
  } catch (error) {
    if (!isDuplicateKey(error)) throw error;
    return false;
  }
}
