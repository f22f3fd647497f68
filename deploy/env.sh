# The local layout's settings, sourced by deploy/up, deploy/down and the topology check.
# Every value can be overridden from the environment (e.g. another run directory, database or
# ports to run a second layout beside the first). Loopback only.
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RUN="${SELFKIND_RUN_DIR:-$ROOT/var/topology}"
DB_NAME="${SELFKIND_TOPOLOGY_DB:-selfkind_topology}"
PG_SERVER="${SELFKIND_PG_SERVER:-postgres://postgres@127.0.0.1:5432}"
REDIS_DB_URL="${SELFKIND_TOPOLOGY_REDIS:-redis://127.0.0.1:6379/5}"
LB_PORT="${SELFKIND_LB_PORT:-8443}"
LB_HTTP_PORT="${SELFKIND_LB_HTTP_PORT:-8080}"
WEB1_PORT="${SELFKIND_WEB1_PORT:-8101}"
WEB2_PORT="${SELFKIND_WEB2_PORT:-8102}"
WEB_WORKERS="${SELFKIND_WEB_WORKERS:-2}"
CONSUMER_WORKERS="${SELFKIND_CONSUMER_WORKERS:-2}"
# Without EMAIL_HOST, deploy/up starts a mail sink on loopback that accepts and discards.
SMTP_PORT="${SELFKIND_SINK_PORT:-8025}"
PYTHON="$ROOT/.venv/bin/python"
GUNICORN="$ROOT/.venv/bin/gunicorn"
PROCESSES="smtp web1 web2 consumer1 consumer2 balancer"

# Whether process PID is alive: a killed process whose parent has gone may stay a zombie for a
# while (kill -0 still succeeds on it), which counts as gone.
alive() { kill -0 "$1" 2>/dev/null && [[ "$(ps -o stat= -p "$1" 2>/dev/null)" != Z* ]]; }
