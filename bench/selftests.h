/* TAP of the kernel's selftests, as the guest's selftests step reads it
 * (a parser on text, so that it can be tested on fixtures). */
#ifndef RB_SELFTESTS_H
#define RB_SELFTESTS_H

enum tap_kind { TAP_OTHER, TAP_PLAN, TAP_DIAG, TAP_RESULT, TAP_BAD };
enum tap_status { TAP_OK, TAP_NOT_OK, TAP_SKIPPED };

struct tap_result {
	int number, planned;
	enum tap_status status;
	char desc[128], reason[96];
};

/* One line of a program's output, without its newline: a plan ("1..N"),
 * a diagnostic ("# ..."), a result ("ok N desc", "not ok N desc", with a
 * "# SKIP reason" directive), a result line that is malformed (TAP_BAD:
 * no number, or one of more than 6 digits), or anything else. */
int tap_line(const char *line, struct tap_result *r);
#endif
