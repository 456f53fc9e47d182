/**
 * The MongoDB collections: the registry (organisations, users, source documents, recommendations),
 * the assignment read model, evidence metadata and the audit trail. Plain interfaces, lean reads.
 * Kept within what FerretDB also supports: CRUD, indexes (unique too), simple aggregation.
 */
import { Schema, type Connection } from 'mongoose';
import type { AssignmentStatus, ActorRef, ExtensionRequest } from '../domain/assignment';
import type { Recurrence } from '../domain/cycles';
import type { NotificationPolicy } from '../domain/policy';
import type { Role } from '../domain/roles';
import { digestRunSchema, type DigestRun } from './digest-runs';
import { registerOutboxModels } from './outbox';
export type { OutboxEmail, OutboxStatus, OutboxSummary } from './outbox';
import { loginAttemptSchema, type LoginAttempt } from './login-attempts';
import { idempotentRequestSchema, type IdempotentRequest } from './idempotency';

export const ORGANIZATION_KINDS = ['authority', 'department', 'municipality', 'regional', 'center', 'rvci', 'other'] as const;
export type OrganizationKind = (typeof ORGANIZATION_KINDS)[number];

export interface Organization {
  _id: string; // the organisation code
  name: string;
  kind: OrganizationKind;
  groups: string[];
  contacts: { coordinator: string[]; head: string[] };
  createdAt?: Date;
  updatedAt?: Date;
}

export interface User {
  _id: string;
  email: string;
  name: string;
  passwordHash: string;
  role: Role;
  organization?: string;
  active: boolean;
  createdAt?: Date;
  updatedAt?: Date;
}

export const SOURCE_KINDS = ['protocol', 'letter'] as const;
export type SourceKind = (typeof SOURCE_KINDS)[number];

export interface SourceDocument {
  _id: string;
  kind: SourceKind;
  issuer: string;
  number: string;
  date: string; // YYYY-MM-DD as written on the document
  title: string;
  createdAt?: Date;
}

export type RecommendationStatus = 'draft' | 'issued' | 'withdrawn';

export interface Recommendation {
  _id: string;
  source: { id: string; kind: SourceKind; issuer: string; number: string; date: string; title: string };
  text: string;
  assignees: string[];
  /**
   * due: when it passes; input: as entered; nominal: the date as written (absent on records made
   * before the working-day rule); moved: whether due was moved off a non-working nominal date.
   */
  deadline: { due: Date; input: string; nominal?: string; moved?: boolean };
  /** Reminders and escalation for this recommendation; absent on records made before policies. */
  policy?: NotificationPolicy;
  /** A recurring deadline: `deadline` is then the first cycle's. */
  recurrence?: Recurrence;
  status: RecommendationStatus;
  createdBy: ActorRef;
  issuedAt?: Date;
  issuedBy?: ActorRef;
  withdrawnAt?: Date;
  withdrawal?: { reason: string; by: ActorRef };
  createdAt?: Date;
  updatedAt?: Date;
}

/** The read model of one assignment, written by the workflow's projection activity. */
export interface AssignmentView {
  _id: string;
  recommendationId: string;
  organization: string;
  cycle: number;
  /** How people name a recurring recommendation's cycle («2024», «II кв. 2024»); absent otherwise. */
  period?: string;
  status: AssignmentStatus;
  overdue: boolean;
  due: Date;
  originalDue: Date;
  acceptedLate: boolean | null;
  extension: ExtensionRequest | null;
  lastSubmittedAt: Date | null;
  submissions: number;
  returns: number;
  version: number;
  /**
   * What the summaries count this row as (a signature of domain/tally.ts counters); null before
   * they count it at all.
   */
  tallied?: string | null;
  /** The row changed since the summaries last counted it (see store/tallies.ts). */
  tallyDirty?: boolean;
  /**
   * The long lists' bucket the summaries count this row in (`2027-03-01#5`: due day and slice);
   * null until counted. See store/tallies.ts.
   */
  listBucket?: string | null;
  /**
   * The month of listBucket (`2027-03`): a list scope with few rows a month (one organisation's,
   * a recommendation to forty) reads a month at once rather than bucket by bucket.
   */
  listMonth?: string | null;
  /** While submitted: the review-queue bucket it is counted in (its submission day and a slice). */
  reviewBucket?: string | null;
  /** Open, with a request for a new deadline waiting (domain/tally.ts counter of the same name). */
  extensionPending?: boolean;
  createdAt?: Date;
  updatedAt?: Date;
}

/**
 * One summary document (store/tallies.ts): a table of counts kept as one JSON string, because
 * FerretDB decodes a document value by value (2,300 small documents took 295 ms to read, the same
 * counts as one string 4 ms).
 */
