#!/bin/sh
# Run a command of code the project did not write (a kernel build, its
# gen_init_cpio, QEMU booting the result) in a sandbox:
#   sandbox.sh [-t SECONDS] [-q MB] [-m MB] [-o MB] [-f MB] [-w PATH]... [-r PATH]...
#              [-e NAME=VALUE]... [-k] -- CMD [ARG...]
# bubblewrap gives it a root of its own: /usr and /etc read-only, a fresh
# /dev, /proc and small /tmp, no network (a namespace with only its own
# loopback), its own pids; of the rest only the -r paths (read-only) and
# the -w paths (writable, handed to the sandbox user) exist, at their own
# paths.  It runs as the unprivileged user rb-sandbox ($RECLAIMBENCH_SANDBOX_USER)
# with no capabilities, no new privileges, a clean environment (plus -e),
# and 2 GiB a file (-f MB: less).
# Each sandbox has cgroups of its own, below the caller's: a pids cgroup
# of 512 processes (a fork bomb in one sandbox leaves every other sandbox
# of the same user free to start: their shared RLIMIT_NPROC is then 4096)
# and a memory cgroup (-m).  Where the host has neither (cgroup v1 or v2),
# the user's RLIMIT_NPROC of 512 and an address-space rlimit of -m a
# process stand in.
#   -t  time limit: the whole sandbox is killed after SECONDS
#   -m  memory limit in MB (default 4096; its /tmp counts too)
#   -q  what the command writes into the -w folders, together, may take
#       MB: the writes go to an overlay whose upper layer is a file system
#       of its own of that size, refused as they are written; when the
#       command ends, unless the sandbox stopped it, they are written back
#       to the folders (by the sandbox user, in a sandbox of its own).
#       1 GiB must stay free on the host's file systems (its cost: the
#       method page's "What the sandbox costs").
#   -o  stdout and stderr each carry at most MB (more stops the command)
#   -k  /dev/kvm inside
# Exit: the command's status; 3 with an "error: sandbox: ..." line when the
# sandbox could not start or stopped the command (time, memory, disk,
# output).
set -eu
# Mounts (-q) are made in a mount namespace of the sandbox's own: they go
# with its last process, however it ends.
if [ "${1:-}" = --in-mount-ns ]; then
	shift
	ns=1
elif [ "$(id -u)" = 0 ] && command -v unshare >/dev/null; then
	exec unshare --mount --propagation private -- sh "$0" --in-mount-ns "$@"
else
	ns=
