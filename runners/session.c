/* A session: a built variant booted for a plan of benchmarks and stored
 * (for bisect and nightly), and the options of every command that boots
 * variants (guest size, time limit, executor), read once. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../bench/bench.h"
#include "reclaimbench.h"

/* Options of every command that boots variants. */
static unsigned long guest_mem = 1024, guest_cpus = 2, boot_timeout = 900, slots;
static const char *selftests_set = "default";
static int host_clock;
static struct opt_list variants_files;
static const char *accel_opt, *out_dir = "out", *executor, *partition, *account, *spool, *quiet_wait;
const struct opt guest_opts[] = {
	{ "variants", OPT_LIST, &variants_files, 0, 0, "FILE",
	  "variant spec file; run and build take several [kernels/variants.conf and kernels/arm64.conf]" },
	{ "guest-mem-mb", OPT_UINT, &guest_mem, 256, 65536, "MB", "guest memory" },
	{ "guest-cpus", OPT_UINT, &guest_cpus, 1, 64, "N",
	  "guest CPUs of host-clock boots (instruction-clock boots get 1, or --mm-cpus)" },
	{ "timeout", OPT_UINT, &boot_timeout, 10, 86400, "S", "time limit of one boot, in seconds" },
	{ "out", OPT_STRING, &out_dir, 0, 0, "DIR", "folder for boot logs" },
	{ "host-clock", OPT_FLAG, &host_clock, 0, 0, NULL,
	  "under TCG, time by the host's clock, not by counted guest instructions (-icount)" },
	{ "quiet-wait", OPT_STRING, &quiet_wait, 0, 0, "S",
	  "longest wait for a quiet machine before a host-clock boot [$RECLAIMBENCH_QUIET_WAIT, 120]" },
	{ "accel", OPT_STRING, &accel_opt, 0, 0, "auto|kvm|tcg",
	  "accelerator of the variants of the host's own architecture (others: TCG); auto probes KVM once "
	  "per host kernel, kvm stops when it cannot boot [$RECLAIMBENCH_ACCEL, auto]" },
	{ "db", OPT_STRING, &opt_db, 0, 0, "PATH", "results database" },
	{ "selftests", OPT_STRING, &selftests_set, 0, 0, "SET",
	  "mm selftests the selftests step runs: 'default' (" SELFTESTS_DEFAULT "), programs separated by commas, "
	  "or 'none'" },
	{ "executor", OPT_STRING, &executor, 0, 0, "local|slurm",
	  "where jobs run: this machine, or Slurm's sbatch [$RECLAIMBENCH_EXECUTOR, local]" },
	{ "jobs", OPT_UINT, &slots, 0, 256, "N", "local: jobs at once, 0 for one per CPU" },
	{ "partition", OPT_STRING, &partition, 0, 0, "NAME", "slurm: partition [$RECLAIMBENCH_SLURM_PARTITION]" },
	{ "account", OPT_STRING, &account, 0, 0, "NAME", "slurm: account [$RECLAIMBENCH_SLURM_ACCOUNT]" },
	{ "spool", OPT_STRING, &spool, 0, 0, "DIR",
	  "jobs' files; under Slurm on a file system every node shares [$RECLAIMBENCH_SPOOL, cache/spool]" },
	{ NULL }
};

static const char *setting(const char *opt, const char *env)
{
	return opt ? opt : getenv(env) && *getenv(env) ? getenv(env) : NULL;
}

