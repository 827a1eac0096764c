#!/usr/bin/env bash
# A real Kubernetes control plane for tests, on loopback ports (docs/k8s-testenv.md):
# etcd, kube-apiserver, kube-controller-manager, kube-scheduler and KWOK (fake kubelets that
# make pods Ready, never Ready or fail as tests/k8s/stages.yaml says), with one Ready node.
#
#   bash scripts/k8s-cluster.sh DIR     # start a cluster in DIR (a fresh folder, removed at the end)
#
# When the cluster is usable it prints `KUBECONFIG=DIR/kubeconfig` and then `ready` on stdout,
# and it keeps running until its standard input closes (the test harness holds a pipe; a
# crashed harness closes it too) or it gets SIGTERM/SIGINT; then it stops every process it
# started, in reverse order, and removes DIR. Logs are in DIR/logs, printed to stderr when
# the start fails. The binaries come from .cache/go-tools/bin (bash scripts/go-tools.sh), or
# from GANTRY_K8S_BIN.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${GANTRY_K8S_BIN:-$root/.cache/go-tools/bin}"
dir="${1:?usage: bash scripts/k8s-cluster.sh DIR}"
log() { printf 'k8s-cluster: %s\n' "$*" >&2; }

for tool in etcd kube-apiserver kube-controller-manager kube-scheduler kwok kubectl; do
    [ -x "$bin/$tool" ] || { log "$bin/$tool is missing: run bash scripts/go-tools.sh"; exit 1; }
done
# DIR is removed at the end: never an existing folder with something in it.
if [ -e "$dir" ] && [ -n "$(ls -A "$dir" 2>/dev/null)" ]; then
    log "$dir exists and is not empty: give a new folder"
    exit 1
