# System packages the tests use for real: Graphviz (SVG diagrams), a PostgreSQL server and
# Chromium (the example desk's browser tests drive /usr/bin/chromium with Playwright), curl and jq
# (examples/http/walk_case.sh, the HTTP API's non-Python client).
# Installed with apt when missing; under CI=true a package that cannot be installed is an error.

apt_install() {
    local missing=("$@")
    [ ${#missing[@]} -eq 0 ] && return 0
    local sudo=""
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then sudo="sudo"; else
            echo "need root (or sudo) to install: ${missing[*]}" >&2
            return 1
        fi
    fi
    echo "== apt-get install ${missing[*]}"
    $sudo apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

find_pg_bin() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        if [ -x "$dir/pg_ctl" ]; then echo "$dir"; return 0; fi
    done
    return 1
}

ensure_system_packages() {
    local want=()
    command -v dot >/dev/null 2>&1 || want+=(graphviz)
    find_pg_bin >/dev/null || want+=(postgresql)
    [ -x /usr/bin/chromium ] || want+=(chromium)
    command -v curl >/dev/null 2>&1 || want+=(curl)
    command -v jq >/dev/null 2>&1 || want+=(jq)
    if ! apt_install "${want[@]}"; then
        if [ "${CI:-}" = "true" ]; then
            echo "could not install system packages: ${want[*]}" >&2
            return 1
        fi
        echo "warning: could not install ${want[*]}; tests needing them will be skipped" >&2
    fi
    local pg_bin
    if pg_bin="$(find_pg_bin)"; then
        export RESOLVEFLOW_PG_BIN="$pg_bin"
    fi
}
