#!/usr/bin/env bash
# compare.sh runs Junction, Prosody and ejabberd one after another on
# loopback, each pinned to one CPU with equivalent settings, puts each under
# the same load from junction-load pinned to the other CPU, and prints a
# table of the figures with the ratios Junction/Prosody and
# Junction/ejabberd. See bench/README.md.
#
#   bench/compare.sh            full run (5,000 idle sessions, 20 s per message scenario)
#   bench/compare.sh -quick     smoke test, about a minute
#   bench/compare.sh -n 10000 -servers "junction prosody" -out /tmp/results -keep
#   bench/compare.sh -scenarios "muc-max muc-rate"   only the MUC fan-out runs
#
# Scenarios (-scenarios, default all): idle throughput rate logins muc-max
# muc-rate; muc-max and muc-rate run once per room size in MUC_OCCUPANTS
# (muc-max-100 names one run).
# Scenario sizes can be overridden from the environment: N, PAIRS, WINDOW,
# RATE, RATE_PAIRS, DURATION, WARMUP, IDLE_SETTLE, IDLE_HOLD, LOGINS,
# LOGIN_ACCOUNTS, LOGIN_CONCURRENCY, CONCURRENCY, MUC_OCCUPANTS (default
# "100 200"), MUC_WINDOW, MUC_RATE (delivered stanzas/s), SERVER_CPU, LOAD_CPU.
# A run in which other processes took more than MAX_DISTURBANCE percent
# (default 5) of either pinned CPU is repeated up to RETRIES times (default
# 2) on a fresh server; if it stays disturbed, its figures are kept and
# flagged.
set -euo pipefail

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DOMAIN=bench.local
PASSWORD=bench-pw
MECH=SCRAM-SHA-256
SERVERS="junction prosody ejabberd"
QUICK=0
KEEP=0
OUT=""
SCENARIOS="idle throughput rate logins muc-max muc-rate"

usage() {
	sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
	case $1 in
	-quick | --quick) QUICK=1 ;;
	-n) N=$2; shift ;;
	-servers) SERVERS=$2; shift ;;
	-out) OUT=$2; shift ;;
	-scenarios) SCENARIOS=$2; shift ;;
	-keep) KEEP=1 ;;
	-h | -help | --help) usage; exit 0 ;;
	*) echo "compare.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
	esac
	shift
done

if [ "$QUICK" = 1 ]; then
	: "${N:=200}" "${PAIRS:=10}" "${RATE:=2000}" "${RATE_PAIRS:=10}" "${DURATION:=3s}" "${WARMUP:=1s}"
	: "${IDLE_SETTLE:=1s}" "${IDLE_HOLD:=1s}" "${LOGINS:=100}"
else
	: "${N:=5000}" "${PAIRS:=50}" "${RATE:=5000}" "${RATE_PAIRS:=50}" "${DURATION:=20s}" "${WARMUP:=5s}"
	: "${IDLE_SETTLE:=5s}" "${IDLE_HOLD:=5s}" "${LOGINS:=500}"
fi
: "${WINDOW:=16}" "${LOGIN_ACCOUNTS:=$LOGINS}" "${LOGIN_CONCURRENCY:=16}" "${CONCURRENCY:=32}"
: "${MUC_OCCUPANTS:=100 200}" "${MUC_WINDOW:=16}" "${MUC_RATE:=5000}"
: "${SERVER_CPU:=0}" "${LOAD_CPU:=1}" "${MAX_DISTURBANCE:=5}" "${RETRIES:=2}"

die() {
	echo "compare.sh: $*" >&2
	exit 1
}

# RUNS are the runs, with muc-max and muc-rate expanded per room size;
# ACCOUNTS is how many accounts the largest of them needs.
RUNS=()
ACCOUNTS=1
need() {
	if [ "$1" -gt "$ACCOUNTS" ]; then ACCOUNTS=$1; fi
}
for sc in $SCENARIOS; do
	case $sc in
	idle) need "$N" ;;
	throughput) need $((2 * PAIRS)) ;;
	rate) need $((2 * RATE_PAIRS)) ;;
	logins) need "$LOGIN_ACCOUNTS" ;;
	muc-max | muc-rate)
		for n in $MUC_OCCUPANTS; do
			RUNS+=("$sc-$n")
			need "$n"
		done
		continue
		;;
	*) die "unknown scenario $sc (want idle throughput rate logins muc-max muc-rate)" ;;
	esac
	RUNS+=("$sc")