export interface Tally {
  _id: string;
  /** org, rec, cycles, month or meta: what the document tabulates. */
  kind: string;
  data: string;
  /** The last batch of changes applied to it: a batch is applied to each document once. */
  batch: string | null;
  updatedAt?: Date;
}

/** The changes to the summaries being applied now, kept until every document has them. */
export interface TallyBatch {
  _id: string;
  /** JSON: [documentId, path, counts] with the net change of each counter. */
  deltas: string;
  /** JSON: [assignmentId, version, signature] of the rows it counts. */
  rows: string;
  createdAt?: Date;
}

/** Who does a job only one process may do at a time, until when (store/tallies.ts's tallier). */
export interface Lease {
  _id: string;
  owner: string;
  until: Date;
}

/** A migration (store/migrations.ts) this database has had. */
export interface MigrationRecord {
  _id: string;
  at: Date;
}

export interface EvidenceFile {
  id: string;
  name: string;
  size: number;
  type: string;
  sha256: string;
}

export type EvidenceState = 'pending' | 'recorded' | 'refused';

export interface Evidence {
  _id: string;
  assignmentId: string;
  organization: string;
  comment: string;
  files: EvidenceFile[];
  state: EvidenceState;
  submittedBy: ActorRef;
  submittedAt: Date;
  review?: { decision: 'accept' | 'return'; comment?: string; by: ActorRef; at: Date };
  createdAt?: Date;
}

export interface AuditEntry {
  _id: string; // idempotency key: a retried projection writes the same key and is ignored
  at: Date;
  actor: ActorRef;
  action: string;
  entity: { kind: 'assignment' | 'recommendation' | 'organization' | 'group' | 'import' | 'user' | 'session' | 'settings' | 'calendar' | 'email'; id: string };
  details: Record<string, unknown>;
}

/** The entry as stored: `entityKey` is the entity as one top-level value (see auditEntityKey). */
export interface StoredAuditEntry extends AuditEntry {
  entityKey: string;
}

/**
 * The entity an entry is about, as one string. One entity's history is read by equality on it:
 * FerretDB pushes a top-level equality down to an index, while a filter on the dotted pair
 * `entity.kind`/`entity.id` made it decode every entry of the trail.
 */
export function auditEntityKey(entity: AuditEntry['entity']): string {
  return `${entity.kind}:${entity.id}`;
}


/**
 * A group of addressees an administrator keeps («органы местного самоуправления, осуществляющие
 * управление в сфере образования»): its members are the organisations listing its code in `groups`;
 * its phrases are how letters address it, which the protocol import recognises.
 */
export interface OrganizationGroup {
  _id: string; // the group code
  name: string;
  phrases: string[];
  updatedBy?: ActorRef;
  createdAt?: Date;
  updatedAt?: Date;
}

export type ImportStatus = 'draft' | 'confirming' | 'confirmed';

/**
 * A protocol or letter pasted for import: the text, what was read from it (drafts for review), and,
 * once a curator confirmed, exactly what was created from it, so a repeated or resumed confirmation
 * creates nothing twice.
 */
export interface ProtocolImport {
  _id: string;
  text: string;
  /** The document's date used for phrases without a year, YYYY-MM-DD. */
  reference: string;
  /** The drafts as read: source, documents, items (see api/imports). */
  drafts: unknown;
  status: ImportStatus;
  createdBy: ActorRef;
  confirmation?: { by: ActorRef; at: Date; recommendations: Array<{ n: number; id: string; input: unknown }> };
  createdAt?: Date;
  updatedAt?: Date;
}

/** A named setting an administrator changes at run time, such as the default notification policy. */
export interface Setting {
  _id: string;
  value: unknown;
  updatedBy?: ActorRef;
  createdAt?: Date;
  updatedAt?: Date;
}

/**
 * A production-calendar year an administrator entered (a new year's decree, or an amended one):
 * it replaces the built-in entry for that year, if any.
 */
export interface AddedCalendarYear {
  _id: number; // the year
  source: string;
  daysOff: string[];
  workingWeekends: string[];
  updatedBy?: ActorRef;
  createdAt?: Date;
  updatedAt?: Date;
}

/** One email: keyed by its idempotency key, so a retry or a replay never sends it twice. */

const actorSchema = new Schema<ActorRef>({ id: String, email: String, role: String }, { _id: false });

const organizationSchema = new Schema<Organization>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    kind: { type: String, enum: ORGANIZATION_KINDS, required: true },
    groups: { type: [String], default: [] },
    contacts: {
      coordinator: { type: [String], default: [] },
      head: { type: [String], default: [] },
    },
  },
  { timestamps: true, versionKey: false },
);
organizationSchema.index({ kind: 1 });
organizationSchema.index({ groups: 1 });

