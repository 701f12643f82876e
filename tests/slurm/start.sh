#!/usr/bin/env bash
# Start a single-node SLURM on this machine for tests/test_slurm.py (or by hand): munged (unless one runs),
# slurmctld and slurmd, node "localhost" with this machine's CPUs and memory, partitions "cpu" (default)
# and "gpu" (one fake GPU, /dev/null). State, logs and pid files go to STATE_DIR; stop with stop.sh STATE_DIR.
# Needs root and Debian's slurmctld slurmd slurm-client munge packages. The config must be
# /etc/slurm/slurm.conf: the job-step plugin drops SLURM_CONF before srun inside a job.
set -euo pipefail
STATE=${1:?usage: start.sh STATE_DIR}
CONF=/etc/slurm/slurm.conf
MARK="# written by fineclipper tests/slurm/start.sh"

die() { echo "start.sh: $*" >&2; exit 1; }
[[ $(id -u) == 0 ]] || die "needs root (writes $CONF, runs munged as munge)"
for cmd in munged munge unmunge slurmctld slurmd sbatch squeue sinfo; do
    command -v "$cmd" >/dev/null || die "$cmd not found: apt-get install -y slurmctld slurmd slurm-client munge"
done
if [[ -e $CONF ]] && ! grep -qF "$MARK" "$CONF"; then
    die "$CONF exists and is not ours: refusing to replace a real SLURM configuration"
fi
pgrep -x slurmctld >/dev/null && die "a slurmctld is already running (stop it, or stop.sh its STATE_DIR)"
pgrep -x slurmd >/dev/null && die "a slurmd is already running"

mkdir -p "$STATE"/{state,spool,log}
STATE=$(cd "$STATE" && pwd)

# munge: reuse a running munged, else start one (as user munge, default socket in /run/munge).
if ! munge -n 2>/dev/null | unmunge >/dev/null 2>&1; then
    install -d -o munge -g munge -m 0755 /run/munge
    runuser -u munge -- munged
    for _ in $(seq 50); do munge -n 2>/dev/null | unmunge >/dev/null 2>&1 && break; sleep 0.1; done
    munge -n | unmunge >/dev/null || die "munged did not come up (see /var/log/munge/munged.log)"
    cp /run/munge/munged.pid "$STATE/munged.pid"
fi

# The machine as slurmd sees it ("NodeName=vm CPUs=2 Boards=1 ... RealMemory=24105"), renamed localhost.
NODE=$(slurmd -C | head -1 | sed -E 's/^NodeName=[^ ]+ //')
cat > "$CONF" <<CONF
$MARK; state in $STATE
ClusterName=fineclipper-test
SlurmctldHost=localhost(127.0.0.1)
AuthType=auth/munge
CredType=cred/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
GresTypes=gpu
ReturnToService=2
SlurmUser=root
SlurmdUser=root
StateSaveLocation=$STATE/state
SlurmdSpoolDir=$STATE/spool
SlurmctldPidFile=$STATE/slurmctld.pid
SlurmdPidFile=$STATE/slurmd.pid
SlurmctldLogFile=$STATE/log/slurmctld.log
SlurmdLogFile=$STATE/log/slurmd.log
# No slurmdbd: every finished job is one line of this file (job id, name, partition, state, times).
AccountingStorageType=accounting_storage/none
JobAcctGatherType=jobacct_gather/none
JobCompType=jobcomp/filetxt
JobCompLoc=$STATE/jobcomp.txt
# Finished jobs stay visible to squeue (the plugin's status command without slurmdbd) for 5 minutes.
MinJobAge=300
SchedulerParameters=sched_interval=1
# A job that can never run here (more CPUs or memory than the node has) is refused, not left pending.
EnforcePartLimits=ALL
NodeName=localhost NodeAddr=127.0.0.1 $NODE Gres=gpu:1 State=UNKNOWN
PartitionName=cpu Nodes=localhost Default=YES MaxTime=INFINITE State=UP
PartitionName=gpu Nodes=localhost MaxTime=INFINITE State=UP
CONF
printf 'AutoDetect=off\nName=gpu File=/dev/null\n' > /etc/slurm/gres.conf

slurmctld -f "$CONF"
slurmd -f "$CONF" -N localhost
for _ in $(seq 100); do
    [[ $(sinfo -h -n localhost -o %T 2>/dev/null) == idle ]] && { echo "SLURM up: $(sinfo -h -o '%P %D %T %c %m %G' | tr '\n' ';')"; exit 0; }
    sleep 0.2
done
sinfo -N -l >&2 || true
tail -n 20 "$STATE/log/slurmctld.log" "$STATE/log/slurmd.log" >&2 || true
die "node localhost did not become idle"
