#!/bin/sh
# Run a command of code the project did not write (a kernel build, its
# gen_init_cpio, QEMU booting the result) in a sandbox:
#   sandbox.sh [-t SECONDS] [-q MB] [-f MB] [-w PATH]... [-r PATH]... [-e NAME=VALUE]... [-k] -- CMD [ARG...]
# bubblewrap gives it a root of its own: /usr and /etc read-only, a fresh
# /dev, /proc and small /tmp, no network (a namespace with only its own
# loopback), its own pids; of the rest only the -r paths (read-only) and
# the -w paths (writable, handed to the sandbox user) exist, at their own
# paths.  It runs as the unprivileged user rb-sandbox ($RECLAIMBENCH_SANDBOX_USER)
# with no capabilities, no new privileges, a clean environment (plus -e),
# at most 512 processes and 2 GiB a file (-f MB: less).  The process limit
# is a pids cgroup of the sandbox's own where the host has cgroup v1's pids
# hierarchy (a fork bomb in one sandbox leaves the processes of the user's
# other sandboxes alone; the user's limit is then 4096), else the user's
# RLIMIT_NPROC of 512.
#   -t  time limit: the whole sandbox is killed after SECONDS
#   -q  the -w folders may grow by at most MB together (checked every 15 s,
#       and 1 GiB must stay free on their file system)
#   -k  /dev/kvm inside
# Exit: the command's status; 3 with an "error: sandbox: ..." line when the
# sandbox could not start or stopped the command (time, disk).
set -eu
user=${RECLAIMBENCH_SANDBOX_USER:-rb-sandbox}
limit_t= limit_q= fsize=2048 kvm= binds= envs= nproc=512 cg=
say() { echo "error: sandbox: $*" >&2; }
add() { binds="$binds $(printf '%s' "$1" | sed "s/'/'\\\\''/g; s/^/'/; s/\$/'/")"; }
# The folders above a bound path, made traversable (bwrap would make them 0700).
parents() {
	up=$(dirname "$1") ups=
	while [ "$up" != / ] && [ "$up" != . ]; do
		case $up in /tmp|/usr|/etc|/dev|/proc) ;; *) ups="$up $ups" ;; esac
		up=$(dirname "$up")
	done
	for up in $ups; do add --perms; add 0755; add --dir; add "$up"; done
}
# Bind paths absolute, '..' resolved by their names (symlinks are bound as
# what they point to, at their own name).
abspath() { realpath -m -s "$1"; }
while getopts t:q:f:w:r:e:k o; do
	case $o in
	f) fsize=$OPTARG ;;
	t) limit_t=$OPTARG ;;
	q) limit_q=$OPTARG ;;
	w) [ -e "$OPTARG" ] || { say "'$OPTARG' does not exist"; exit 3; }
	   path=$(abspath "$OPTARG")
	   case $path in *[[:space:]]*) say "a writable path with white space: '$path'"; exit 3 ;; esac
	   parents "$path"; add --bind; add "$path"; add "$path"; rw="${rw:-} $path" ;;
	r) [ -e "$OPTARG" ] || { say "'$OPTARG' does not exist"; exit 3; }
	   path=$(abspath "$OPTARG"); parents "$path"; add --ro-bind; add "$path"; add "$path" ;;
	e) envs="$envs $(printf '%s' "$OPTARG" | sed "s/'/'\\\\''/g; s/^/'/; s/\$/'/")" ;;
	k) kvm=1 ;;
	*) say "usage: sandbox.sh [-t S] [-q MB] [-w PATH]... [-r PATH]... [-e N=V]... [-k] -- CMD..."; exit 3 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { say "no command"; exit 3; }
