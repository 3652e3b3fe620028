#!/usr/bin/env bash
# What the README's first command costs from a fresh clone: a release build into an empty
# target directory, with every rustc run's CPU time (user + sys) recorded per crate. CPU time
# holds up on a shared machine where wall time does not.
#   bench/first-build.sh [REV]     # REV (default: the work tree) is built from a clean clone
# Prints the total CPU, rustc's share and runs, the wall time and the 15 dearest crates.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -n "${1:-}" ]; then
  git clone -q "$root" "$work/src" && git -C "$work/src" checkout -q "$1"
else
  mkdir "$work/src" && (cd "$root" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$work/src")
fi
cat > "$work/wrap" <<'W'
#!/usr/bin/env bash
rustc=$1; shift
name=-; prev=
for a in "$@"; do [ "$prev" = "--crate-name" ] && name=$a; prev=$a; done
exec /usr/bin/time -a -o "$RUSTC_CPU_LOG" -f "%U %S $name" "$rustc" "$@"
W
chmod +x "$work/wrap"
export RUSTC_CPU_LOG=$work/cpu.txt
(cd "$work/src" && RUSTC_WRAPPER=$work/wrap CARGO_TARGET_DIR=$work/target \
  /usr/bin/time -f "%e %U %S" -o "$work/wall" cargo build --release --locked -q </dev/null)
read -r wall user sys < "$work/wall"
awk -v wall="$wall" -v all="$user" -v sys="$sys" 'NF == 3 { t += $1 + $2; n++ }
  END { printf "release build: %.0f CPU-s (rustc %.0f of it, in %d runs; the rest is ring'"'"'s C, build scripts and cargo), %s s wall\n", all + sys, t, n, wall }' "$work/cpu.txt"
awk 'NF == 3 { cpu[$3] += $1 + $2 } END { for (c in cpu) printf "  %-28s %6.1f\n", c, cpu[c] }' "$work/cpu.txt" |
  sort -k2 -rn | head -15