done

# --- prerequisites -----------------------------------------------------------

missing=()
for s in $SERVERS; do
	case $s in
	junction) ;;
	prosody) [ -x /usr/bin/prosody ] || missing+=(prosody) ;;
	ejabberd) { [ -x /usr/bin/erl ] && ls -d /usr/lib/*/ejabberd-[0-9]* >/dev/null 2>&1; } || missing+=(ejabberd) ;;
	*) die "unknown server $s (want junction, prosody, ejabberd)" ;;
	esac
done
if [ ${#missing[@]} -gt 0 ]; then
	cat >&2 <<EOF
compare.sh: missing Debian packages: ${missing[*]}. Install them with
  printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
  DEBIAN_FRONTEND=noninteractive apt-get install -y ${missing[*]}
  rm /usr/sbin/policy-rc.d
(the policy-rc.d file keeps the packages' system daemons from starting).
EOF
	exit 1
fi
for c in taskset setsid ss openssl; do
	command -v "$c" >/dev/null || die "$c is needed (util-linux, iproute2, openssl)"
done
command -v go >/dev/null || PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || die "go is needed to build junction and junction-load"
ncpu=$(nproc)
[ "$SERVER_CPU" -lt "$ncpu" ] && [ "$LOAD_CPU" -lt "$ncpu" ] || die "need CPUs $SERVER_CPU and $LOAD_CPU, have $ncpu"

# Every session is a socket on each side: raise the descriptor limit.
want_fds=$((ACCOUNTS + N + 1024))
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
[ "$(ulimit -n)" = unlimited ] || [ "$(ulimit -n)" -ge "$want_fds" ] ||
	die "ulimit -n is $(ulimit -n), need $want_fds for N=$N (raise the hard limit)"

for s in prosody beam.smp; do
	if pgrep -x "$s" >/dev/null; then
		echo "compare.sh: warning: a $s process is already running (a system daemon?); it will disturb the figures" >&2
	fi
done
read -r load1 _ </proc/loadavg
echo "compare.sh: load average $load1 before starting (anything above ~0.2 disturbs the figures)"

# --- workspace, cleanup ------------------------------------------------------

TMP=$(mktemp -d /tmp/junction-compare.XXXXXX)
[ -n "$OUT" ] || OUT=$REPO/bench/results/$(date +%Y%m%d-%H%M%S)$([ "$QUICK" = 1 ] && echo -quick)
mkdir -p "$OUT"
PGIDS=()
FAILED=()
DISTURBED=()

# stop ends the process group led by $1 (a server we started with setsid):
# TERM, then KILL after 10 s.
stop() {
	local pid=$1
	kill -TERM -- "-$pid" 2>/dev/null || return 0
	for _ in $(seq 50); do
		kill -0 -- "-$pid" 2>/dev/null || return 0
		sleep 0.2
	done
	kill -KILL -- "-$pid" 2>/dev/null || true
}

cleanup() {
	for pid in "${PGIDS[@]}"; do
		stop "$pid"
	done
	if [ "$KEEP" = 1 ]; then
		echo "compare.sh: kept $TMP"
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port prints a loopback port nothing uses.
free_port() {
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 30000))
		if [ -z "$(ss -Htan "( sport = :$p )")" ]; then
			echo "$p"
			return 0
		fi
	done
	die "no free port found"
}

# start_server LOG CMD... starts CMD in its own process group pinned to
# SERVER_CPU, appending its output to LOG, and sets SRV_PID.
start_server() {
	local log=$1
	shift
	setsid taskset -c "$SERVER_CPU" "$@" >>"$log" 2>&1 </dev/null &
	SRV_PID=$!
	PGIDS+=("$SRV_PID")
}

# wait_ready NAME PORT LOG COMM waits until the server accepts connections
# on PORT and its process has become COMM (after the exec chain of
# wrapper scripts).
wait_ready() {
	local name=$1 port=$2 log=$3 comm=$4
	for _ in $(seq 300); do
		if ! kill -0 "$SRV_PID" 2>/dev/null; then
			echo "compare.sh: $name exited during startup; its log:" >&2
			tail -30 "$log" >&2
			return 1
		fi
		if [ "$(cat "/proc/$SRV_PID/comm" 2>/dev/null)" = "$comm" ] &&
			(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			return 0
		fi
		sleep 0.2
	done
	echo "compare.sh: $name did not listen on $port within 60 s; its log:" >&2
	tail -30 "$log" >&2
	return 1
}

# --- build, certificate ------------------------------------------------------

echo "compare.sh: building junction and junction-load"
mkdir -p "$TMP/bin"
(cd "$REPO" && go build -o "$TMP/bin/junction" ./cmd/junction && go build -o "$TMP/bin/junction-load" ./cmd/junction-load)
JUNCTION=$TMP/bin/junction
LOADER=$TMP/bin/junction-load

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 30 \
	-keyout "$TMP/key.pem" -out "$TMP/cert.pem" -subj "/CN=$DOMAIN" \
	-addext "subjectAltName=DNS:$DOMAIN" 2>/dev/null || die "openssl could not make a certificate"

# --- servers -----------------------------------------------------------------

# Each start_* writes the server's config into $TMP/NAME, starts it, waits
# until it is ready and sets PORT, SRV_PID and REGISTER (-register when
# the server takes in-band registrations).

start_junction() {
	local dir=$TMP/junction
	mkdir -p "$dir/data"
	PORT=$(free_port)
	write_junction_config() {
		cat >"$dir/junction.yaml" <<EOF
data_dir: $dir/data
hosts:
  - domain: $DOMAIN
    muc: conference.$DOMAIN
$1
tls:
  cert_file: $TMP/cert.pem
  key_file: $TMP/key.pem
c2s:
  listen: 127.0.0.1:$PORT
  direct_tls_listen: ""
  require_tls: true
  idle_timeout: 1h
  max_conns_per_ip: 0
$2
metrics:
  listen: ""
log:
  level: warn
EOF
	}
	write_junction_config "    registration: open" "  registrations_per_ip_hour: 0"
	if "$JUNCTION" config check "$dir/junction.yaml" >/dev/null 2>&1; then
		REGISTER=-register
	else
		# A Junction without in-band registration: create the accounts offline.
		write_junction_config "" ""
		"$JUNCTION" config check "$dir/junction.yaml" >/dev/null
		if [ ! -e "$dir/accounts-created" ]; then
			echo "compare.sh: junction: creating $ACCOUNTS accounts with 'junction user add'"
			for i in $(seq 0 $((ACCOUNTS - 1))); do
				printf '%s\n' "$PASSWORD" | "$JUNCTION" user add "bench$i@$DOMAIN" -config "$dir/junction.yaml" >/dev/null
			done
			touch "$dir/accounts-created"
		fi
		REGISTER=""
	fi
	start_server "$dir/junction.log" "$JUNCTION" serve -config "$dir/junction.yaml"
	wait_ready junction "$PORT" "$dir/junction.log" junction
}

start_prosody() {
	local dir=$TMP/prosody
	mkdir -p "$dir/data" "$dir/certs"
	PORT=$(free_port)
	cat >"$dir/prosody.cfg.lua" <<EOF
-- Written by bench/compare.sh: c2s and MUC only, on loopback, TLS required.
run_as_root = true
pidfile = "$dir/prosody.pid"
data_path = "$dir/data"
certificates = "$dir/certs"
log = { warn = "$dir/prosody.log" }
modules_enabled = { "roster"; "saslauth"; "tls"; "disco"; "ping"; "register" }
modules_disabled = { "s2s"; "s2s_auth_certs" }
c2s_ports = { $PORT }
c2s_interfaces = { "127.0.0.1" }
s2s_ports = { }
network_settings = { tcp_backlog = 1024 }
c2s_require_encryption = true
allow_registration = true
min_seconds_between_registrations = 0
authentication = "internal_hashed"
password_hash = "SHA-256"
default_iteration_count = 4096
storage = "internal"
limits = { }
ssl = { certificate = "$TMP/cert.pem"; key = "$TMP/key.pem" }
VirtualHost "$DOMAIN"
Component "conference.$DOMAIN" "muc"
	restrict_room_creation = false
	muc_room_default_history_length = 0
	max_history_messages = 0
	muc_tombstones = false
EOF
	start_server "$dir/stdout.log" /usr/bin/prosody --config "$dir/prosody.cfg.lua" -F
	REGISTER=-register
	wait_ready prosody "$PORT" "$dir/stdout.log" lua5.4
}

start_ejabberd() {
	local dir=$TMP/ejabberd libs
	mkdir -p "$dir/spool" "$dir/log"
	PORT=$(free_port)
	libs=$(dirname "$(ls -d /usr/lib/*/ejabberd-[0-9]* | head -1)")
	cat "$TMP/cert.pem" "$TMP/key.pem" >"$dir/bench.pem"
	cat >"$dir/ejabberd.yml" <<EOF