command -v bwrap >/dev/null || { say "bwrap is missing; run 'make deps' (Debian package bubblewrap)"; exit 3; }
id -u "$user" >/dev/null 2>&1 || { say "no user '$user'; run 'make deps' to make it"; exit 3; }
# The sandbox user owns what it may write (root still can, so other
# runs stay unaffected); only what is not its own yet is changed.
for d in ${rw:-}; do
	case $d in /|/usr|/usr/*|/etc|/etc/*|/root|/home|/tmp|/var|/work|*' '*)
		say "refusing to hand '$d' to the sandbox user"; exit 3 ;;
	esac
done
for d in ${rw:-}; do
	[ -z "$(find "$d" ! -user "$user" -print -quit)" ] || chown -R -P "$user:" "$d"
done
[ -z "$kvm" ] || { [ -c /dev/kvm ] && binds="$binds --dev-bind /dev/kvm /dev/kvm"; }
# A pids cgroup of its own, for the sandboxes that are watched (builds,
# gen_init_cpio; QEMU's seccomp filter forbids it to fork at all).
# Those of sandboxes killed before they could remove theirs go first.
pids=/sys/fs/cgroup/pids
for d in "$pids"/rb-sandbox-*; do
	[ -d "$d" ] && ! kill -0 "${d##*-}" 2>/dev/null && rmdir "$d" 2>/dev/null || true
done
if { [ -n "$limit_t" ] || [ -n "$limit_q" ]; } && [ -w "$pids" ] && [ -f "$pids/cgroup.procs" ] &&
	mkdir "$pids/rb-sandbox-$$" 2>/dev/null; then
	if echo 512 > "$pids/rb-sandbox-$$/pids.max"; then
		cg=$pids/rb-sandbox-$$ nproc=4096
	else
		rmdir "$pids/rb-sandbox-$$"
	fi
fi
cmd=$(for a in "$@"; do printf "'%s' " "$(printf '%s' "$a" | sed "s/'/'\\\\''/g")"; done)
eval "set -- $binds"
set -- bwrap --unshare-net --unshare-pid --unshare-ipc --unshare-uts --unshare-cgroup-try \
	--die-with-parent --new-session --hostname rb-sandbox \
	--ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/sbin /sbin --symlink usr/lib /lib \
	--symlink usr/lib64 /lib64 --ro-bind /etc /etc --dev /dev --proc /proc \
	--perms 1777 --size 1073741824 --tmpfs /tmp "$@" \
	prlimit --nproc=$nproc --fsize=$((fsize * 1048576)) --core=0 -- \
	setpriv --reuid="$user" --regid="$user" --init-groups --no-new-privs --inh-caps=-all --bounding-set=-all -- \
	env -i PATH=/usr/bin:/bin HOME=/tmp TMPDIR=/tmp LANG=C.UTF-8
eval "set -- \"\$@\" $envs $cmd"
if [ -z "$limit_t" ] && [ -z "$limit_q" ]; then
	exec "$@"
fi
# Limits that need watching: bwrap runs in the background, a watchdog
# kills it (and with it, --die-with-parent, everything inside).
stopped=$(mktemp)
if [ -n "$cg" ]; then
	sh -c 'echo $$ > "$1/cgroup.procs" && shift && exec "$@"' sh "$cg" "$@" &
else
	"$@" &
fi
pid=$!
(
	start=$(date +%s) tick=0
	base=$(du -skx ${rw:-/dev/null} 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
	while kill -0 "$pid" 2>/dev/null; do
		sleep 1
		tick=$((tick + 1))
		if [ -n "$limit_t" ] && [ $(($(date +%s) - start)) -ge "$limit_t" ]; then
			echo "time limit of $limit_t s reached" > "$stopped"
			kill -KILL "$pid" 2>/dev/null
			break
		fi
		[ -n "$limit_q" ] && [ $((tick % 15)) = 0 ] || continue
		now=$(du -skx ${rw:-/dev/null} 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
		free=$(df -Pk ${rw:-/} | awk 'NR > 1 && (m == "" || $4 < m) { m = $4 } END { print m + 0 }')
		if [ $((now - base)) -gt $((limit_q * 1024)) ] || [ "$free" -lt 1048576 ]; then
			echo "disk limit: the writable folders grew by $(((now - base) / 1024)) MB (limit $limit_q MB), $((free / 1024)) MB left free" > "$stopped"
			kill -KILL "$pid" 2>/dev/null
			break
		fi
	done
) &
watch=$!
rc=0
wait "$pid" || rc=$?
kill "$watch" 2>/dev/null || true
wait "$watch" 2>/dev/null || true
if [ -n "$cg" ]; then	# empty once the killed have gone
	for i in 1 2 3 4 5 6 7 8 9 10; do rmdir "$cg" 2>/dev/null && break; sleep 0.5; done
fi
if [ -s "$stopped" ]; then
	say "stopped: $(cat "$stopped")"
	rm -f "$stopped"
	exit 3
fi
rm -f "$stopped"
exit "$rc"