fi
user=${RECLAIMBENCH_SANDBOX_USER:-rb-sandbox}
limit_t= limit_q= limit_m=4096 limit_o= fsize=2048 kvm= binds= envs= nproc=512 cgs= rw= fs= nfs=0 as=
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
number() { case $2 in ''|*[!0-9]*) say "-$1 takes a number, not '$2'"; exit 3 ;; esac; }
command -v bwrap >/dev/null || { say "bwrap is missing; run 'make deps' (Debian package bubblewrap)"; exit 3; }
id -u "$user" >/dev/null 2>&1 || { say "no user '$user'; run 'make deps' to make it"; exit 3; }
mnt=/tmp/rb-sandbox-$$
# What sandboxes killed before they could clean up left: their mount
# points (empty on the host) and images (cgroups: below).
for d in /tmp/rb-sandbox-[0-9]* /var/tmp/rb-sandbox-[0-9]*.img; do
	p=${d##*-}
	[ -e "$d" ] && ! kill -0 "${p%.img}" 2>/dev/null && { rmdir "$d" || rm -f "$d"; } 2>/dev/null || true
done
# The file system of -q: a sparse ext4 image (1/8 more for its own
# metadata), loop-mounted and unlinked at once; the sandbox is stopped
# once what it holds passes the limit.
fs_make() {
	[ -z "$fs" ] || return 0
	[ -n "$ns" ] || { say "-q needs root (a file system of its own)"; exit 3; }
	img=/var/tmp/rb-sandbox-$$.img
	mkdir "$mnt" && truncate -s $((limit_q + limit_q / 8 + 8))M "$img" &&
		mkfs.ext4 -q -F -m 0 -O ^has_journal -E nodiscard,lazy_itable_init=1 "$img" &&
		mount -o loop,nosuid,nodev "$img" "$mnt" ||
		{ rm -f "$img"; rmdir "$mnt" 2>/dev/null; say "cannot make a file system of $limit_q MB for -q"; exit 3; }
	rm -f "$img"
	fs=$mnt
	fs_base=$(df -Pk "$fs" | awk 'NR == 2 { print $3 }')
}
# The sandbox user owns what it may write (root still can, so other
# runs stay unaffected); only what is not its own yet is changed.
writable() {
	case $1 in /|/usr|/usr/*|/etc|/etc/*|/root|/home|/tmp|/var|/work|*[[:space:]]*)
		say "refusing to hand '$1' to the sandbox user"; exit 3 ;;
	esac
	[ -z "$(find "$1" ! -user "$user" -print -quit)" ] || chown -R -P "$user:" "$1"
}
# -q first: the -w folders below need it.
while getopts t:q:m:o:f:w:r:e:k o; do [ "$o" != q ] || { number q "$OPTARG"; limit_q=$OPTARG; }; done
OPTIND=1
while getopts t:q:m:o:f:w:r:e:k o; do
	case $o in
	f) number f "$OPTARG"; fsize=$OPTARG ;;
	t) number t "$OPTARG"; limit_t=$OPTARG ;;
	q) ;;
	m) number m "$OPTARG"; limit_m=$OPTARG ;;
	o) number o "$OPTARG"; limit_o=$OPTARG ;;
	w) [ -e "$OPTARG" ] || { say "'$OPTARG' does not exist"; exit 3; }
	   path=$(abspath "$OPTARG")
	   writable "$path"
	   parents "$path"
	   if [ -n "$limit_q" ] && [ -d "$path" ] && [ ! -L "$path" ]; then
		case $path in *[,:\\]*) say "a writable folder with ',', ':' or '\\': '$path'"; exit 3 ;; esac
		fs_make
		nfs=$((nfs + 1))
		mkdir "$fs/u$nfs" "$fs/w$nfs" "$fs/m$nfs"
		chown --reference="$path" "$fs/u$nfs" && chmod --reference="$path" "$fs/u$nfs"
		mount -t overlay overlay -o "lowerdir=$path,upperdir=$fs/u$nfs,workdir=$fs/w$nfs,redirect_dir=off,index=off,metacopy=off,xino=off" \
			"$fs/m$nfs" || { say "cannot mount an overlay on '$path'"; exit 3; }
		add --bind; add "$fs/m$nfs"; add "$path"
		rw="$rw $path"
	   else
		add --bind; add "$path"; add "$path"
		rw="$rw $path"
	   fi ;;
	r) [ -e "$OPTARG" ] || { say "'$OPTARG' does not exist"; exit 3; }
	   path=$(abspath "$OPTARG"); parents "$path"; add --ro-bind; add "$path"; add "$path" ;;
	e) envs="$envs $(printf '%s' "$OPTARG" | sed "s/'/'\\\\''/g; s/^/'/; s/\$/'/")" ;;
	k) kvm=1 ;;
	*) say "usage: sandbox.sh [-t S] [-q MB] [-m MB] [-o MB] [-f MB] [-w PATH]... [-r PATH]... [-e N=V]... [-k] -- CMD..."; exit 3 ;;
	esac
done
shift $((OPTIND - 1))
[ $# -gt 0 ] || { say "no command"; exit 3; }
[ -z "$kvm" ] || { [ -c /dev/kvm ] && binds="$binds --dev-bind /dev/kvm /dev/kvm"; }

# cg CONTROLLER FILE: a cgroup of this sandbox's own below ours, in v1's
# hierarchy of CONTROLLER or else v2's where FILE shows the controller
# is there; prints its folder.
cg() {
	for root in "/sys/fs/cgroup/$1" /sys/fs/cgroup/unified /sys/fs/cgroup; do
		[ -f "$root/cgroup.procs" ] && [ -w "$root" ] || continue
		case $root in
		*/"$1") own=$(awk -F: -v c="$1" '{ n = split($2, a, ","); for (i = 1; i <= n; i++) if (a[i] == c) print $3 }' /proc/self/cgroup) ;;
		*) own=$(awk -F: '$1 == 0 && $2 == "" { print $3 }' /proc/self/cgroup) ;;
		esac
		parent=$root${own%/}
		[ -d "$parent" ] || continue
		for d in "$parent"/rb-sandbox-*; do	# of sandboxes killed before they could remove theirs
			[ -d "$d" ] && ! kill -0 "${d##*-}" 2>/dev/null && rmdir "$d" 2>/dev/null || true
		done
		if mkdir "$parent/rb-sandbox-$$" 2>/dev/null; then
			[ -f "$parent/rb-sandbox-$$/$2" ] && { echo "$parent/rb-sandbox-$$"; return 0; }
			rmdir "$parent/rb-sandbox-$$"
		fi
	done
}
if d=$(cg pids pids.max) && [ -n "$d" ] && echo 512 > "$d/pids.max"; then
	cgs="$cgs $d" nproc=4096