void guest_opts_get(struct run_opts *o)
{
	const char *wait;

	o->variants_given = variants_files.n;
	if (variants_files.n) {
		o->variants = variants_files.v[0];
		o->variant_files = variants_files.v, o->nvariant_files = variants_files.n;
	} else {
		o->variants = default_variants_file();
		o->nvariant_files = default_plan_files(&o->variant_files);
	}
	/* The initramfs list names files by path, separated by white space. */
	if (strpbrk(out_dir, " \t\n\"'\\"))
		die(EXIT_USAGE, "--out '%s' holds white space or quotes; choose a plain folder name", out_dir);
	/* Absolute: jobs may run elsewhere (a Slurm node, another folder). */
	if (mkdirs(out_dir) || !(o->out = realpath(out_dir, NULL)))
		die(EXIT_USAGE, "cannot make the folder '%s': %s; pass --out DIR", out_dir, strerror(errno));
	o->mem_mb = guest_mem, o->cpus = guest_cpus, o->timeout_s = boot_timeout, o->host_clock = host_clock;
	o->selftests = selftests_set;
	o->executor = setting(executor, "RECLAIMBENCH_EXECUTOR");
	o->partition = setting(partition, "RECLAIMBENCH_SLURM_PARTITION");
	o->account = setting(account, "RECLAIMBENCH_SLURM_ACCOUNT");
	o->spool = setting(spool, "RECLAIMBENCH_SPOOL");
	o->slots = slots ? slots : sysconf(_SC_NPROCESSORS_ONLN);
	/* The boot jobs read it from their environment (sbatch passes it on). */
	if ((wait = setting(quiet_wait, "RECLAIMBENCH_QUIET_WAIT"))) {
		if (!*wait || strspn(wait, "0123456789") != strlen(wait) || strlen(wait) > 4 || atoi(wait) > 3600)
			die(EXIT_USAGE, "the quiet wait '%s' (--quiet-wait or $RECLAIMBENCH_QUIET_WAIT) is not a number "
			    "of seconds from 0 to 3600", wait);
		setenv("RECLAIMBENCH_QUIET_WAIT", wait, 1);
	}
	o->accel = setting(accel_opt, "RECLAIMBENCH_ACCEL");
	if (o->accel && strcmp(o->accel, "auto") && strcmp(o->accel, "kvm") && strcmp(o->accel, "tcg"))
		die(EXIT_USAGE, "unknown accelerator '%s' (--accel or $RECLAIMBENCH_ACCEL); use auto, kvm or tcg",
		    o->accel);
	if (o->accel && !strcmp(o->accel, "auto"))
		o->accel = NULL;
	accel_require(o->accel);
	if (o->executor && strcmp(o->executor, "local") && strcmp(o->executor, "slurm"))
		die(EXIT_USAGE, "unknown executor '%s'; use --executor local or --executor slurm", o->executor);
}

/* The one spec file of a command that takes one (bisect, gate, nightly):
 * --variants FILE, or kernels/variants.conf. */
const char *one_variants_file(const struct run_opts *o, const char *command)
{
	if (o->variants_given > 1)
		die(EXIT_USAGE, "%s takes one --variants file, not %d; run and build take several", command,
		    o->variants_given);
	return o->variants;
}

/* --bench names checked, or all benchmarks; parameters cross-checked. */
void bench_names_check(struct opt_list *names)
{
	char err[256];

	for (int i = 0; i < names->n; i++)
		if (!bench_find(names->v[i]))
			die(EXIT_USAGE, "unknown benchmark '%s'; see reclaimbench list benches", names->v[i]);
	if (params_check(err, sizeof(err)))
		die(EXIT_USAGE, "%s", err);
	if (!names->n)
		for (int i = 0; i < nbenches; i++)
			names->v[names->n++] = benches[i]->name;
}

/* Boot one built variant for the plan, once per clock its benchmarks
 * need, and store what came back as one session (a plan of one item, for
 * bisect and nightly); returns nonzero when anything failed. */
int variant_session(const struct variant *v, const struct built *k, const char *accel, const struct run_opts *o,
		    const struct opt_list *names, int argc, char **argv, char **session)
{
	struct plan_item it = { .v = v, .rounds = 1 };
	struct plan p = { .what = "session", .o = o, .names = names, .argc = argc, .argv = argv, .items = &it,
			  .nitems = 1, .accel = accel };
	int bad = plan_run(&p);

	(void)k;
	*session = it.sessions[0];
	return bad;
}
