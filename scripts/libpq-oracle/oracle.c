/*
 * oracle.c -- differential-testing oracle for the libpq_uri crate.
 *
 * Reads one hex-encoded connection string per line on stdin, runs the
 * system libpq's PQconninfoParse() on it and prints one line per input:
 *
 *   OK<TAB>keyword=HEX<TAB>keyword=HEX...     (set options, libpq order)
 *   ERR<TAB>HEX                               (error message, trailing \n cut)
 *
 * With the single argument "--keywords" it instead prints the keyword table
 * of the linked libpq (PQconndefaults order), one "keyword<TAB>envvar<TAB>
 * compiled<TAB>dispchar" per line.
 *
 * Build:  gcc -O2 -o oracle oracle.c -I"$(pg_config --includedir)" -lpq
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libpq-fe.h>

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static void
put_hex(const char *s)
{
	for (const unsigned char *p = (const unsigned char *) s; *p; p++)
		printf("%02x", *p);
}

int
main(int argc, char **argv)
{
	char	   *line = NULL;
	size_t		cap = 0;
	ssize_t		len;

	if (argc == 2 && strcmp(argv[1], "--keywords") == 0)
	{
		PQconninfoOption *defs = PQconndefaults();

		for (PQconninfoOption *o = defs; o && o->keyword; o++)
			printf("%s\t%s\t%s\t%s\n", o->keyword,
				   o->envvar ? o->envvar : "",
				   o->compiled ? o->compiled : "",
				   o->dispchar ? o->dispchar : "");
		PQconninfoFree(defs);
		return 0;
	}

	while ((len = getline(&line, &cap, stdin)) >= 0)
	{
		size_t		n = 0;
		char	   *buf;
		char	   *errmsg = NULL;
		PQconninfoOption *opts;

		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		buf = malloc(len / 2 + 1);
		for (ssize_t i = 0; i + 1 < len; i += 2)
		{
			int			hi = hexval(line[i]),
						lo = hexval(line[i + 1]);

			if (hi < 0 || lo < 0)
				break;
			buf[n++] = (char) (hi * 16 + lo);
		}
		buf[n] = '\0';

		opts = PQconninfoParse(buf, &errmsg);
		if (opts == NULL)
		{
			size_t		el = errmsg ? strlen(errmsg) : 0;

			if (el > 0 && errmsg[el - 1] == '\n')
				errmsg[el - 1] = '\0';
			printf("ERR\t");
			put_hex(errmsg ? errmsg : "out of memory");
			printf("\n");
			if (errmsg)
				PQfreemem(errmsg);
		}
		else
		{
			printf("OK");
			for (PQconninfoOption *o = opts; o->keyword; o++)
			{
				if (o->val == NULL)
					continue;
				printf("\t%s=", o->keyword);
				put_hex(o->val);
			}
			printf("\n");
			PQconninfoFree(opts);
		}
		free(buf);
		fflush(stdout);
	}
	free(line);
	return 0;
}
