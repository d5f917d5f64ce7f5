BEGIN;

CREATE TABLE alembic_version (
    version_num VARCHAR(32) NOT NULL, 
    CONSTRAINT alembic_version_pkc PRIMARY KEY (version_num)
);

-- Running upgrade  -> 1a2b3c4d5e6f

CREATE TABLE organizations (
    id SERIAL NOT NULL, 
    name VARCHAR(100) NOT NULL, 
    PRIMARY KEY (id), 
    UNIQUE (name)
);

CREATE TABLE users (
    id SERIAL NOT NULL, 
    email VARCHAR(255) NOT NULL, 
    org_id INTEGER, 
    is_active BOOLEAN, 
    CONSTRAINT pk_users PRIMARY KEY (id), 
    FOREIGN KEY(org_id) REFERENCES organizations (id), 
    CHECK (is_active IN (true, false))
);

CREATE UNIQUE INDEX ix_users_email ON users (email);

INSERT INTO alembic_version (version_num) VALUES ('1a2b3c4d5e6f') RETURNING alembic_version.version_num;

-- Running upgrade 1a2b3c4d5e6f -> 2b3c4d5e6f7a

ALTER TABLE users ADD COLUMN display_name VARCHAR(50);

ALTER TABLE users ADD UNIQUE (display_name);

ALTER TABLE users ADD FOREIGN KEY(org_id) REFERENCES organizations (id) ON DELETE CASCADE;

ALTER TABLE users DROP CONSTRAINT users_org_id_fkey;

CREATE INDEX ix_users_lower_email ON users (lower(email));

UPDATE alembic_version SET version_num='2b3c4d5e6f7a' WHERE alembic_version.version_num = '1a2b3c4d5e6f';

COMMIT;
