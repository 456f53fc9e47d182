import type { Model, QueryFilter, mongo } from 'mongoose';

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

interface WriteErrorLike {
  index?: number;
  code?: number;
  err?: { code?: number; index?: number };
}

/** The per-document errors of an unordered bulk write: one or more, or none when it was not one. */
function writeErrorsOf(error: unknown): WriteErrorLike[] {
  const errors = (error as { writeErrors?: WriteErrorLike | WriteErrorLike[] } | null)?.writeErrors;
  return Array.isArray(errors) ? errors : errors ? [errors] : [];
}

/** Whether a bulk write failed only on unique indexes: the documents refused were there already. */
export function isBulkOfDuplicates(error: unknown): boolean {
  const errors = writeErrorsOf(error);
  return errors.length > 0 && errors.every((e) => (e.code ?? e.err?.code) === 11000);
}

/**
 * Inserts, in one unordered command, each document whose key is not taken, as given (no casting,
 * no timestamps: the caller's are kept). Returns the keys it inserted; a taken key stops no other.
 */
export async function insertNew<T extends { _id: string }>(model: Model<T>, docs: Array<{ _id: string } & Record<string, unknown>>): Promise<Set<string>> {
  if (docs.length === 0) return new Set();
  try {
    // The driver's collection types its _id as an ObjectId; ours are strings.
    const collection = model.collection as unknown as mongo.Collection<{ _id: string }>;
    await collection.insertMany(docs, { ordered: false });
    return new Set(docs.map((d) => d._id));
  } catch (error) {
    if (!isBulkOfDuplicates(error)) throw error;
    const refused = new Set(writeErrorsOf(error).map((e) => e.index ?? e.err?.index));
    if (refused.has(undefined)) {
      // Which ones is not said: find out one by one (insertOnce inserts none twice).
      const inserted = new Set<string>();
      for (const { _id, ...doc } of docs) if (await insertOnce(model, _id, doc)) inserted.add(_id);
      return inserted;
    }
    return new Set(docs.filter((_, i) => !refused.has(i)).map((d) => d._id));
  }
}
