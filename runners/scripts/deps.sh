#!/bin/sh
# Install what reclaimbench needs from Debian's packages, once: the
# compilers and libraries it builds with (the arm64 cross compiler and
# libc for arm64 variants too), QEMU to boot guests (qemu-system-arm for
# arm64's), what a kernel build needs, perf and gnuplot, chromium for the
# report's browser test, clang and its runtime for the fuzzers, bubblewrap
# for the sandbox of builds and guests, and that sandbox's unprivileged
# user (rb-sandbox);
# Slurm and munge for the Slurm executor and its test (tests/t-slurm.sh
# starts private daemons; the packages' own services are not used).
# Does nothing when all is there.
set -eu
pkgs="build-essential git sqlite3 libsqlite3-dev libcurl4-openssl-dev qemu-system-x86
      linux-perf gnuplot-nox flex bison bc libelf-dev libssl-dev cpio ccache xz-utils
      python3 chromium clang libclang-rt-14-dev bubblewrap slurm-wlm munge
      gcc-aarch64-linux-gnu libc6-dev-arm64-cross qemu-system-arm"
# The sandbox's user: no home, no shell, no password; in group kvm (when
# there is one) so QEMU may use /dev/kvm.
if ! id -u rb-sandbox >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin rb-sandbox
	! getent group kvm >/dev/null || usermod -a -G kvm rb-sandbox
fi
missing=
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing$missing" >&2
if [ "$(id -u)" != 0 ]; then
	echo "error: packages missing ($missing); run 'make deps' as root or install them with apt-get" >&2
	exit 3
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -q >&2
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing >&2
