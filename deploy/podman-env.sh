# Sourced by deploy/*.sh: how podman runs here. Each setting works on an ordinary Linux host as well.
#  - runtime runc: Debian bookworm's crun refuses hybrid cgroups (v1 controllers plus a cgroup2 hierarchy that
#    holds a controller: "cgroups in hybrid mode not supported"); runc runs there. RUNTIME=crun to override.
#  - ulimits within our own hard limits: rootful podman asks for nofile=1048576, which needs CAP_SYS_RESOURCE
#    (absent in some sandboxes: "setrlimit RLIMIT_NOFILE: Operation not permitted"); podman itself caps
#    nproc at 32768.
#  - the host's CA bundle, bound over the image's during the build only (and pip pointed at it by the base's
#    /etc/pip.conf): behind a TLS-inspecting proxy pip then trusts what the host trusts; nothing of it stays
#    in the image. CA_BUNDLE= (empty) to skip.
RUNTIME=${RUNTIME:-$(command -v runc >/dev/null && echo runc || echo crun)}
PODMAN=(podman --runtime "$RUNTIME")
_nofile=$(ulimit -Hn); [ "$_nofile" = unlimited ] && _nofile=1048576
_nproc=$(ulimit -Hu); { [ "$_nproc" = unlimited ] || [ "$_nproc" -gt 32768 ]; } && _nproc=32768
ULIMITS=(--ulimit "nofile=$_nofile:$_nofile" --ulimit "nproc=$_nproc:$_nproc")
CA_BUNDLE=${CA_BUNDLE-/etc/ssl/certs/ca-certificates.crt}
CA_MOUNT=()
[ -n "$CA_BUNDLE" ] && [ -f "$CA_BUNDLE" ] && CA_MOUNT=(-v "$CA_BUNDLE:/etc/ssl/certs/ca-certificates.crt:ro")
