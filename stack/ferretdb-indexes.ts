/**
 * Makes FerretDB's indexes usable on its PostgreSQL backend.
 *
 * FerretDB 1.24 pushes an equality filter down as `_jsonb -> 'field' @> '"value"'`, but makes
 * every MongoDB index a btree on `(_jsonb -> 'field')`, and a btree cannot answer `@>`. So each
 * query, even one by `_id`, is a sequential scan of the collection's table: 20 ms at 20,000
 * assignments here, growing with the table. A GIN index (jsonb_path_ops) on the same expression
 * answers `@>`: the same lookup by `_id` then takes 2.6 ms.
 *
 * The database gets an event trigger that gives every single-field btree index FerretDB creates
 * a GIN twin (`<name>_gin`), and the twins missing for indexes made before are created on every
 * start. Which fields are indexed stays declared once, on the mongoose schemas.
 *
 * FerretDB passes the field name as a query parameter, and an index on an expression only serves a
 * plan in which the parameter is a constant: the database is set to plan every statement with its
 * parameters (plan_cache_mode = force_custom_plan).
 */
import type { Postgres } from './postgres';

const SQL = `
CREATE OR REPLACE FUNCTION kontrol_gin_twins() RETURNS void LANGUAGE plpgsql AS $fn$
DECLARE
  ix record;
  twin text;
BEGIN
  -- The CREATE INDEX below fires the trigger again; one pass at a time is enough.
  IF current_setting('kontrol.gin_twins', true) = 'on' THEN RETURN; END IF;
  PERFORM set_config('kontrol.gin_twins', 'on', true);
  FOR ix IN
    SELECT i.indexrelid, i.indrelid, c.relname AS name, n.nspname AS schema, pg_get_indexdef(i.indexrelid, 1, false) AS expr
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_am am ON am.oid = c.relam
    WHERE am.amname = 'btree' AND i.indexprs IS NOT NULL AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  LOOP
    -- FerretDB's own shape for a top-level field: ((_jsonb -> 'field'::text)).
    CONTINUE WHEN ix.expr !~ '^\\(\\(_jsonb -> ''[^'']+''::text\\)\\)$';
    twin := left(ix.name, 59) || '_gin';
    CONTINUE WHEN EXISTS (SELECT 1 FROM pg_class t WHERE t.relname = twin AND t.relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = ix.schema));
    EXECUTE format('CREATE INDEX %I ON %s USING gin (%s jsonb_path_ops)', twin, ix.indrelid::regclass, ix.expr);
  END LOOP;
  PERFORM set_config('kontrol.gin_twins', 'off', true);
END
$fn$;

CREATE OR REPLACE FUNCTION kontrol_gin_twins_trigger() RETURNS event_trigger LANGUAGE plpgsql AS $fn$
BEGIN
  PERFORM kontrol_gin_twins();
END
$fn$;

DO $do$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM pg_event_trigger WHERE evtname = 'kontrol_gin_twins') THEN
    CREATE EVENT TRIGGER kontrol_gin_twins ON ddl_command_end WHEN TAG IN ('CREATE INDEX') EXECUTE FUNCTION kontrol_gin_twins_trigger();
  END IF;
END
$do$;

SELECT kontrol_gin_twins();
`;

/**
 * Creates FerretDB's database unless it exists, and readies it as above. Idempotent; run before
 * FerretDB starts, on every start.
 */
export function prepareFerretDbDatabase(postgres: Pick<Postgres, 'ensureDatabase' | 'sql'>, database: string): void {
  postgres.ensureDatabase(database);
  postgres.sql(database, SQL);
  postgres.sql('postgres', `ALTER DATABASE ${database} SET plan_cache_mode = force_custom_plan`);
}