fi
bytes=$((limit_m * 1048576)) mem=
if d=$(cg memory memory.limit_in_bytes) && [ -n "$d" ]; then
	echo "$bytes" > "$d/memory.limit_in_bytes" &&
		{ [ ! -f "$d/memory.memsw.limit_in_bytes" ] || echo "$bytes" > "$d/memory.memsw.limit_in_bytes"; } &&
		cgs="$cgs $d" mem=$d
elif d=$(cg memory memory.max) && [ -n "$d" ]; then
	echo "$bytes" > "$d/memory.max" && { [ ! -f "$d/memory.swap.max" ] || echo 0 > "$d/memory.swap.max"; } &&
		cgs="$cgs $d" mem=$d
fi
[ -n "$mem" ] || as=--as=$bytes
# Processes the memory cgroup's OOM killer ended so far.
oom_kills() {
	cat "$mem/memory.oom_control" "$mem/memory.events" 2>/dev/null | awk '$1 == "oom_kill" { n = $2 } END { print n + 0 }'
}

cmd=$(for a in "$@"; do printf "'%s' " "$(printf '%s' "$a" | sed "s/'/'\\\\''/g")"; done)
eval "set -- $binds"
set -- bwrap --unshare-net --unshare-pid --unshare-ipc --unshare-uts --unshare-cgroup-try \
	--die-with-parent --new-session --hostname rb-sandbox \
	--ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/sbin /sbin --symlink usr/lib /lib \
	--symlink usr/lib64 /lib64 --ro-bind /etc /etc --dev /dev --proc /proc \
	--perms 1777 --size 1073741824 --tmpfs /tmp "$@" \
	prlimit --nproc=$nproc --fsize=$((fsize * 1048576)) --core=0 ${as:+"$as"} -- \
	setpriv --reuid="$user" --regid="$user" --init-groups --no-new-privs --inh-caps=-all --bounding-set=-all -- \
	env -i PATH=/usr/bin:/bin HOME=/tmp TMPDIR=/tmp LANG=C.UTF-8
eval "set -- \"\$@\" $envs $cmd"

# bwrap runs in the background, in the cgroups; a watchdog kills it (and
# with it, --die-with-parent, everything inside) at a limit.
tmp=$(mktemp -d)
stopped=$tmp/stopped
stop() { [ -s "$stopped" ] || echo "$1" > "$stopped"; kill -KILL "$pid" 2>/dev/null || true; }
set -- sh -c 'for c in $1; do echo $$ > "$c/cgroup.procs" || exit 125; done; shift; exec "$@"' sh "$cgs" "$@"
exec 3<&0	# an asynchronous command's own stdin would be /dev/null
if [ -n "$limit_o" ]; then
	mkfifo "$tmp/out" "$tmp/err"
	"$@" <&3 > "$tmp/out" 2> "$tmp/err" 3<&- &
else
	"$@" <&3 3<&- &
fi
pid=$!
trap 'stop "ended by a signal"' HUP INT TERM
# cap: at most -o MB of its input through; at more, the sandbox stops.
cap() {
	head -c $((limit_o * 1048576))
	[ "$(head -c 1 | wc -c)" = 0 ] && return
	stop "output limit of $limit_o MB reached"
	cat > /dev/null
}
caps=
if [ -n "$limit_o" ]; then
	cap < "$tmp/out" & caps="$caps $!"
	cap < "$tmp/err" >&2 & caps="$caps $!"
