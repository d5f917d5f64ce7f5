CREATE TABLE users (
    id bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT pk_users PRIMARY KEY,
    email text NOT NULL UNIQUE
);

CREATE TABLE messages (
    id bigint GENERATED ALWAYS AS IDENTITY CONSTRAINT pk_messages PRIMARY KEY,
    author_id bigint NOT NULL REFERENCES users (id),
    body text NOT NULL CONSTRAINT body_not_empty CHECK (body <> '')
);
