# Shared by the benchmark scripts (source it): the private PostgreSQL's
# tools, the machine's description, and starting API processes. Expects
# DATABASE_URL (an admin URL, from bin/paylink devenv) and out (where logs
# go).

pgbin=$(dirname "$(command -v psql || ls -d /usr/lib/postgresql/*/bin/psql | sort -V | tail -1)")
admin_url=$DATABASE_URL
# admin SQL: run SQL on the admin database, print the result bare.
admin() { PGOPTIONS="-c client_min_messages=warning" "$pgbin/psql" "$admin_url" -qAtX -v ON_ERROR_STOP=1 -c "$1"; }
# with_db NAME: the admin URL pointing at database NAME instead.
with_db() { echo "$admin_url" | sed -E "s#^(postgres(ql)?://[^/]+)/[^?]*#\1/$1#"; }
# sql DB SQL: run SQL on database DB.
sql() { PGOPTIONS="-c client_min_messages=warning" "$pgbin/psql" "$(with_db "$1")" -qAtX -v ON_ERROR_STOP=1 -c "$2"; }

machine() {
	echo "== machine"
	echo "date:       $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "commit:     $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet 2>/dev/null || echo ' (with uncommitted changes)')"
	echo "cpu:        $(nproc) x $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')"
	echo "memory:     $(free -g | awk '/^Mem:/ {print $2 " GiB"}')"
	echo "load:       $(cut -d' ' -f1-3 /proc/loadavg) (1/5/15 min)"
	echo "postgres:   $(admin 'SHOW server_version'), fsync=$(admin 'SHOW fsync'), synchronous_commit=$(admin 'SHOW synchronous_commit'), shared_buffers=$(admin 'SHOW shared_buffers')"
}

# started holds the pids of the processes start_api and start_nginx
# started; stop_started ends them.
started=()
stop_started() {
	local p
	for p in "${started[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${started[@]}"; do wait "$p" 2>/dev/null || true; done
	started=()
}

# start_api NAME PORT [DEBUG_PORT]: runs `paylink api` on 127.0.0.1:PORT
# (with the environment's database) until stop_started, logging to
# $out/NAME.log, and waits until it is ready. Sets api_pid.
start_api() {
	local name=$1 port=$2 debug=${3:-}
	PAYLINK_ADDR=127.0.0.1:$port PAYLINK_DEBUG_ADDR=${debug:+127.0.0.1:$debug} PAYLINK_METRICS_ADDR=127.0.0.1:$((port + 2)) bin/paylink api 2>"$out/$name.log" &
	api_pid=$!
	started+=("$api_pid")
	wait_http "http://127.0.0.1:$port/readyz" "$api_pid" "$out/$name.log"
}

# wait_http URL PID LOG: waits until URL answers 2xx, or fails showing LOG
# if PID exits or 10 s pass.
wait_http() {
	local _
	for _ in $(seq 1 100); do
		curl -fs "$1" >/dev/null 2>&1 && return 0
		kill -0 "$2" 2>/dev/null || break
		sleep 0.1
	done
	echo "$1 did not answer:" >&2
	cat "$3" >&2
	return 1
}

# start_nginx PORT UPSTREAM_PORT…: a plain nginx on 127.0.0.1:PORT in front
# of API processes on the given ports, configured as deploy/nginx.conf
# (least_conn, keep-alive to the upstreams). Sets nginx_pid.
start_nginx() {
	local port=$1 dir=$PWD/$out/nginx up
	shift
	rm -rf "$dir" && mkdir -p "$dir/tmp" && chmod 1777 "$dir/tmp"
	{
		echo "daemon off; worker_processes auto; pid $dir/nginx.pid; error_log $dir/error.log warn;"
		echo "events { worker_connections 4096; }"
		echo "http { access_log off; server_tokens off;"
		echo "  client_body_temp_path $dir/tmp/body; proxy_temp_path $dir/tmp/proxy; fastcgi_temp_path $dir/tmp/fcgi;"
		echo "  uwsgi_temp_path $dir/tmp/uwsgi; scgi_temp_path $dir/tmp/scgi;"
		echo "  upstream paylink_api { least_conn;"
		for up in "$@"; do echo "    server 127.0.0.1:$up max_fails=3 fail_timeout=5s;"; done
		echo "    keepalive 64; }"
		echo "  server { listen 127.0.0.1:$port; client_max_body_size 1m;"
		echo "    location / { proxy_pass http://paylink_api; proxy_http_version 1.1; proxy_set_header Connection \"\";"
		echo "      proxy_set_header Host \$host; proxy_set_header X-Forwarded-For \$proxy_add_x_forwarded_for;"
		echo "      proxy_read_timeout 60s; proxy_next_upstream error timeout http_502 http_503; } } }"
	} >"$dir/nginx.conf"
	"$(command -v nginx || echo /usr/sbin/nginx)" -p "$dir" -c "$dir/nginx.conf" -e "$dir/error.log" &
	nginx_pid=$!
	started+=("$nginx_pid")
	wait_http "http://127.0.0.1:$port/readyz" "$nginx_pid" "$dir/error.log"
}

# pg_redis_cpu: the -cpu entries of PostgreSQL (with its backends) and
# Redis for paylinkbench.
pg_redis_cpu() {
	local postmaster redisport redispid spec=""
	postmaster=$(head -1 .data/bench/postgres/postmaster.pid 2>/dev/null || true)
	redisport=$(echo "$REDIS_URL" | sed -E 's#^redis://([^/]*@)?[^:/]+:([0-9]+).*#\2#')
	redispid=$(ss -ltnpH "sport = :$redisport" 2>/dev/null | sed -nE 's/.*pid=([0-9]+).*/\1/p' | head -1)
	[[ -n $postmaster ]] && spec="postgres=$postmaster+"
	[[ -n $redispid ]] && spec="$spec,redis=$redispid"
	echo "$spec"
}