# Written by bench/compare.sh: c2s and MUC only, on loopback, TLS required.
hosts:
  - $DOMAIN
loglevel: warning
certfiles:
  - $dir/bench.pem
listen:
  -
    port: $PORT
    ip: "127.0.0.1"
    module: ejabberd_c2s
    backlog: 1024
    max_stanza_size: 262144
    access: c2s
    shaper: none
    starttls_required: true
auth_method: internal
auth_password_format: scram
auth_scram_hash: sha256
registration_timeout: infinity
shaper_rules:
  c2s_shaper: none
access_rules:
  c2s:
    allow: all
  register:
    allow: all
modules:
  mod_disco: {}
  mod_ping: {}
  mod_roster: {}
  mod_offline: {}
  mod_register:
    access: register
    ip_access: all
  mod_muc:
    host: conference.@HOST@
    access: all
    access_create: all
    access_persistent: all
    max_users: 5000
    max_users_presence: 5000
    max_user_conferences: 100
    history_size: 0
    min_message_interval: 0
    min_presence_interval: 0
    user_message_shaper: none
    user_presence_shaper: none
    default_room_options:
      mam: false
      persistent: false
EOF
	# erl directly rather than ejabberdctl, which switches to the ejabberd
	# user and starts epmd: no distribution, so nothing else is left behind.
	pushd "$dir/spool" >/dev/null
	start_server "$dir/log/stdout.log" env \
		EJABBERD_CONFIG_PATH="$dir/ejabberd.yml" EJABBERD_LOG_PATH="$dir/log/ejabberd.log" \
		ERL_CRASH_DUMP="$dir/log/erl_crash.dump" ERL_INETRC=/etc/ejabberd/inetrc \
		ERL_MAX_PORTS=65536 ERL_LIBS="$libs" HOME="$dir" \
		/usr/bin/erl +K true +P 250000 -noinput -mnesia dir "\"$dir/spool\"" -s ejabberd
	popd >/dev/null
	REGISTER=-register
	wait_ready ejabberd "$PORT" "$dir/log/stdout.log" beam.smp
}

