-- Unnamed constraints of every kind, inline and table-level, and their collisions.
CREATE TABLE users (
    id serial PRIMARY KEY,
    email text UNIQUE NOT NULL,
    age int CHECK (age > 0) CHECK (age < 200),
    org_id int,
    CHECK (age > 0 AND org_id > 0),
    UNIQUE (email, org_id)
);
CREATE TABLE orgs (id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, name text);
ALTER TABLE users ADD FOREIGN KEY (org_id) REFERENCES orgs;
ALTER TABLE users ADD FOREIGN KEY (org_id) REFERENCES orgs (id);
ALTER TABLE users ADD UNIQUE (email);
ALTER TABLE users ADD UNIQUE (email);
CREATE TABLE users_email_key3 (x int);
ALTER TABLE users ADD UNIQUE (email);
CREATE INDEX ON users (email);
CREATE INDEX ON users (email);
CREATE UNIQUE INDEX ON users (lower(email));
CREATE INDEX ON users ((email || 'x'), lower(email), org_id, org_id) INCLUDE (age);
CREATE INDEX ON users ((age + 1));
CREATE INDEX ON users ((email::varchar));
CREATE INDEX ON users (coalesce(email, ''));
CREATE INDEX ON users ((CASE WHEN age > 1 THEN 'a' END));
CREATE INDEX named_ix ON users (org_id) WHERE age > 18;
CREATE INDEX IF NOT EXISTS named_ix ON users (age);
CREATE TABLE ex (r int4range, k int, EXCLUDE USING gist (r WITH &&));
ALTER TABLE ex ADD EXCLUDE USING gist (r WITH &&);
CREATE TABLE t3 (id int PRIMARY KEY, UNIQUE (id), CONSTRAINT foo UNIQUE (id));
CREATE TABLE t4 (id int UNIQUE, CONSTRAINT t4_pk PRIMARY KEY (id));
CREATE TABLE whole (a int, b int, CHECK (whole IS NOT NULL), CHECK (true));
CREATE DOMAIN d_pos AS int CHECK (VALUE > 0);
CREATE TABLE d (pos int CHECK (pos > 0), CHECK (pos < 5));