const userSchema = new Schema<User>(
  {
    _id: { type: String, required: true },
    email: { type: String, required: true, lowercase: true, trim: true },
    name: { type: String, required: true },
    passwordHash: { type: String, required: true },
    role: { type: String, required: true },
    organization: { type: String },
    active: { type: Boolean, default: true },
  },
  { timestamps: true, versionKey: false },
);
userSchema.index({ email: 1 }, { unique: true });
userSchema.index({ organization: 1 });

const sourceSchema = new Schema<SourceDocument>(
  {
    _id: { type: String, required: true },
    kind: { type: String, enum: SOURCE_KINDS, required: true },
    issuer: { type: String, required: true },
    number: { type: String, required: true },
    date: { type: String, required: true },
    title: { type: String, default: '' },
  },
  { timestamps: { createdAt: true, updatedAt: false }, versionKey: false },
);
sourceSchema.index({ kind: 1, issuer: 1, number: 1, date: 1 }, { unique: true });

const recommendationSchema = new Schema<Recommendation>(
  {
    _id: { type: String, required: true },
    source: {
      id: String,
      kind: { type: String, enum: SOURCE_KINDS },
      issuer: String,
      number: String,
      date: String,
      title: String,
    },
    text: { type: String, required: true },
    assignees: { type: [String], required: true },
    deadline: { due: { type: Date, required: true }, input: String, nominal: String, moved: Boolean },
    policy: { type: Schema.Types.Mixed, default: undefined },
    recurrence: { type: Schema.Types.Mixed, default: undefined },
    status: { type: String, required: true, default: 'draft' },
    createdBy: actorSchema,
    issuedAt: Date,
    issuedBy: actorSchema,
    withdrawnAt: Date,
    withdrawal: { reason: String, by: actorSchema },
  },
  { timestamps: true, versionKey: false },
);
recommendationSchema.index({ status: 1, createdAt: -1 });
// No index on `assignees`: FerretDB on PostgreSQL indexes an array as one value, and a
// recommendation to 1,000 addressees overflows the btree row limit (2,704 bytes).
recommendationSchema.index({ 'source.id': 1 });

const assignmentSchema = new Schema<AssignmentView>(
  {
    _id: { type: String, required: true },
    recommendationId: { type: String, required: true },
    organization: { type: String, required: true },
    cycle: { type: Number, required: true },
    period: { type: String },
    status: { type: String, required: true },
    overdue: { type: Boolean, default: false },
    due: { type: Date, required: true },
    originalDue: { type: Date, required: true },
    acceptedLate: { type: Boolean, default: null },
    extension: {
      type: new Schema<ExtensionRequest>(
        { until: String, reason: String, requestedAt: String, requestedBy: actorSchema },
        { _id: false },
      ),
      default: null,
    },
    lastSubmittedAt: { type: Date, default: null },
    submissions: { type: Number, default: 0 },
    returns: { type: Number, default: 0 },
    version: { type: Number, default: 0 },
    tallied: { type: String, default: null },
    tallyDirty: { type: Boolean, default: true },
    extensionPending: { type: Boolean, default: false },
    listBucket: { type: String, default: null },
    listMonth: { type: String, default: null },
    reviewBucket: { type: String, default: null },
  },
  { timestamps: true, versionKey: false },
);
// One index per list filter, each ending in the list's sort (overdue first, then by deadline), so
// a page is read in order rather than sorted in memory.
assignmentSchema.index({ overdue: -1, due: 1, _id: 1 });
assignmentSchema.index({ organization: 1, overdue: -1, due: 1, _id: 1 });
assignmentSchema.index({ recommendationId: 1, overdue: -1, due: 1, _id: 1 });
assignmentSchema.index({ status: 1, overdue: -1, due: 1, _id: 1 });
assignmentSchema.index({ tallyDirty: 1 });
assignmentSchema.index({ extensionPending: 1 });
assignmentSchema.index({ listBucket: 1 });
assignmentSchema.index({ reviewBucket: 1 });

const tallySchema = new Schema<Tally>(
  { _id: { type: String, required: true }, kind: { type: String, required: true }, data: { type: String, required: true }, batch: { type: String, default: null } },
  { timestamps: { createdAt: false, updatedAt: true }, versionKey: false },
);
tallySchema.index({ kind: 1 });

const leaseSchema = new Schema<Lease>(
  { _id: { type: String, required: true }, owner: { type: String, required: true }, until: { type: Date, required: true } },
  { versionKey: false },
);

const migrationSchema = new Schema<MigrationRecord>({ _id: { type: String, required: true }, at: { type: Date, required: true } }, { versionKey: false });

const tallyBatchSchema = new Schema<TallyBatch>(
  { _id: { type: String, required: true }, deltas: { type: String, required: true }, rows: { type: String, required: true } },
  { timestamps: { createdAt: true, updatedAt: false }, versionKey: false },
);