# --- load --------------------------------------------------------------------

# load SERVER RUN FLAGS... runs junction-load pinned to LOAD_CPU and
# returns its exit status: 3 means other processes disturbed the run. RUN
# is the scenario, or for muc the scenario, mode and size (muc-max-100);
# the result is saved as SERVER-RUN.json.
load() {
	local server=$1 run=$2 scenario=${2%%-*} rc
	shift 2
	echo "== $server $run" | tee -a "$OUT/summary.txt"
	set +e
	taskset -c "$LOAD_CPU" "$LOADER" -addr "127.0.0.1:$PORT" -domain "$DOMAIN" \
		-password "$PASSWORD" -mech "$MECH" -pid "$SRV_PID" -concurrency "$CONCURRENCY" \
		-max-disturbance "$MAX_DISTURBANCE" -scenario "$scenario" -json "$OUT/$server-$run.json" \
		"$@" 2>"$OUT/$server-$run.log" | tee -a "$OUT/summary.txt"
	rc=${PIPESTATUS[0]}
	set -e
	if [ "$rc" != 0 ] && [ "$rc" != 3 ]; then
		echo "compare.sh: $server $run failed:" >&2
		tail -5 "$OUT/$server-$run.log" >&2
	fi
	return "$rc"
}

# run_server NAME runs every scenario against NAME, each on a freshly
# started server (the accounts stay in its data directory): a server that
# has just held and dropped N sessions can be slower than a fresh one
# (Prosody 0.12 stays at a third of its message rate after 5,000 sessions
# came and went), and each figure should not depend on the run before it.
# The idle run registers every account the later runs use; without it,
# every run registers the accounts it needs (an existing one is fine).
run_server() {
	local s=$1 pid scenario attempt rc reg regall=1
	case " ${RUNS[*]} " in
	*" idle "*) regall=0 ;;
	esac
	for scenario in "${RUNS[@]}"; do
		for attempt in $(seq 0 "$RETRIES"); do
			echo "compare.sh: starting $s (CPU $SERVER_CPU) for $scenario"
			if ! "start_$s"; then
				FAILED+=("$s/start")
				return 0
			fi
			pid=$SRV_PID
			rc=0
			reg=()
			if [ "$regall" = 1 ] && [ -n "$REGISTER" ]; then
				reg=("$REGISTER")
			fi
			case $scenario in
			idle)
				load "$s" idle $REGISTER -accounts "$ACCOUNTS" -n "$N" -warmup "$IDLE_SETTLE" -duration "$IDLE_HOLD" || rc=$?
				;;
			throughput) load "$s" throughput "${reg[@]}" -pairs "$PAIRS" -window "$WINDOW" -warmup "$WARMUP" -duration "$DURATION" || rc=$? ;;
			rate) load "$s" rate "${reg[@]}" -pairs "$RATE_PAIRS" -rate "$RATE" -warmup "$WARMUP" -duration "$DURATION" || rc=$? ;;
			logins) load "$s" logins "${reg[@]}" -n "$LOGINS" -accounts "$LOGIN_ACCOUNTS" -concurrency "$LOGIN_CONCURRENCY" -warmup 1s || rc=$? ;;
			muc-max-*)
				load "$s" "$scenario" "${reg[@]}" -occupants "${scenario##*-}" -window "$MUC_WINDOW" \
					-warmup "$WARMUP" -duration "$DURATION" || rc=$?
				;;
			muc-rate-*)
				load "$s" "$scenario" "${reg[@]}" -occupants "${scenario##*-}" -rate "$MUC_RATE" \
					-warmup "$WARMUP" -duration "$DURATION" || rc=$?
				;;
			esac
			stop "$pid"
			if [ "$rc" = 3 ] && [ "$attempt" -lt "$RETRIES" ]; then
				echo "compare.sh: $s $scenario was disturbed by other processes; again" | tee -a "$OUT/summary.txt"
				sleep 5
				continue
			fi
			case $rc in
			0) ;;
			3) DISTURBED+=("$s/$scenario") ;;
			*)
				FAILED+=("$s/$scenario")
				[ "$scenario" = idle ] && return 0 # no accounts for the rest
				;;
			esac
			break
		done
	done
}

