// The Node flags bin/netbird-proxy starts the process with (its shebang line; a unit test checks
// that the two agree). A young generation of a fixed 16 MB per semi-space: V8 starts it at 1 MB and
// grows it only while much survives a scavenge, which request garbage never does, so by default a
// busy proxy scavenges several times more often (bench/README.md, "Tail").
export const LAUNCHER_NODE_FLAGS: readonly string[] = ['--min-semi-space-size=16', '--max-semi-space-size=16'];
