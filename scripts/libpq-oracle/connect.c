/*
 * connect.c -- the libpq side of dbtool's connection matrix (tests/it/ping_matrix.rs).
 *
 * Reads one keyword/value connection string per line on stdin, connects with the system
 * libpq exactly as an application would (PQconnectStart + PQconnectPoll, which is what
 * PQconnectdb runs) and prints one line per input:
 *
 *   OK
 *   ERR<TAB>class<TAB>message      (the message on one line: newlines become " | ")
 *
 * The class is pg_isready's vocabulary as dbtool ping uses it:
 *   no_attempt   libpq did not try: the options are invalid (PQconnectStart fails at once
 *                without a "connection to server" message),
 *                or the last try stopped on a local TLS file (root certificate missing,
 *                client certificate without its key, a key others can read...);
 *   rejecting    the server answered and the connection was refused: an error from the
 *                server, a TLS refusal or a failed certificate check, a missing password,
 *                a server that does not satisfy target_session_attrs;
 *   no_response  nothing answered: DNS, connection refused, timed out, connection closed.
 * Only the last try's message decides (libpq 15+ lists every try, one per line).
 *
 * Build:  gcc -O2 -o connect connect.c -I"$(pg_config --includedir)" -lpq
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>

static const char *const local_tls_problems[] = {
	"root certificate file",
	"could not get home directory",
	"certificate present, but not private key",
	"could not open certificate file",
	"could not read certificate file",
	"could not load private key",
	"could not read root certificate file",
	"has group or world access",
	"may not be used with sslrootcert=system",
	NULL
};

static const char *const refusals[] = {
	"FATAL:",
	"ERROR:",
	"SSL",
	"certificate",
	"does not match host name",
	"no password supplied",
	/* target_session_attrs: the server answered but is not what was asked for */
	"session is read-only",
	"session is not read-only",
	"server is in hot standby mode",
	"server is not in hot standby mode",
	NULL
};

static int
contains_any(const char *text, const char *const *needles)
{
	for (const char *const *n = needles; *n; n++)
		if (strstr(text, *n))
			return 1;
	return 0;
}

/* The last try's part of the message: after the last "connection to server". */
static const char *
last_try(const char *message)
{
	const char *last = message;

	for (const char *p = message; (p = strstr(p, "connection to server")) != NULL; p++)
		last = p;
	return last;
}

static const char *
classify(PGconn *conn, const char *message)
{
	const char *last = last_try(message);

	if (contains_any(last, local_tls_problems))
		return "no_attempt";
	if (PQconnectionNeedsPassword(conn) || contains_any(last, refusals))
		return "rejecting";
	return "no_response";
}

static void
print_line(const char *message)
{
	for (const char *p = message; *p; p++)
	{
		if (*p == '\n')
		{
			if (p[1])
				fputs(" | ", stdout);
		}
		else if (*p == '\t')
			putchar(' ');
		else
			putchar(*p);
	}
}

int
main(void)
{
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		len;

	while ((len = getline(&line, &cap, stdin)) >= 0)
	{
		PGconn	   *conn;
		PostgresPollingStatusType status = PGRES_POLLING_WRITING;

		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		conn = PQconnectStart(line);
		/* Invalid options fail at once, without "connection to server". */
		if (conn == NULL || (PQstatus(conn) == CONNECTION_BAD &&
							 !strstr(PQerrorMessage(conn), "connection to server")))
		{
			fputs("ERR\tno_attempt\t", stdout);
			print_line(conn ? PQerrorMessage(conn) : "out of memory");
			putchar('\n');
			fflush(stdout);
			PQfinish(conn);
			continue;
		}
		while (status != PGRES_POLLING_OK && status != PGRES_POLLING_FAILED)
		{
			struct pollfd pfd = {
				.fd = PQsocket(conn),
				.events = status == PGRES_POLLING_READING ? POLLIN : POLLOUT,
			};

			if (pfd.fd >= 0)
				(void) poll(&pfd, 1, 10000);
			status = PQconnectPoll(conn);
		}
		if (status == PGRES_POLLING_OK)
			puts("OK");
		else
		{
			printf("ERR\t%s\t", classify(conn, PQerrorMessage(conn)));
			print_line(PQerrorMessage(conn));
			putchar('\n');
		}
		fflush(stdout);
		PQfinish(conn);
	}
	free(line);
	return 0;
}
