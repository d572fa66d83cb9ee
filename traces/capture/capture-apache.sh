#!/bin/bash
# capture-apache.sh: Apache httpd (prefork MPM) serving a shell CGI: every
# request forks the serving child, which execs /bin/sh (mod_cgi), so the
# trace is full of forks immediately followed by exec.
#
# A private configuration in the temp dir (only the prefork, authz_core,
# alias and cgi modules; 127.0.0.1:$AP_PORT; StartServers 2, at most 4
# children) runs under cowsim-launch under $PRIO (nice -10) with -D FOREGROUND; the
# children run as www-data.  `ab -n $AP_REQUESTS -c $AP_CONC` requests the
# CGI; SIGTERM to the pid the launcher reported stops the server.  Only the
# workload's process tree is recorded (TC_SCOPE=tree, lib.sh cap_dat_tree),
# trace.dat only (FORMATS=dat).  Run as root; needs apache2 and
# apache2-utils:  traces/capture/capture-apache.sh
NAME=apache
ROOT_EXE=apache2
FORMATS=${FORMATS:-dat}
TC_SCOPE=${TC_SCOPE:-tree}
source "$(dirname "$(readlink -f "$0")")/lib.sh"
NEED_TOOLS+=(/usr/sbin/apache2 ab curl)

AP_PORT=${AP_PORT:-18080}
AP_REQUESTS=${AP_REQUESTS:-300}
AP_CONC=${AP_CONC:-2}
AP_USER=${AP_USER:-www-data}
export AP_PORT AP_REQUESTS AP_CONC AP_USER

prepare() {
	local d=$COWSIM_WORK/apache m=/usr/lib/apache2/modules
	if curl -s -o /dev/null "http://127.0.0.1:$AP_PORT/"; then
		die "something already answers on port $AP_PORT; set AP_PORT"
	fi
	chmod 711 "$COWSIM_WORK"
	mkdir -p "$d/htdocs" "$d/cgi-bin" "$d/run"
	cat >"$d/cgi-bin/hello.sh" <<'CGI'
#!/bin/sh
echo "Content-Type: text/plain"
echo
echo "hello from $$: $QUERY_STRING"
CGI
	chmod 755 "$d" "$d/htdocs" "$d/cgi-bin" "$d/cgi-bin/hello.sh"
	chown "$AP_USER" "$d/run"
	cat >"$d/httpd.conf" <<CONF
ServerRoot /etc/apache2
ServerName localhost
DefaultRuntimeDir $d/run
PidFile $d/run/apache2.pid
Mutex file:$d/run default
LoadModule mpm_prefork_module $m/mod_mpm_prefork.so
LoadModule authz_core_module $m/mod_authz_core.so
LoadModule alias_module $m/mod_alias.so
LoadModule cgi_module $m/mod_cgi.so
User $AP_USER
Group $(id -gn "$AP_USER")
Listen 127.0.0.1:$AP_PORT
ErrorLog $d/error.log
LogLevel warn
DocumentRoot $d/htdocs
ScriptAlias /cgi-bin/ $d/cgi-bin/
<Directory $d/cgi-bin>
    Require all granted
</Directory>
StartServers 2
MinSpareServers 2
MaxSpareServers 4
MaxRequestWorkers 4
MaxConnectionsPerChild 0
KeepAlive Off
CONF
	/usr/sbin/apache2 -t -f "$d/httpd.conf" >"$COWSIM_WORK/configtest.log" 2>&1 ||
		{ cat "$COWSIM_WORK/configtest.log" >&2; die "apache2 -t failed"; }
}

mark() { printf 'cowsim: phase %s\n' "$*" >"$COWSIM_MARKER"; }

workload() {
	local d=$COWSIM_WORK/apache notes=$COWSIM_WORK/notes.$COWSIM_FMT
	lpid='' spid=''
	trap '[[ -n $spid ]] && kill -TERM $spid 2>/dev/null; [[ -n $lpid ]] && wait $lpid 2>/dev/null; true' EXIT
	echo "load before: $(cat /proc/loadavg)" >"$notes"
	# its own session: prefork's shutdown SIGTERMs its whole process group
	# (ap_unixd_killpg(getpgrp(), SIGTERM)), which would include this script
	setsid $PRIO "$LAUNCH" --marker "$COWSIM_MARKER" --meta capture=$NAME \
		--pidfile "$d/pid" -- /usr/sbin/apache2 -f "$d/httpd.conf" -D FOREGROUND &
	lpid=$!
	local i url=http://127.0.0.1:$AP_PORT/cgi-bin/hello.sh
	for i in $(seq 100); do
		curl -sf -o /dev/null "$url?ready" && break
		sleep 0.1
	done
	spid=$(cat "$d/pid")
	curl -sf "$url?check" | grep -q '^hello from' || { cat "$d/error.log" >&2; return 1; }
	mark "bench-start requests=$AP_REQUESTS concurrency=$AP_CONC"
	ab -q -n "$AP_REQUESTS" -c "$AP_CONC" "$url?ab" >"$d/ab.log" 2>&1
	mark "bench-done"
	mark "stop"
	local server_pid=$spid
	kill -TERM "$spid"
	wait "$lpid" || true
	spid='' lpid=''
	{
		echo "### apache ($COWSIM_FMT run) server pid $server_pid, port $AP_PORT"
		echo "$(/usr/sbin/apache2 -v | head -1); prefork, StartServers 2, MaxRequestWorkers 4"
		echo "ab -n $AP_REQUESTS -c $AP_CONC:"
		grep -E '^(Complete requests|Failed requests|Non-2xx responses|Requests per second|Time per request)' "$d/ab.log" | sed 's/^/    /'
		echo "load after: $(cat /proc/loadavg)"
	} >>"$notes"
	cat "$notes" >&2
}

cow_main "$@"
