# Sourced by test.sh: makes PostgreSQL and MariaDB reachable for the SQL
# suites and exports their DSNs. On CI (CI=true) it starts a stopped local
# server; elsewhere a missing database only makes those suites skip.

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ensure_db() { # name port start-command...
	local name=$1 port=$2; shift 2
	port_open "$port" && return 0
	if [ "${CI:-}" = true ] && command -v "$1" >/dev/null 2>&1; then
		echo "starting $name on 127.0.0.1:$port"
		"$@" >/dev/null 2>&1 || true
		for _ in $(seq 1 30); do port_open "$port" && return 0; sleep 1; done
	fi
	echo "note: $name is not reachable on 127.0.0.1:$port; its suites will $([ "${CI:-}" = true ] && echo fail || echo skip)" >&2
	return 1
}

if ensure_db PostgreSQL 5432 pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql 2>/dev/null | head -1)" main start || [ "${CI:-}" = true ]; then
	export NOTARY_TEST_POSTGRES_DSN="${NOTARY_TEST_POSTGRES_DSN:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}"
fi
if ensure_db MariaDB 3306 start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd || [ "${CI:-}" = true ]; then
	export NOTARY_TEST_MYSQL_DSN="${NOTARY_TEST_MYSQL_DSN:-root@tcp(127.0.0.1:3306)/test}"
fi
