-- Quoted, non-ASCII and over-long names (cut to 63 bytes on a character boundary).
CREATE TABLE "дддддддддддддддддддддддддддддддддддддддд" ("дддддддддддддддддддддддддддддддддддддддд" int UNIQUE, ключ int CHECK (ключ > 0), "колонка_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx" int REFERENCES "дддддддддддддддддддддддддддддддддддддддд" ("дддддддддддддддддддддддддддддддддддддддд"));
CREATE TABLE "Users" ("Email" text UNIQUE, "ID" int PRIMARY KEY);
CREATE TABLE Mixed (Id int UNIQUE);
CREATE TABLE tttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttttt (a int PRIMARY KEY, b int UNIQUE);
CREATE INDEX ON "Users" ("Email", "ID");
CREATE TABLE ünïcödé (Naïve int UNIQUE, "Naïve" int UNIQUE);
