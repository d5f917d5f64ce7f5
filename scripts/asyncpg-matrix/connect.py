"""The asyncpg side of dbtool's connection matrix (tests/it/ping_matrix.rs, record mode).

Reads one JSON object per line on stdin -- the keyword arguments SQLAlchemy's asyncpg dialect
passes to asyncpg.connect() (host, port, user, password, database, ssl) plus "home", the HOME
asyncpg looks in for ~/.postgresql/root.crt and postgresql.crt/.key -- connects with the real
asyncpg and prints one line per input:

    OK
    ERR<TAB>class<TAB>ExceptionType: message

with the class in dbtool ping's words: no_attempt (asyncpg refused the arguments before
connecting: a missing root certificate file, an invalid mode), rejecting (the server answered
and refused: its error, a TLS refusal or a failed certificate check), no_response (nothing
answered). The first line printed is the versions: "# asyncpg X, Python Y".
"""

import asyncio
import json
import os
import platform
import ssl
import sys

import asyncpg


def classify(error):
    # ssl.SSLCertVerificationError is a ValueError too: TLS errors first.
    if isinstance(error, (asyncpg.PostgresError, ssl.SSLError, ssl.CertificateError)):
        return "rejecting"
    if isinstance(error, asyncpg.exceptions.ClientConfigurationError):
        return "no_attempt"
    if isinstance(error, (FileNotFoundError, NotADirectoryError, ValueError)):
        return "no_attempt"
    if isinstance(error, ConnectionError) and "SSL" in str(error):
        return "rejecting"
    if isinstance(error, asyncpg.exceptions.InterfaceError):
        return "rejecting"
    return "no_response"


async def connect(cell):
    os.environ["HOME"] = cell.pop("home")
    connection = await asyncpg.connect(timeout=10, **cell)
    await connection.close()


def main():
    for name in list(os.environ):
        if name.startswith("PG"):
            del os.environ[name]
    print(f"# asyncpg {asyncpg.__version__}, Python {platform.python_version()}", flush=True)
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            asyncio.run(connect(json.loads(line)))
            print("OK", flush=True)
        except Exception as error:  # every failure is an outcome to record
            message = f"{type(error).__name__}: {error}".replace("\n", " | ").replace("\t", " ")
            print(f"ERR\t{classify(error)}\t{message}", flush=True)


if __name__ == "__main__":
    main()
