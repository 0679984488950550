#!/usr/bin/env bash
# Creates the dev overlay's secrets with random values (nothing secret is kept in git) and
# prints the API tokens, as `make run` does. Usage: deploy/dev-secrets.sh [namespace]
set -euo pipefail
ns="${1:-omni-dev}"
rand() { python3 -c 'import secrets; print(secrets.token_urlsafe(24))'; }
pg="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
kubectl create namespace "$ns" --dry-run=client -o yaml | kubectl apply -f -
apply() { kubectl -n "$ns" create secret generic "$@" --dry-run=client -o yaml | kubectl apply -f -; }
apply postgres-admin --from-literal=password="$pg"
# A database URL for each service and for the console (its dashboard's read model).
for db in stock orders pickup returns console; do
  apply "omni-$db-database" \
    --from-literal=url="postgresql+asyncpg://omni:$pg@postgres:5432/$db"
done
# A Fernet key: 32 random bytes, url-safe base64 (pickup codes, the console's session cookie).
key32() { python3 -c 'import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())'; }
apply omni-pickup-code-key --from-literal=key="$(key32)"
apply omni-console-session-key --from-literal=key="$(key32)"
# A NATS password for each service, the console and the operator (who replays dead letters):
# NATS reads them all, each service its own (deploy/kustomize/nats/accounts.conf).
nats_users=()
for user in stock orders pickup returns console operator; do
  # A letter first: nats-server reads a password from its environment as configuration text.
  nats_users+=("--from-literal=OMNI_NATS_${user^^}_PASSWORD=n$(rand)")
done
apply omni-nats-users "${nats_users[@]}"
declare -A tokens
for role in storefront scanner associate manager service; do tokens[$role]="$(rand)"; done
json="["
for role in "${!tokens[@]}"; do
  store=""; [[ $role == associate || $role == manager ]] && store=', "store": "STORE-1"'
  json+="{\"token\": \"${tokens[$role]}\", \"role\": \"$role\", \"subject\": \"dev-$role\"$store},"
done
apply omni-auth-tokens --from-literal=tokens="${json%,}]"
echo "dev tokens (OMNI_TOKEN=... for the omni CLI):"
for role in "${!tokens[@]}"; do echo "  $role: ${tokens[$role]}"; done