fi
watch=
if [ -n "$limit_t$limit_q" ] || [ -n "$mem" ]; then
	(
		start=$(date +%s) tick=0
		while kill -0 "$pid" 2>/dev/null; do
			sleep 1
			tick=$((tick + 1))
			if [ -n "$limit_t" ] && [ $(($(date +%s) - start)) -ge "$limit_t" ]; then
				stop "time limit of $limit_t s reached"
				break
			fi
			if [ -n "$mem" ] && [ "$(oom_kills)" -gt 0 ]; then
				stop "memory limit of $limit_m MB reached ($(oom_kills) processes killed)"
				break
			fi
			[ -n "$fs" ] || continue
			grew=$(($(df -Pk "$fs" | awk 'NR == 2 { print $3 }') - fs_base))
			free=
			[ $((tick % 5)) != 0 ] ||
				free=$(df -Pk $rw /var/tmp | awk 'NR > 1 && (m == "" || $4 < m) { m = $4 } END { print m + 0 }')
			if [ "$grew" -gt $((limit_q * 1024)) ]; then
				stop "disk limit: the writable folders grew by $((grew / 1024)) MB (limit $limit_q MB)"
				break
			elif [ -n "$free" ] && [ "$free" -lt 1048576 ]; then
				stop "disk limit: the writable folders grew by $((grew / 1024)) MB (limit $limit_q MB), $((free / 1024)) MB left free on the host"
				break
			fi
		done
	) &
	watch=$!
fi
rc=0
wait "$pid" || rc=$?
[ -z "$caps" ] || wait $caps || true
[ -z "$watch" ] || { kill "$watch" 2>/dev/null || true; wait "$watch" 2>/dev/null || true; }
if [ -n "$mem" ] && [ "$(oom_kills)" -gt 0 ]; then
	stop "memory limit of $limit_m MB reached ($(oom_kills) processes killed)"
fi
if [ -n "$fs" ] && [ ! -s "$stopped" ]; then
	grew=$(($(df -Pk "$fs" | awk 'NR == 2 { print $3 }') - fs_base))
	[ "$grew" -le $((limit_q * 1024)) ] ||
		stop "disk limit: the writable folders grew by $((grew / 1024)) MB (limit $limit_q MB)"
fi
# What the command wrote goes back to the folders, unless it was stopped:
# first what it deleted (overlayfs's whiteouts and opaque folders, read
# as root from the upper layer), then its files, by tar, as the sandbox
# user seeing only the upper layer and that folder.
i=0
for path in $rw; do
	[ -n "$fs" ] && [ ! -s "$stopped" ] || break
	[ -d "$path" ] && [ ! -L "$path" ] || continue
	i=$((i + 1))
	python3 - "$fs/u$i" > "$tmp/gone" <<'EOF' &&
import os, stat, sys
top, out = sys.argv[1], sys.stdout.buffer
for root, dirs, files in os.walk(top):
    for name in dirs + files:
        p = os.path.join(root, name)
        st = os.lstat(p)
        gone = stat.S_ISCHR(st.st_mode) and st.st_rdev == 0
        if stat.S_ISDIR(st.st_mode):
            try:
                gone = os.getxattr(p, 'trusted.overlay.opaque', follow_symlinks=False) == b'y'
            except OSError:
                pass
        if gone:
            out.write(b'./' + os.fsencode(os.path.relpath(p, top)) + b'\0')
EOF
	bwrap --unshare-net --unshare-pid --unshare-ipc --unshare-uts --die-with-parent --new-session \
		--ro-bind /usr /usr --symlink usr/bin /bin --symlink usr/lib /lib --symlink usr/lib64 /lib64 \
		--ro-bind /etc /etc --dev /dev --proc /proc --tmpfs /tmp \
		--ro-bind "$fs/u$i" /rb-upper --ro-bind "$tmp/gone" /rb-gone --bind "$path" /rb-dir \
		setpriv --reuid="$user" --regid="$user" --init-groups --no-new-privs --inh-caps=-all --bounding-set=-all -- \
		sh -c 'cd /rb-dir && xargs -0 -r rm -rf -- < /rb-gone && cd /rb-upper &&
			find . -mindepth 1 ! -type c ! -type b ! -type s -print0 |
			tar --null --no-recursion -T - -cf - | tar -C /rb-dir -xpf -' ||
		{ say "cannot write back what the command wrote to '$path'"; rc=3; }
done
if [ -n "$fs" ]; then
	umount -R "$fs" 2>/dev/null || umount -R -l "$fs" 2>/dev/null || true
	rmdir "$fs" 2>/dev/null || true
fi
for c in $cgs; do	# empty once the killed have gone
	for i in 1 2 3 4 5 6 7 8 9 10; do rmdir "$c" 2>/dev/null && break; sleep 0.5; done
done
if [ -s "$stopped" ]; then
	say "stopped: $(cat "$stopped")"
	rm -rf "$tmp"
	exit 3
fi
rm -rf "$tmp"
exit "$rc"
