#!/bin/bash
# A signed apt repository of the tracer-dkms .debs ("make repo").
#
#   scripts/repo.sh --out DIR --url URL [--suite stable] --gnupghome DIR [--key ID] DEB...
#
# Adds the DEBs to DIR/pool/main/t/tracer-dkms/ (what is there already stays:
# a repository keeps its older versions, apt picks the newest) and writes
# pool layout indices with apt-ftparchive:
#
#   DIR/dists/SUITE/{Release,InRelease,Release.gpg}
#   DIR/dists/SUITE/main/binary-ARCH/Packages{,.gz}   one per architecture of the DEBs
#   DIR/tracer-dkms-archive-keyring.gpg              the public key, for signed-by=
#   DIR/tracer-dkms.sources                          the apt source (deb822) for URL
#
# Signs with the key ID (default: the first secret key) of the GnuPG home DIR;
# if that holds no secret key, a throwaway one is made there first (ed25519,
# no passphrase, valid for a year): fine for tests, not for publishing, where
# the publisher's own GnuPG home and key are given instead.
set -euo pipefail

die() { printf 'repo.sh: %s\n' "$*" >&2; exit 1; }

out='' url='' suite=stable gnupghome='' key=''
while [ $# -gt 0 ]; do
	case $1 in
	--out) out=$2; shift 2 ;;
	--url) url=$2; shift 2 ;;
	--suite) suite=$2; shift 2 ;;
	--gnupghome) gnupghome=$2; shift 2 ;;
	--key) key=$2; shift 2 ;;
	--) shift; break ;;
	-*) die "unknown option $1" ;;
	*) break ;;
	esac
done
if [ -z "$out" ] || [ -z "$url" ] || [ -z "$gnupghome" ] || [ $# = 0 ]; then
	die "usage: $0 --out DIR --url URL [--suite SUITE] --gnupghome DIR [--key ID] DEB..."
fi
command -v apt-ftparchive >/dev/null || die "apt-ftparchive not found: apt-get install apt-utils"
command -v gpg >/dev/null || die "gpg not found: apt-get install gpg"

component=main
keyring_name=tracer-dkms-archive-keyring.gpg
pool=pool/$component/t/tracer-dkms

mkdir -p "$out/$pool"
for deb in "$@"; do
	[ -f "$deb" ] || die "no such package: $deb"
	dpkg-deb -f "$deb" Package >/dev/null || die "not a .deb: $deb"
	cp -f "$deb" "$out/$pool/"
done

# The signing key.
mkdir -p "$gnupghome"
chmod 0700 "$gnupghome"
gpg_() { gpg --homedir "$gnupghome" --batch --quiet "$@"; }
if ! gpg_ --list-secret-keys --with-colons 2>/dev/null | grep -q '^sec'; then
	gpg_ --passphrase '' --quick-gen-key \
		"tracer-dkms archive key (throwaway, for tests) <dev@tracer-dkms.invalid>" ed25519 sign 1y
	touch "$gnupghome/tracer-dkms-throwaway"
fi
# The agent gpg starts for a throwaway key's home ends with this script.
if [ -e "$gnupghome/tracer-dkms-throwaway" ]; then
	trap 'gpgconf --homedir "$gnupghome" --kill gpg-agent 2>/dev/null || true' EXIT
fi
if [ -z "$key" ]; then
	key=$(gpg_ --list-secret-keys --with-colons | awk -F: '$1 == "fpr" { print $10; exit }')
fi
[ -n "$key" ] || die "no signing key in $gnupghome"

# The architectures: those of the packages ("all" ones appear in each); amd64
# if every package is "all".
archs=$(for deb in "$out/$pool"/*.deb; do dpkg-deb -f "$deb" Architecture; done |
	grep -vx all | sort -u | tr '\n' ' ')
archs=${archs% }
[ -n "$archs" ] || archs=amd64

cd "$out"
rm -rf "dists/$suite"
for arch in $archs; do
	dir=dists/$suite/$component/binary-$arch
	mkdir -p "$dir"
	apt-ftparchive --arch "$arch" packages "pool/$component" >"$dir/Packages"
	gzip -9n <"$dir/Packages" >"$dir/Packages.gz"
done
apt-ftparchive \
	-o "APT::FTPArchive::Release::Origin=tracer-dkms" \
	-o "APT::FTPArchive::Release::Label=tracer-dkms" \
	-o "APT::FTPArchive::Release::Suite=$suite" \
	-o "APT::FTPArchive::Release::Codename=$suite" \
	-o "APT::FTPArchive::Release::Architectures=$archs" \
	-o "APT::FTPArchive::Release::Components=$component" \
	-o "APT::FTPArchive::Release::Description=tracer-dkms packages" \
	release "dists/$suite" >"dists/$suite/Release.tmp"
mv "dists/$suite/Release.tmp" "dists/$suite/Release"
gpg_ --yes --local-user "$key" --clearsign -o "dists/$suite/InRelease" "dists/$suite/Release"
gpg_ --yes --local-user "$key" --armor --detach-sign -o "dists/$suite/Release.gpg" "dists/$suite/Release"

# The public key as a binary keyring (apt's signed-by), and the apt source.
gpg_ --export "$key" >"$keyring_name"
cat >tracer-dkms.sources <<EOF
Types: deb
URIs: $url
Suites: $suite
Components: $component
Signed-By: /usr/share/keyrings/$keyring_name
EOF
printf 'repository %s (%s; key %s): %s\n' "$PWD" "$archs" "$key" \
	"$(find "$pool" -name '*.deb' -printf '%f ' | sort)"
