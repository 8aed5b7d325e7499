// The shell script the memory bench runs in a QEMU guest (as /x0vm/run.sh, busybox + the host's
// tools over 9p). Only the measured agent runs in the guest, as on a router: its peer and the
// MQTT broker run on the host, reached over QEMU's user-mode network (the host is 10.0.2.2; the
// peer dials in through a host forward). Then c/probe.c (static, resident) asks /health once a
// second for `durationS` seconds (10 s timeout) and samples the agent's smaps_rollup: no node
// and no process per sample, so the harness neither adds a V8 heap nor has its own binaries read
// back in over 9p in a small guest. Results go to /x0vm.
export interface GuestPlan {
  bundle: string;
  agentFlags: string[];
  durationS: number;
}

const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export function guestScript(p: GuestPlan): string {
  return `
R=/x0vm T=/tmp/x0
ip link set lo up
modprobe virtio_net
IF=$(ls /sys/class/net | grep -v '^lo$' | head -n1)
ip link set "$IF" up && ip addr add 10.0.2.15/24 dev "$IF" && ip route add default via 10.0.2.2
cat /proc/meminfo > $R/meminfo-start.txt
mkdir -p $T && cp -a $R/agent $T/agent && chmod 700 $T/agent
node ${p.agentFlags.join(' ')} ${q(p.bundle)} agent --config $R/agent.uci > $R/agent.log 2>&1 &
APID=$!
$R/probe $T/agent/status.sock $APID ${p.durationS} $R
grep -E '^(pgmajfault|pswpin|workingset_refault_file|oom_kill) ' /proc/vmstat > $R/vmstat.txt
cat /proc/meminfo > $R/meminfo.txt
dmesg > $R/dmesg.txt 2>&1
kill $APID
sleep 2
`;
}
