#!/bin/sh
# test.sh runs every Junction test. It first makes sure the real peers the
# tests talk to are installed: as root it installs missing Debian packages,
# otherwise it names them and stops.
set -eu
cd "$(dirname "$0")"

# Debian packages the tests drive (real clients and servers on loopback).
PACKAGES="go-sendxmpp python3-slixmpp ngircd biboumi prosody ejabberd"

missing=""
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	if [ "$(id -u)" = 0 ]; then
		echo "test.sh: installing$missing"
		export DEBIAN_FRONTEND=noninteractive
		# Packages with daemons must not start them: tests run their own.
		printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
		chmod +x /usr/sbin/policy-rc.d
		apt-get install -y $missing || { apt-get update && apt-get install -y $missing; }
		rm -f /usr/sbin/policy-rc.d
	else
		echo "test.sh: missing Debian packages:$missing" >&2
		echo "test.sh: install them with: sudo apt-get install -y$missing" >&2
		exit 1
	fi
fi

if ! command -v go >/dev/null 2>&1; then
	if [ -x /usr/local/go/bin/go ]; then
		PATH="$PATH:/usr/local/go/bin"
	else
		echo "test.sh: Go is not installed (https://go.dev/dl/, 1.26 or later)" >&2
		exit 1
	fi
fi

# CI=true turns a missing peer into a failure instead of a skip.
export CI="${CI:-true}"
go vet ./...
go test -count=1 -timeout 15m ./...
