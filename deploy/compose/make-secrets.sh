#!/usr/bin/env bash
# Write the compose deployment's secrets (once): Elasticsearch's password, the JWT shared
# secret and the admin key's SHA-256. The admin key itself is printed once and never stored.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p secrets
chmod 700 secrets
umask 077
[ -s secrets/elastic_password ] || head -c 24 /dev/urandom | base64 | tr -d '/+=' >secrets/elastic_password
[ -s secrets/jwt_secret ] || head -c 48 /dev/urandom | base64 | tr -d '\n' >secrets/jwt_secret
if [ ! -s secrets/admin_key_sha256 ]; then
  key="$(head -c 32 /dev/urandom | base64 | tr -d '/+=\n')"
  printf '%s' "$key" | sha256sum | cut -d' ' -f1 >secrets/admin_key_sha256
  echo "admin key (shown once, keep it in your password manager): $key"
fi
echo "secrets written to $(pwd)/secrets"