{
	echo "compare.sh $(date -u +%Y-%m-%dT%H:%M:%SZ) quick=$QUICK"
	echo "cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ //') x $ncpu; kernel $(uname -r)"
	echo "junction $(git -C "$REPO" describe --always --dirty 2>/dev/null || echo '?'); $(go version)"
	[ -x /usr/bin/prosody ] && echo "prosody $(dpkg-query -W -f '${Version}' prosody 2>/dev/null)"
	[ -x /usr/bin/erl ] && echo "ejabberd $(dpkg-query -W -f '${Version}' ejabberd 2>/dev/null)"
	echo "servers on CPU $SERVER_CPU, junction-load on CPU $LOAD_CPU; $MECH over STARTTLS"
	echo "runs: ${RUNS[*]}"
	echo "idle: N=$N (settle $IDLE_SETTLE, hold $IDLE_HOLD); throughput: $PAIRS pairs, window $WINDOW;" \
		"rate: $RATE msgs/s over $RATE_PAIRS pairs; $DURATION measured after $WARMUP warmup; logins: $LOGINS"
	echo "muc: one room of $MUC_OCCUPANTS occupants, one sender; max: $MUC_WINDOW messages in flight;" \
		"rate: $MUC_RATE delivered stanzas/s"
} | tee "$OUT/summary.txt"

for s in $SERVERS; do
	run_server "$s"
done

names=$(echo "$SERVERS" | tr ' ' ',')
echo | tee -a "$OUT/summary.txt"
"$LOADER" compare -servers "$names" "$OUT" | tee "$OUT/table.txt" | tee -a "$OUT/summary.txt"
echo "compare.sh: results in $OUT"
if [ ${#DISTURBED[@]} -gt 0 ]; then
	echo "compare.sh: disturbed by other processes even after $RETRIES retries (figures unreliable): ${DISTURBED[*]}" | tee -a "$OUT/summary.txt" >&2
fi
if [ ${#FAILED[@]} -gt 0 ]; then
	echo "compare.sh: failed: ${FAILED[*]}" >&2
	exit 1
fi
