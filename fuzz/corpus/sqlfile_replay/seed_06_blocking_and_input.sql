-- Relations that block names, numbering past truncation, psql input details.
BEGIN;
CREATE TABLE a_id_seq (x int);
CREATE TABLE a (id serial PRIMARY KEY, v int);
CREATE VIEW a_v_key AS SELECT 1 AS one;
CREATE TYPE a_v_idx AS (x int);
ALTER TABLE a ADD UNIQUE (v);
CREATE INDEX ON a (v);
CREATE SEQUENCE a_v_key2;
ALTER TABLE a ADD UNIQUE (v);
CREATE MATERIALIZED VIEW mv AS SELECT id, v FROM a;
CREATE UNIQUE INDEX ON mv (id);
CREATE INDEX t2_x_idx ON mv (v);
CREATE TABLE t2 (x int, UNIQUE (x));
CREATE INDEX ON t2 (x);
CREATE TABLE llllllllllllllllllllllllllllllllllllllllllllllllllllllllllll (col_llllllllllllllllllllllllllllllllllllllllllllllllllllllllllll int, UNIQUE (col_llllllllllllllllllllllllllllllllllllllllllllllllllllllllllll));
ALTER TABLE llllllllllllllllllllllllllllllllllllllllllllllllllllllllllll ADD UNIQUE (col_llllllllllllllllllllllllllllllllllllllllllllllllllllllllllll);
ALTER TABLE llllllllllllllllllllllllllllllllllllllllllllllllllllllllllll ADD UNIQUE (col_llllllllllllllllllllllllllllllllllllllllllllllllllllllllllll);
CREATE INDEX ON llllllllllllllllllllllllllllllllllllllllllllllllllllllllllll (col_llllllllllllllllllllllllllllllllllllllllllllllllllllllllllll, col_llllllllllllllllllllllllllllllllllllllllllllllllllllllllllll);
COMMIT;
CREATE FUNCTION f_atomic(x int) RETURNS int LANGUAGE sql IMMUTABLE
BEGIN ATOMIC
  SELECT x + 1;
END;
CREATE FUNCTION f_body() RETURNS trigger LANGUAGE plpgsql AS $fn$
BEGIN
  -- a line that looks like a meta-command inside a body:
  RAISE NOTICE E'\\n; %', 'x';
  RETURN NEW;
END;
$fn$;
CREATE TABLE e (
    id int,
    data jsonb,
    during tstzrange,
    CHECK (id > 0 AND data IS NOT NULL),
    CHECK (data ? 'k'),
    EXCLUDE USING gist (during WITH &&),
    EXCLUDE USING gist (tstzrange(lower(during), upper(during)) WITH &&)
);
COPY e (id, data) FROM stdin;
1	{"k": "a;b"}
\.
CREATE INDEX ON e ((data->>'k'));
CREATE INDEX ON e ((data->'k'), (data#>>'{a,b}'));
CREATE INDEX ON e (f_atomic(id));
CREATE INDEX ON e USING gin (data jsonb_path_ops);
CREATE INDEX ON e (lower(during), upper(during), lower(during));
CREATE UNIQUE INDEX CONCURRENTLY ON e (id) NULLS NOT DISTINCT;
CREATE INDEX ON e ((id::text));
CREATE INDEX ON e (((id + 1)::text));
CREATE INDEX ON e (greatest(id, 1), nullif(id, 0));
ALTER TABLE e ADD COLUMN IF NOT EXISTS id int UNIQUE;
ALTER TABLE e ADD COLUMN IF NOT EXISTS ref int REFERENCES a, ADD COLUMN other int REFERENCES a (id);
ALTER TABLE e RENAME COLUMN data TO payload;
CREATE TABLE e2 (LIKE e INCLUDING INDEXES);
CREATE TABLE ctas AS SELECT id, v FROM a;
SELECT id INTO selected FROM a;
ALTER TABLE ctas ADD PRIMARY KEY (id);
ALTER TABLE selected ADD UNIQUE (id);
CREATE TEMP TABLE tmp (id int PRIMARY KEY);
CREATE TABLE tmp (id int PRIMARY KEY);
ALTER TABLE a_v_idx1 RENAME TO a_v_renamed;
CREATE INDEX ON a (v);
CREATE SCHEMA doomed;
CREATE TABLE doomed.t (id int PRIMARY KEY);
DROP SCHEMA doomed CASCADE;
CREATE SCHEMA doomed;
CREATE TABLE doomed.t (id int PRIMARY KEY, CHECK (id > 0));
