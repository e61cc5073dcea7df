// SPDX-License-Identifier: GPL-2.0
/*
 * status.c - the status command: the module's state, parameters and hooks
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "tracerctl.h"

static const char status_help[] =
"Usage: tracerctl status [--json]\n"
"\n"
"Print whether the tracer module is loaded, its version, the kernel release,\n"
"the number of monitored processes, missed events, the allocation map and the\n"
"hooked kernel functions.  Exit status 3 if the module is not loaded.\n";


static void json_num_or_null(FILE *f, const char *s)
{
	const char *p = s;

	if (!*p) {
		fputs("null", f);
		return;
	}
	for (; *p; p++)
		if (!isdigit((unsigned char)*p)) {
			json_string(f, s);
			return;
		}
	fputs(s, f);
}

int cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 },
	};
	char version[64] = "", monitored[32] = "", missed[32] = "", map[256] = "";
	char hooked[4096] = "", maxactive[32] = "", map_bits[32] = "";
	char nested[32] = "", source[32] = "", instances[32] = "";
	char records[32] = "", capacity[32] = "", overflow[32] = "";
	struct utsname uts;
	struct stat st;
	bool json = false, loaded, dev_exists, dev_ok = false;
	int c, fd, err = 0;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'H':
			fputs(status_help, stdout);
			return EXIT_OK;
		default:
			fputs(status_help, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		warnx_("status: unexpected argument '%s'", argv[optind]);
		fputs(status_help, stderr);
		return EXIT_USAGE;
	}
	if (uname(&uts))
		snprintf(uts.release, sizeof(uts.release), "?");
	loaded = module_loaded();
	dev_exists = stat(TRACER_DEV_PATH, &st) == 0;
	if (loaded) {
		read_file(TRACER_SYS_PATH "/version", version, sizeof(version));
		sys_param("monitored", monitored, sizeof(monitored));
		sys_param("missed", missed, sizeof(missed));
		sys_param("map", map, sizeof(map));
		sys_param("hooked", hooked, sizeof(hooked));
		sys_param("maxactive", maxactive, sizeof(maxactive));
		sys_param("map_bits", map_bits, sizeof(map_bits));
		sys_param("nested", nested, sizeof(nested));
		sys_param("instances_missed", instances, sizeof(instances));
		sys_param("source", source, sizeof(source));
		kv_get(map, "records", records, sizeof(records));
		kv_get(map, "capacity", capacity, sizeof(capacity));
		kv_get(map, "overflow", overflow, sizeof(overflow));
		if (dev_exists) {
			fd = open_device(&err);
			dev_ok = fd >= 0;
			if (fd >= 0)
				close(fd);
		}
	}

	if (loaded)
		map_warning();
	if (json) {
		printf("{\"loaded\": %s, \"version\": ", loaded ? "true" : "false");
		if (loaded && *version)
			json_string(stdout, version);
		else
			fputs("null", stdout);
		printf(", \"tracerctl_version\": ");
		json_string(stdout, TRACER_VERSION);
		printf(", \"kernel\": ");
		json_string(stdout, uts.release);
		printf(",\n \"device\": {\"path\": \"%s\", \"exists\": %s, \"accessible\": %s},\n",
		       TRACER_DEV_PATH, dev_exists ? "true" : "false",
		       dev_ok ? "true" : "false");
		if (loaded) {
			printf(" \"monitored\": ");
			json_num_or_null(stdout, monitored);
			printf(", \"missed\": ");
			json_num_or_null(stdout, missed);
			printf(", \"instances_missed\": ");
			json_num_or_null(stdout, instances);
			printf(", \"nested\": ");
			json_num_or_null(stdout, nested);
			printf(",\n \"map\": {\"records\": ");
			json_num_or_null(stdout, records);
			printf(", \"capacity\": ");
			json_num_or_null(stdout, capacity);
			printf(", \"overflow\": ");
			json_num_or_null(stdout, overflow);
			printf("},\n \"parameters\": {\"source\": ");
			json_num_or_null(stdout, source);
			printf(", \"maxactive\": ");
			json_num_or_null(stdout, maxactive);
			printf(", \"map_bits\": ");
			json_num_or_null(stdout, map_bits);
			printf("},\n \"hooked\": {");
			/* kmalloc=a,b kfree=c ... -> "kmalloc": ["a", "b"], ... */
			{
				char *save = NULL, *tok, *eq, *sym, *save2 = NULL;
				bool first = true;

				for (tok = strtok_r(hooked, " \t\n", &save); tok;
				     tok = strtok_r(NULL, " \t\n", &save)) {
					bool firstsym = true;

					eq = strchr(tok, '=');
					if (!eq)
						continue;
					*eq = '\0';
					printf("%s", first ? "" : ", ");
					first = false;
					json_string(stdout, tok);
					printf(": [");
					for (sym = strtok_r(eq + 1, ",", &save2); sym;
					     sym = strtok_r(NULL, ",", &save2)) {
						printf("%s", firstsym ? "" : ", ");
						firstsym = false;
						json_string(stdout, sym);
					}
					printf("]");
				}
			}
			printf("}\n");
		} else {
			printf(" \"monitored\": null, \"missed\": null, \"instances_missed\": null,"
			       " \"nested\": null, \"map\": null,"
			       " \"parameters\": null, \"hooked\": null\n");
		}
		printf("}\n");
		return stdout_done(loaded ? EXIT_OK : EXIT_NOMODULE);
	}

	if (!loaded) {
		printf("module:     not loaded (try: sudo modprobe tracer)\n");
		printf("kernel:     %s\n", uts.release);
		printf("tracerctl:  %s\n", TRACER_VERSION);
		return stdout_done(EXIT_NOMODULE);
	}
	printf("module:     loaded, version %s", *version ? version : "unknown");
	if (*version && strcmp(version, TRACER_VERSION))
		printf(" (tracerctl is %s)", TRACER_VERSION);
	printf("\nkernel:     %s\n", uts.release);
	if (dev_exists)
		printf("device:     %s (%u:%u, mode %04o, uid %u, gid %u): %s\n",
		       TRACER_DEV_PATH, major(st.st_rdev), minor(st.st_rdev),
		       (unsigned int)(st.st_mode & 07777), (unsigned int)st.st_uid,
		       (unsigned int)st.st_gid,
		       dev_ok ? "you may open it" :
		       (err == EACCES || err == EPERM) ? "permission denied to you" :
		       strerror(err));
	else
		printf("device:     %s missing (create it: mknod -m 600 %s c 10 %d)\n",
		       TRACER_DEV_PATH, TRACER_DEV_PATH, TRACER_DEV_MINOR);
	printf("monitored:  %s process%s\n", *monitored ? monitored : "?",
	       strcmp(monitored, "1") ? "es" : "");
	printf("missed:     %s event%s%s\n", *missed ? missed : "?",
	       strcmp(missed, "1") ? "s" : "",
	       *missed && strcmp(missed, "0") ?
	       " lost (counts are low: see tracer(4), maxactive)" : "");
	/* The kretprobe instances exist only with source=kprobe. */
	if (*instances && !strcmp(source, "kprobe"))
		printf("instances:  %s kmalloc call%s of any process found no kretprobe instance%s\n",
		       instances, strcmp(instances, "1") ? "s" : "",
		       strcmp(instances, "0") ? " (raise maxactive if it grows fast)" : "");
	if (*nested)
		printf("nested:     %s probe hit%s in interrupts skipped (never counted anyway)\n",
		       nested, strcmp(nested, "1") ? "s" : "");
	if (*records && *capacity && *overflow)
		printf("map:        %s live allocation record%s, capacity %s, %s lost%s\n",
		       records, strcmp(records, "1") ? "s" : "", capacity, overflow,
		       strcmp(overflow, "0") ?
		       " (map was full: kfree_mem is low; raise map_max_bits)" : "");
	else
		printf("map:        %s\n", *map ? map : "?");
	printf("parameters:");
	if (*source)
		printf(" source=%s", source);
	printf(" maxactive=%s map_bits=%s\n", *maxactive ? maxactive : "?",
	       *map_bits ? map_bits : "?");
	{
		char *save = NULL, *tok, *eq;
		const char *label = "hooked:     ";

		for (tok = strtok_r(hooked, " \t\n", &save); tok;
		     tok = strtok_r(NULL, " \t\n", &save)) {
			eq = strchr(tok, '=');
			if (eq) {
				*eq = '\0';
				printf("%s%-8s %s\n", label, tok, eq + 1);
			} else {
				printf("%s%s\n", label, tok);
			}
			label = "            ";
		}
		if (*label == 'h')
			printf("hooked:     ?\n");
	}
	return stdout_done(EXIT_OK);
}
