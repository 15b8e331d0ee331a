#!/usr/bin/env bash
# Installs and starts the real services the acceptance tests use (git, tmux, a Docker engine
# with locally built test images). Idempotent: what is already there is left alone, so a second
# run costs seconds. Under CI=true a missing part is an error; elsewhere it is a notice and the
# tests that need it skip with a reason.
set -u

in_ci() { [ "${CI:-}" = true ]; }
can_install() { [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; }
fail_or_notice() {
  echo "services: $*" >&2
  if in_ci; then exit 1; fi
}

apt_updated=no
apt_install() {
  echo "services: installing $*"
  if [ "$apt_updated" = no ]; then
    apt-get update -qq >/dev/null && apt_updated=yes
  fi
  local log
  log=$(mktemp)
  if ! DEBIAN_FRONTEND=noninteractive NEEDRESTART_SUSPEND=1 apt-get install -y -qq "$@" >"$log" 2>&1; then
    tail -n 20 "$log" >&2
    rm -f "$log"
    return 1
  fi
  rm -f "$log"
}

# --- git, tmux ------------------------------------------------------------------------------
need_apt=()
command -v git >/dev/null 2>&1 || need_apt+=(git)
command -v tmux >/dev/null 2>&1 || need_apt+=(tmux)
if [ ${#need_apt[@]} -gt 0 ]; then
  if can_install; then
    apt_install "${need_apt[@]}" || fail_or_notice "apt-get install ${need_apt[*]} failed"
  else
    fail_or_notice "${need_apt[*]} missing and cannot be installed"
  fi
fi

# --- Docker engine --------------------------------------------------------------------------
# Debian's docker.io, dockerd started in the background on the default socket. Plan A is the
# daemon's defaults (overlay2, bridge with iptables): they work on these machines. Plan B, for
# kernels without overlayfs or netfilter: vfs storage and no bridge (containers get loopback only).
DOCKERD_LOG=/var/log/roost-dockerd.log
DOCKER_PLAN_B=(--storage-driver=vfs --iptables=false --ip6tables=false --bridge=none)

engine_up() { timeout 10 docker info >/dev/null 2>&1; }

wait_for_engine() {  # $1: pid of the dockerd we started
  for _ in $(seq 1 60); do
    engine_up && return 0
    kill -0 "$1" 2>/dev/null || return 1
    sleep 0.5
  done
  return 1
}

# /run is on disk here: after a machine or session restart the pid files of a killed dockerd and
# its containerd remain, and dockerd refuses to start while one names a live process (a reused
# pid, or the killed daemon still a zombie). Remove those that name no running daemon.
clear_stale_pid_files() {
  local file pid
  for file in /var/run/docker.pid /var/run/docker/containerd/containerd.pid; do
    [ -f "$file" ] || continue
    pid=$(tr -dc 0-9 <"$file")
    if [ -z "$pid" ] || [ ! -r "/proc/$pid/comm" ] \
        || ! grep -qxE 'dockerd|containerd' "/proc/$pid/comm" \
        || grep -qE '^State:[[:space:]]+Z' "/proc/$pid/status" 2>/dev/null; then
      rm -f "$file"
    fi
  done
}

start_dockerd() {  # args: extra dockerd flags
  echo "services: starting dockerd $*" >&2
  clear_stale_pid_files
  setsid nohup dockerd --host=unix:///var/run/docker.sock --log-level=warn "$@" \
    >>"$DOCKERD_LOG" 2>&1 </dev/null &
  local pid=$!
  if wait_for_engine "$pid"; then
    return 0
  fi
  kill "$pid" 2>/dev/null
  for _ in $(seq 1 20); do kill -0 "$pid" 2>/dev/null || break; sleep 0.5; done
  return 1
}

ensure_docker_engine() {
  engine_up && return 0
  if [ -n "${DOCKER_HOST:-}" ] && [ "$DOCKER_HOST" != unix:///var/run/docker.sock ]; then
    fail_or_notice "DOCKER_HOST=$DOCKER_HOST does not answer (docker info fails): Docker tests will skip"
    return 1
  fi
  if ! can_install; then
    fail_or_notice "no Docker engine (docker info fails) and not root: Docker tests will skip"
    return 1
  fi
  if ! command -v dockerd >/dev/null 2>&1; then
    apt_install docker.io || { fail_or_notice "apt-get install docker.io failed"; return 1; }
  fi
  command -v docker >/dev/null 2>&1 || { fail_or_notice "docker.io installed no docker client"; return 1; }
  if start_dockerd || start_dockerd "${DOCKER_PLAN_B[@]}"; then
    return 0
  fi
  fail_or_notice "dockerd did not start; last lines of $DOCKERD_LOG:"
  tail -n 15 "$DOCKERD_LOG" >&2
  return 1
}

# --- test images ----------------------------------------------------------------------------
# No registry is reachable, so the images the tests (and the seed flows) name are built here:
# a Debian bookworm minbase with python3 and pip (and `python`, as python:3.11-slim has), plus
# uv, and the packages the seed flows import (kestra, pandas, requests: installed from PyPI by the host's
# pip, so the seed's `pip install -r requirements.txt` finds them satisfied and needs no network),
# imported and tagged with every name the tests and the seed flows use. The root filesystem is
# cached as a tarball; IMAGE_LABEL changes whenever what goes in the image changes.
IMAGE_CACHE=/var/cache/roost-test-images
IMAGE_LABEL=bookworm-minbase-pydata-uv-2
ROOTFS_TAR=$IMAGE_CACHE/$IMAGE_LABEL.tar
BASE_TAG=roost-test/bookworm-pydata:latest
TEST_TAGS=(python:3.11-slim python:3.13-slim ubuntu:latest ghcr.io/kestra-io/pydata:latest)
SEED_PACKAGES=(kestra pandas requests pyarrow uv)

debian_mirror() {
  local uri
  uri=$(grep -hoE '^(URIs:|deb) +https?://[^ ]+/debian/?( |$)' /etc/apt/sources.list.d/*.sources \
        /etc/apt/sources.list 2>/dev/null | grep -oE 'https?://[^ ]+' | head -n 1)
  echo "${uri:-http://deb.debian.org/debian}"
}

build_rootfs_tarball() {
  command -v debootstrap >/dev/null 2>&1 || apt_install debootstrap || return 1
  mkdir -p "$IMAGE_CACHE"
  local dir
  dir=$(mktemp -d /var/tmp/roost-rootfs.XXXXXX)
  echo "services: debootstrap bookworm into $dir (about 30 s)"
  if ! debootstrap --variant=minbase --include=python3,python3-pip,ca-certificates bookworm "$dir" \
      "$(debian_mirror)" \
      >"$IMAGE_CACHE/debootstrap.log" 2>&1; then
    tail -n 5 "$IMAGE_CACHE/debootstrap.log" >&2
    for m in dev/pts dev proc sys; do umount "$dir/$m" 2>/dev/null; done
    rm -rf --one-file-system "$dir"
    return 1
  fi
  ln -sf python3 "$dir/usr/bin/python"
  # python:3.11-slim's pip installs where it is told; Debian's refuses (PEP 668) without this.
  rm -f "$dir"/usr/lib/python3*/EXTERNALLY-MANAGED
  echo "services: installing ${SEED_PACKAGES[*]} into the image"
  if ! python3 -m pip install --quiet --no-warn-script-location --only-binary=:all: \
      --target "$dir/usr/local/lib/python3.11/dist-packages" "${SEED_PACKAGES[@]}" \
      >"$IMAGE_CACHE/pip.log" 2>&1; then
    tail -n 5 "$IMAGE_CACHE/pip.log" >&2
    rm -rf --one-file-system "$dir"
    return 1
  fi
  # uv, as Kestra's python images have it: its wheel puts the binary under the target's bin/.
  mkdir -p "$dir/usr/local/bin"
  mv "$dir"/usr/local/lib/python3.11/dist-packages/bin/* "$dir/usr/local/bin/" 2>/dev/null
  rm -rf "$dir"/usr/local/lib/python3.11/dist-packages/bin
  rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/*
  tar -C "$dir" -cf "$ROOTFS_TAR.tmp" . && mv "$ROOTFS_TAR.tmp" "$ROOTFS_TAR"
  local status=$?
  rm -rf --one-file-system "$dir"
  return $status
}

ensure_test_images() {
  local missing=() label
  for tag in "${TEST_TAGS[@]}"; do
    label=$(docker image inspect -f '{{index .Config.Labels "io.roost.test-image"}}' "$tag" 2>/dev/null)
    [ "$label" = "$IMAGE_LABEL" ] || missing+=("$tag")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  if ! docker image inspect "$BASE_TAG" >/dev/null 2>&1; then
    if [ ! -s "$ROOTFS_TAR" ]; then
      can_install || { fail_or_notice "test images ${missing[*]} missing and cannot be built (not root)"; return 1; }
      build_rootfs_tarball || { fail_or_notice "debootstrap of the test image failed"; return 1; }
    fi
    echo "services: importing $ROOTFS_TAR as $BASE_TAG"
    docker import \
      --change 'CMD ["/bin/bash"]' \
      --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
      --change "LABEL io.roost.test-image=$IMAGE_LABEL" \
      "$ROOTFS_TAR" "$BASE_TAG" >/dev/null || { fail_or_notice "docker import failed"; return 1; }
  fi
  for tag in "${missing[@]}"; do
    docker tag "$BASE_TAG" "$tag" || { fail_or_notice "docker tag $tag failed"; return 1; }
  done
  echo "services: test images ready: ${missing[*]}"
}

if ensure_docker_engine; then
  ensure_test_images
fi

# --- PostgreSQL -----------------------------------------------------------------------------
# Debian's postgresql, a cluster of its own ("roost") on 127.0.0.1:54329 so a system cluster on
# 5432 is left alone; the JDBC tests (tests/tasks/plugins/test_jdbc_postgres.py) log in as
# postgres/roost to the database roost_test. A cluster already running costs one pg_isready.
PG_PORT=54329
PG_PASSWORD=roost
PG_DATABASE=roost_test

pg_version() { ls /usr/lib/postgresql 2>/dev/null | sort -n | tail -n 1; }
pg_up() { pg_isready -q -h 127.0.0.1 -p "$PG_PORT" 2>/dev/null; }
as_postgres() { su postgres -s /bin/sh -c "$1"; }

ensure_postgres() {
  pg_up && return 0
  if [ -z "$(pg_version)" ] || ! command -v pg_createcluster >/dev/null 2>&1; then
    can_install || { fail_or_notice "postgresql missing and cannot be installed: PostgreSQL tests will skip"; return 1; }
    apt_install postgresql || { fail_or_notice "apt-get install postgresql failed"; return 1; }
  fi
  local version
  version=$(pg_version)
  if ! pg_lsclusters -h 2>/dev/null | grep -qE "^$version +roost "; then
    pg_createcluster "$version" roost -p "$PG_PORT" -- --auth-local=peer --auth-host=scram-sha-256 \
      >/dev/null || { fail_or_notice "pg_createcluster $version roost failed"; return 1; }
    echo "listen_addresses = '127.0.0.1'" >>"/etc/postgresql/$version/roost/postgresql.conf"
  fi
  pg_ctlcluster "$version" roost start || { fail_or_notice "PostgreSQL cluster $version/roost did not start"; return 1; }
  for _ in $(seq 1 40); do pg_up && break; sleep 0.25; done
  pg_up || { fail_or_notice "PostgreSQL on 127.0.0.1:$PG_PORT does not answer"; return 1; }
  as_postgres "psql -q -p $PG_PORT -c \"ALTER USER postgres PASSWORD '$PG_PASSWORD'\"" >/dev/null
  as_postgres "psql -tA -p $PG_PORT -c \"SELECT 1 FROM pg_database WHERE datname = '$PG_DATABASE'\"" \
    | grep -q 1 || as_postgres "createdb -p $PG_PORT $PG_DATABASE"
  echo "services: PostgreSQL ready on 127.0.0.1:$PG_PORT"
}

ensure_postgres
exit 0