fi
mkdir -p "$dir"
dir="$(cd "$dir" && pwd)"
mkdir -p "$dir/pki" "$dir/logs" "$dir/etcd"
pids=()
reader=
stopping=0
stop() {
    [ "$stopping" -eq 1 ] && return
    stopping=1
    # Whatever fails here, the rest must still be stopped.
    set +e
    local i pid
    [ -n "$reader" ] && kill "$reader" 2>/dev/null
    for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
        pid="${pids[$i]}"
        kill -TERM "$pid" 2>/dev/null || continue
        for _ in $(seq 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$dir"
}
trap stop EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

fail() {
    log "$*"
    for f in "$dir"/logs/*.log; do
        [ -f "$f" ] || continue
        printf '\n---- %s (last 40 lines)\n' "$(basename "$f")" >&2
        tail -n 40 "$f" >&2
    done
    exit 1
}

# Free loopback ports, asked from the kernel (never the well-known ones).
read -r etcd_port peer_port api_port kcm_port sched_port kwok_port < <(python3 -c '
import socket
socks = [socket.socket() for _ in range(6)]
for s in socks: s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))')

# One CA; one certificate serving the API and authenticating the admin (system:masters);
# one key signing service-account tokens.
pki="$dir/pki"
(
    cd "$pki"
    openssl req -x509 -newkey rsa:2048 -nodes -days 3650 -subj /CN=gantry-test-ca \
        -keyout ca.key -out ca.crt
    openssl req -newkey rsa:2048 -nodes -subj "/O=system:masters/CN=gantry-test-admin" \
        -keyout admin.key -out admin.csr
    printf '%s\n' \
        'subjectAltName=DNS:localhost,IP:127.0.0.1,IP:10.96.0.1,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local' \
        'extendedKeyUsage=serverAuth,clientAuth' 'keyUsage=digitalSignature,keyEncipherment' >ext
    openssl x509 -req -in admin.csr -CA ca.crt -CAkey ca.key -CAcreateserial -days 3650 \
        -extfile ext -out admin.crt
    openssl genrsa -out sa.key 2048
) >"$dir/logs/pki.log" 2>&1 || fail "could not make the certificates"

kubeconfig="$dir/kubeconfig"
kc() { "$bin/kubectl" --kubeconfig "$kubeconfig" "$@"; }
{
    kc config set-cluster gantry-test --server="https://127.0.0.1:$api_port" \
        --certificate-authority="$pki/ca.crt" --embed-certs &&
        kc config set-credentials admin --client-certificate="$pki/admin.crt" \
            --client-key="$pki/admin.key" --embed-certs &&
        kc config set-context gantry-test --cluster=gantry-test --user=admin &&
        kc config use-context gantry-test
} >"$dir/logs/kubeconfig.log" 2>&1 || fail "could not write the kubeconfig"

# start NAME COMMAND...: runs it in the background, output to DIR/logs/NAME.log.
start() {
    local name="$1"
    shift
    "$@" >"$dir/logs/$name.log" 2>&1 &
    pids+=("$!")
}
# wait_for WHAT SECONDS COMMAND...: polls COMMAND every 0.2 s until it succeeds.
wait_for() {
    local what="$1" limit="$2" deadline
    shift 2
    deadline=$((SECONDS + limit))
    until "$@" >/dev/null 2>&1; do
        [ "$SECONDS" -lt "$deadline" ] || fail "$what: not ready after ${limit} s"
        local pid
        for pid in "${pids[@]}"; do
            kill -0 "$pid" 2>/dev/null || fail "$what: a process of the cluster exited"
        done
        sleep 0.2
    done
}
t0=$SECONDS

etcd_url="http://127.0.0.1:$etcd_port"
start etcd "$bin/etcd" --name=n0 --data-dir="$dir/etcd" --unsafe-no-fsync \
    --listen-client-urls="$etcd_url" --advertise-client-urls="$etcd_url" \
    --listen-peer-urls="http://127.0.0.1:$peer_port" \
    --initial-advertise-peer-urls="http://127.0.0.1:$peer_port" \
    --initial-cluster="n0=http://127.0.0.1:$peer_port" --auto-compaction-retention=1
start kube-apiserver "$bin/kube-apiserver" --etcd-servers="$etcd_url" \
    --bind-address=127.0.0.1 --advertise-address=127.0.0.1 --secure-port="$api_port" \
    --tls-cert-file="$pki/admin.crt" --tls-private-key-file="$pki/admin.key" \
    --client-ca-file="$pki/ca.crt" \
    --service-account-issuer=https://kubernetes.default.svc.cluster.local \
    --service-account-key-file="$pki/sa.key" --service-account-signing-key-file="$pki/sa.key" \
    --authorization-mode=Node,RBAC --allow-privileged=true \
    --endpoint-reconciler-type=none --service-cluster-ip-range=10.96.0.0/16
wait_for "kube-apiserver" 90 kc get --raw /readyz
log "API server ready after $((SECONDS - t0)) s"

start kube-controller-manager "$bin/kube-controller-manager" --kubeconfig="$kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$kcm_port" --leader-elect=false \
    --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics \
    --root-ca-file="$pki/ca.crt" --service-account-private-key-file="$pki/sa.key"
start kube-scheduler "$bin/kube-scheduler" --kubeconfig="$kubeconfig" \
    --bind-address=127.0.0.1 --secure-port="$sched_port" --leader-elect=false \
    --authorization-always-allow-paths=/healthz,/readyz,/livez,/metrics
start kwok "$bin/kwok" --kubeconfig="$kubeconfig" --manage-all-nodes=true \
    --node-lease-duration-seconds=40 --cidr=10.244.0.0/16 --node-ip=10.0.0.1 \
    --server-address="127.0.0.1:$kwok_port" --config="$root/tests/k8s/stages.yaml"

kc apply -f - >"$dir/logs/node.log" 2>&1 <<NODE || fail "could not create the node"
apiVersion: v1
kind: Node
metadata:
  name: kwok-node-0
  labels: {kubernetes.io/hostname: kwok-node-0, type: kwok}
  annotations: {kwok.x-k8s.io/node: fake}
NODE
wait_for "node kwok-node-0" 60 kc wait --for=condition=Ready node/kwok-node-0 --timeout=1s
wait_for "the default ServiceAccount" 60 kc get serviceaccount default -n default
log "cluster ready after $((SECONDS - t0)) s"

echo "KUBECONFIG=$kubeconfig"
echo "ready"
# Until the harness lets go: EOF on stdin (in the background, so that signals reach the traps).
# Bash gives background commands /dev/null as stdin unless told otherwise: hence the <&0.
cat <&0 >/dev/null &
reader=$!
wait "$reader" || true