const evidenceSchema = new Schema<Evidence>(
  {
    _id: { type: String, required: true },
    assignmentId: { type: String, required: true },
    organization: { type: String, required: true },
    comment: { type: String, default: '' },
    files: [
      new Schema<EvidenceFile>(
        { id: String, name: String, size: Number, type: String, sha256: String },
        { _id: false },
      ),
    ],
    state: { type: String, required: true },
    submittedBy: actorSchema,
    submittedAt: { type: Date, required: true },
    review: {
      type: new Schema(
        { decision: String, comment: String, by: actorSchema, at: Date },
        { _id: false },
      ),
      default: undefined,
    },
  },
  { timestamps: { createdAt: true, updatedAt: false }, versionKey: false },
);
evidenceSchema.index({ assignmentId: 1, submittedAt: 1 });

const auditSchema = new Schema<StoredAuditEntry>(
  {
    _id: { type: String, required: true },
    at: { type: Date, required: true },
    actor: actorSchema,
    action: { type: String, required: true },
    entity: { kind: String, id: String },
    entityKey: { type: String, required: true },
    details: { type: Schema.Types.Mixed, default: {} },
  },
  { versionKey: false, minimize: false },
);
auditSchema.index({ entityKey: 1 });
auditSchema.index({ at: -1 });


const settingSchema = new Schema<Setting>(
  {
    _id: { type: String, required: true },
    value: { type: Schema.Types.Mixed, required: true },
    updatedBy: actorSchema,
  },
  { timestamps: true, versionKey: false, minimize: false },
);

const calendarYearSchema = new Schema<AddedCalendarYear>(
  {
    _id: { type: Number, required: true },
    source: { type: String, required: true },
    daysOff: { type: [String], default: [] },
    workingWeekends: { type: [String], default: [] },
    updatedBy: actorSchema,
  },
  { timestamps: true, versionKey: false },
);

const groupSchema = new Schema<OrganizationGroup>(
  {
    _id: { type: String, required: true },
    name: { type: String, required: true },
    phrases: { type: [String], default: [] },
    updatedBy: actorSchema,
  },
  { timestamps: true, versionKey: false },
);

const importSchema = new Schema<ProtocolImport>(
  {
    _id: { type: String, required: true },
    text: { type: String, required: true },
    reference: { type: String, required: true },
    drafts: { type: Schema.Types.Mixed, required: true },
    status: { type: String, required: true, default: 'draft' },
    createdBy: actorSchema,
    confirmation: { type: Schema.Types.Mixed, default: undefined },
  },
  { timestamps: true, versionKey: false, minimize: false },
);
importSchema.index({ createdAt: -1, _id: -1 });

export function registerModels(connection: Connection) {
  return {
    organizations: connection.model<Organization>('Organization', organizationSchema, 'organizations'),
    users: connection.model<User>('User', userSchema, 'users'),
    sources: connection.model<SourceDocument>('SourceDocument', sourceSchema, 'source_documents'),
    recommendations: connection.model<Recommendation>('Recommendation', recommendationSchema, 'recommendations'),
    assignments: connection.model<AssignmentView>('Assignment', assignmentSchema, 'assignments'),
    tallies: connection.model<Tally>('Tally', tallySchema, 'tallies'),
    tallyBatches: connection.model<TallyBatch>('TallyBatch', tallyBatchSchema, 'tally_batches'),
    leases: connection.model<Lease>('Lease', leaseSchema, 'leases'),
    migrations: connection.model<MigrationRecord>('Migration', migrationSchema, 'migrations'),
    evidence: connection.model<Evidence>('Evidence', evidenceSchema, 'evidence'),
    audit: connection.model<StoredAuditEntry>('AuditEntry', auditSchema, 'audit'),
    ...registerOutboxModels(connection),
    settings: connection.model<Setting>('Setting', settingSchema, 'settings'),
    calendarYears: connection.model<AddedCalendarYear>('CalendarYear', calendarYearSchema, 'calendar_years'),
    groups: connection.model<OrganizationGroup>('OrganizationGroup', groupSchema, 'organization_groups'),
    imports: connection.model<ProtocolImport>('ProtocolImport', importSchema, 'imports'),
    loginAttempts: connection.model<LoginAttempt>('LoginAttempt', loginAttemptSchema, 'login_attempts'),
    idempotentRequests: connection.model<IdempotentRequest>('IdempotentRequest', idempotentRequestSchema, 'idempotent_requests'),
    digestRuns: connection.model<DigestRun>('DigestRun', digestRunSchema, 'digest_runs'),
  };
}

export type Models = ReturnType<typeof registerModels>;
