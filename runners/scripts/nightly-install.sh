#!/bin/sh
# Install `reclaimbench nightly` to run every night:
#   nightly-install.sh systemd TREE WORKDIR [UNITDIR]
#       a systemd timer and service into UNITDIR (/etc/systemd/system),
#       enabled when systemd runs this machine
#   nightly-install.sh scrontab TREE WORKDIR
#       the Slurm cron entry on stdout: `... | scrontab -` installs it
# TREE is the git tree to follow, WORKDIR holds the database and logs.
# Both end up in a unit file and a cron line: plain absolute paths only.
set -eu
usage() { echo "usage: nightly-install.sh systemd|scrontab TREE WORKDIR [UNITDIR]" >&2; exit 2; }
[ $# -ge 3 ] || usage
how=$1 tree=$2 work=$3 units=${4:-/etc/systemd/system}
repo=$(cd "$(dirname "$0")/../.." && pwd)
for p in "$tree" "$work" "$repo" "$units"; do
	case $p in
	/*) ;; *) echo "error: '$p' is not an absolute path; give one" >&2; exit 2 ;;
	esac
	case $p in *[!A-Za-z0-9._/+-]*) echo "error: '$p' holds characters other than letters, digits and ._/+-; use a plain path" >&2; exit 2 ;; esac
done
git -C "$tree" rev-parse --git-dir >/dev/null 2>&1 || { echo "error: '$tree' is not a git tree" >&2; exit 2; }
render() { sed -e "s|@REPO@|$repo|g" -e "s|@TREE@|$tree|g" -e "s|@WORKDIR@|$work|g" "$repo/runners/scripts/$1"; }
case $how in
scrontab) render nightly.scrontab.in ;;
systemd)
	mkdir -p "$work" "$units"
	render reclaimbench-nightly.service.in > "$units/reclaimbench-nightly.service"
	render reclaimbench-nightly.timer.in > "$units/reclaimbench-nightly.timer"
	echo "installed $units/reclaimbench-nightly.service and .timer" >&2
	if [ -d /run/systemd/system ] && [ "$units" = /etc/systemd/system ]; then
		systemctl daemon-reload && systemctl enable --now reclaimbench-nightly.timer
	else
		echo "systemd does not run this machine (or UNITDIR is not /etc/systemd/system): enable it with 'systemctl enable --now reclaimbench-nightly.timer' where it does" >&2
	fi ;;
*) usage ;;
esac
