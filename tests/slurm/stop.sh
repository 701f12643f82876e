#!/usr/bin/env bash
# Stop what start.sh STATE_DIR started: cancel the jobs left, stop the daemons by pid in reverse order
# (slurmd, slurmctld, then munged if it started one), and remove the configuration it wrote.
set -uo pipefail
STATE=${1:?usage: stop.sh STATE_DIR}
MARK="# written by fineclipper tests/slurm/start.sh"

stop() {  # stop NAME PIDFILE: TERM, wait up to 10 s, then KILL
    local pid
    [[ -s $2 ]] || return 0
    pid=$(cat "$2")
    if kill -0 "$pid" 2>/dev/null && [[ $(cat /proc/"$pid"/comm 2>/dev/null) == "$1" ]]; then
        kill "$pid"
        for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    fi
    rm -f "$2"
}
# Cancel what is left of the test's jobs first (after a timeout, say): slurmstepd outlives slurmd.
if grep -qF "$MARK" /etc/slurm/slurm.conf 2>/dev/null && [[ -s $STATE/slurmctld.pid ]]; then
    squeue -h -o %i 2>/dev/null | xargs -r scancel
    for _ in $(seq 50); do [[ -z $(squeue -h -o %i 2>/dev/null) ]] && break; sleep 0.2; done
fi
stop slurmd "$STATE/slurmd.pid"
stop slurmctld "$STATE/slurmctld.pid"
stop munged "$STATE/munged.pid"
if grep -qF "$MARK" /etc/slurm/slurm.conf 2>/dev/null; then
    rm -f /etc/slurm/slurm.conf /etc/slurm/gres.conf
fi
