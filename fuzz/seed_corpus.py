#!/usr/bin/env python3
"""Seeds the fuzz corpora from real inputs of the test suite.

* libpq_parse, url_check: the string literals of tests/it/libpq_*.rs and tests/it/check_url.rs
  that are connection strings (a `scheme://` URL, or libpq `keyword=value` pairs);
* sqlfile_split, sqlfile_replay: tests/fixtures/sqlfile/*.sql, whole and statement by statement.

Files are named by the SHA-1 of their content, as libFuzzer names them. Run from anywhere:
    python3 fuzz/seed_corpus.py
then fuzz and minimize (see fuzz/README.md).
"""

import hashlib
import pathlib
import re

ROOT = pathlib.Path(__file__).resolve().parent.parent
CORPUS = ROOT / "fuzz" / "corpus"

# "..." with escapes, and r"..." / r#"..."# raw strings.
LITERAL = re.compile(r'(?<![A-Za-z0-9_])(?:r(#*)"(.*?)"\1|"((?:[^"\\]|\\.)*)")', re.S)
ESCAPE = re.compile(r"\\(u\{[0-9a-fA-F]+\}|x[0-9a-fA-F]{2}|\n\s*|.)", re.S)
KEYWORD_VALUE = re.compile(r"(?:^|\s)[a-z_]+\s*=")


def unescape(body):
    def one(match):
        e = match.group(1)
        simple = {"n": "\n", "t": "\t", "r": "\r", "0": "\0", "\\": "\\", '"': '"', "'": "'"}
        if e in simple:
            return simple[e]
        if e.startswith("u{"):
            return chr(int(e[2:-1], 16))
        if e.startswith("x"):
            return chr(int(e[1:], 16))
        if e.startswith("\n"):
            return ""  # a line continuation
        return "\\" + e

    return ESCAPE.sub(one, body)


def literals(path):
    text = path.read_text()
    for match in LITERAL.finditer(text):
        if match.group(2) is not None:
            yield match.group(2)
        else:
            yield unescape(match.group(3))


def write(target, data):
    directory = CORPUS / target
    directory.mkdir(parents=True, exist_ok=True)
    (directory / hashlib.sha1(data).hexdigest()).write_bytes(data)


def main():
    tests = ROOT / "tests" / "it"
    sources = sorted(tests.glob("libpq_*.rs")) + [tests / "check_url.rs"]
    urls = set()
    for path in sources:
        for value in literals(path):
            if "://" in value or KEYWORD_VALUE.search(value):
                urls.add(value)
    for url in sorted(urls):
        data = url.encode("utf-8", "surrogatepass")
        write("libpq_parse", data)
        write("url_check", data)

    sql_files = sorted((ROOT / "tests" / "fixtures" / "sqlfile").glob("*.sql"))
    statements = 0
    for path in sql_files:
        data = path.read_bytes()
        write("sqlfile_split", data)
        write("sqlfile_replay", data)
        for statement in re.split(rb";\s*\n", data):
            if statement.strip():
                write("sqlfile_replay", statement.strip() + b";\n")
                statements += 1
    print(f"{len(urls)} connection strings, {len(sql_files)} SQL files, {statements} statements")


if __name__ == "__main__":
    main()
