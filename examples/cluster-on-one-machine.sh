#!/usr/bin/env bash
# A weft cluster on one machine: a head (with a node beside it) and two more nodes, all on
# 127.0.0.1 in processes of their own; the options example runs on it through `weft submit`,
# then `weft status` shows the cluster and `weft stop` ends every process it started.
#
# Run from the repository, after `npx pnpm@12.4.2 install`:
#   bash examples/cluster-on-one-machine.sh
set -euo pipefail
cd "$(dirname "$0")/.."

weft() { node packages/cli/bin/weft.mjs "$@"; }
session="$(mktemp -d)/weft-session"
trap 'weft stop --session "$session"' EXIT

weft start --head --port 0 --num-cpus 1 --session "$session"
address="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).url)' "$session/head.json")"
token="$(cat "$session/token")"
weft start --address "$address" --token "$token" --num-cpus 1 --session "$session"
weft start --address "$address" --token "$token" --num-cpus 1 --session "$session"

# The example's working directory (this repository, minus node_modules and .gitignore'd files)
# is packed and shipped to the nodes; each imports the task module from its own copy.
weft submit --address "$address" --token "$token" --working-dir . -- node --import tsx examples/monte-carlo-options.ts 24 1000000
weft status --address "$address" --token "$token"
