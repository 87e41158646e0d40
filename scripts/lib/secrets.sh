# The local stack's secrets: one env file per data dir (mode 0600), generated once, read by
# scripts/stack.sh. Sourced, not executed. Values are base64url (no quoting needed: no space, '$',
# quote or ':' — the last matters in Mosquitto's password file).

# 24 random bytes, base64url without padding: 192 bits, as the platform's own broker passwords
# (ingest/provisioning/broker-credentials.ts newBrokerPassword).
secret_random() {
  head -c 24 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'
}

# Prints the value of KEY in FILE; fails when absent or empty.
#   secret_get FILE KEY
secret_get() {
  local file=$1 key=$2 line
  [[ -f "$file" ]] || return 1
  line=$(grep -E "^${key}=" "$file" | tail -n 1) || return 1
  [[ -n "${line#*=}" ]] || return 1
  printf '%s\n' "${line#*=}"
}

# Sets KEY=VALUE in FILE (replacing an earlier value), keeping the file 0600 and replaced atomically.
#   secret_set FILE KEY VALUE
secret_set() {
  local file=$1 key=$2 value=$3 tmp
  tmp="$file.tmp.$$"
  (
    umask 077
    { [[ -f "$file" ]] && grep -vE "^${key}=" "$file" || true; } >"$tmp"
    printf '%s=%s\n' "$key" "$value" >>"$tmp"
  )
  chmod 600 "$tmp"
  mv "$tmp" "$file"
}

# Prints KEY's value, generating and storing a random one first if FILE has none.
#   secret_ensure FILE KEY
secret_ensure() {
  local file=$1 key=$2 v
  if v=$(secret_get "$file" "$key"); then
    printf '%s\n' "$v"
    return 0
  fi
  v=$(secret_random)
  secret_set "$file" "$key" "$v"
  printf '%s\n' "$v"
}

# Secret key name for a torg id: STACK_PROVISIONING_KEY_<ID>, '-' as '_', upper case.
secret_key_for_torg() {
  local id=${1//-/_}
  printf 'STACK_PROVISIONING_KEY_%s\n' "${id^^}"
}
